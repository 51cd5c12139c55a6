import { consumers, streams } from '@mmm/schemas';
import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';

/** The rebuild consumer vanishes on its own this long after a crashed rebuild stopped pulling. */
const INACTIVE_THRESHOLD_MS = 60_000;

/**
 * Reads the hub stream from its first message to the last one present when the read began, through a fresh
 * ephemeral pull consumer without acks, handing every message to `onMessage`. Returns the last sequence read
 * (0 if the stream is empty). nats.js's ordered consumer delivers nothing on nats-server 2.9, so this creates
 * the ephemeral consumer explicitly.
 */
export async function readWholeStream(
  js: JetStreamClient,
  jsm: JetStreamManager,
  onMessage: (m: JsMsg) => Promise<void> | void,
  opts: { batch: number },
): Promise<number> {
  const info = await jsm.streams.info(streams.hub);
  const target = info.state.last_seq;
  if (info.state.messages === 0 || target === 0) return 0;
  // Named, so a least-privilege credential can be allowed exactly this reader; one left by a crash goes first.
  await jsm.consumers.delete(streams.hub, consumers.routeAnalysisRebuild).catch(() => undefined);
  const ci = await jsm.consumers.add(streams.hub, {
    name: consumers.routeAnalysisRebuild,
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
    inactive_threshold: INACTIVE_THRESHOLD_MS * 1_000_000,
  });
  const consumer = await js.consumers.get(streams.hub, ci.name);
  let last = 0;
  try {
    while (last < target) {
      const batch = await consumer.fetch({ max_messages: opts.batch, expires: 2000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        await onMessage(m);
        last = m.seq;
      }
      // Messages may have aged out of the stream meanwhile: stop when nothing is left to read.
      if (got === 0 && (await consumer.info()).num_pending === 0) break;
    }
  } finally {
    await jsm.consumers.delete(streams.hub, ci.name).catch(() => undefined);
  }
  return last;
}
