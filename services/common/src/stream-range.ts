import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  nanos,
} from 'nats';

export interface StreamRangeOptions {
  stream: string;
  /**
   * A fixed consumer name, for a least-privilege credential that may create exactly this reader (one left behind by
   * a crashed read is deleted first). Without it the server names an ephemeral consumer.
   */
  name?: string;
  filter?: string;
  /** Where to start: the first message (default), a stream sequence, or a time (epoch ms). */
  from?: { seq: number } | { timeMs: number };
  /** Stop once this sequence was read (e.g. the stream's last sequence before the read), though more keep coming. */
  untilSeq?: number;
  /** Messages per fetch (default 1000). */
  batch?: number;
  /** Give up after this long (default: no limit); the result says how many were left. */
  deadlineMs?: number;
  /** The server removes the consumer this long after a crashed reader stopped pulling (default 30 s). */
  inactiveThresholdMs?: number;
  /** Told how many messages are pending from the start point when the read begins (a progress total). */
  onStart?: (pending: number) => void;
}

export interface StreamRangeResult {
  /** Messages handed to onMessage. */
  read: number;
  /** Stream sequence of the last one (0 if none). */
  lastSeq: number;
  /** Messages that were still pending when the read stopped (0 when it read everything up to its start). */
  left: number;
}

/**
 * Reads a stream from a start point to what was pending when the read began, through a plain pull consumer without
 * acks that is deleted afterwards. Not nats.js's ordered consumer: on nats-server 2.9 it can deliver nothing, and
 * against a restarting server it is re-created without end, so a read could hang; here a server that is not ready
 * makes the call fail and the caller decides whether to try again.
 */
export async function readStreamRange(
  js: JetStreamClient,
  jsm: JetStreamManager,
  opts: StreamRangeOptions,
  onMessage: (m: JsMsg) => Promise<void> | void,
): Promise<StreamRangeResult> {
  if (opts.name) await jsm.consumers.delete(opts.stream, opts.name).catch(() => undefined);
  const from = opts.from;
  const start: Partial<ConsumerConfig> =
    from === undefined
      ? { deliver_policy: DeliverPolicy.All }
      : 'seq' in from
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.seq }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(from.timeMs).toISOString() };
  const ci = await jsm.consumers.add(opts.stream, {
    ...(opts.name ? { name: opts.name } : {}),
    ...(opts.filter ? { filter_subject: opts.filter } : {}),
    ...start,
    ack_policy: AckPolicy.None,
    inactive_threshold: nanos(opts.inactiveThresholdMs ?? 30_000),
  });
  const result: StreamRangeResult = { read: 0, lastSeq: 0, left: ci.num_pending };
  opts.onStart?.(ci.num_pending);
  const deadline = opts.deadlineMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.deadlineMs;
  try {
    const consumer = await js.consumers.get(opts.stream, ci.name);
    const until = opts.untilSeq ?? Number.POSITIVE_INFINITY;
    while (result.left > 0 && result.lastSeq < until && Date.now() < deadline) {
      const fetched = await consumer.fetch({ max_messages: Math.min(opts.batch ?? 1000, result.left), expires: 2000 });
      let got = 0;
      for await (const m of fetched) {
        got++;
        result.read++;
        result.lastSeq = m.seq;
        result.left = m.info.pending;
        await onMessage(m);
      }
      // Messages may have aged out of the stream meanwhile: nothing delivered means nothing is left to read.
      if (got === 0) break;
    }
  } finally {
    await jsm.consumers.delete(opts.stream, ci.name).catch(() => undefined);
  }
  return result;
}
