import { bindOrEnsureConsumer, consumeDurable, inBatchSpan } from '@mmm/common';
import { type DeadLetter, decodeEvent, type MeshEvent, SCHEMA_VERSION, subjects } from '@mmm/schemas';
import { AckPolicy, DeliverPolicy, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { ApiMetrics } from '../metrics.js';
import type { Db } from '../store/db.js';
import type { ProjectionWriter } from './apply.js';
import { type Changes, emptyChanges } from './changes.js';

/** Messages applied per SQLite transaction at most; a backlog replays in big batches, live traffic in small ones. */
const MAX_BATCH = 1000;
/** How long a message may wait for companions before its batch is committed: bounds live latency. */
const BATCH_DELAY_MS = 5;

export interface ConsumerOptions {
  nc: NatsConnection;
  db: Db;
  writer: ProjectionWriter;
  streams: readonly string[];
  durable: string;
  metrics: ApiMetrics;
  log: Logger;
  onChanges: (ch: Changes) => void;
}

/**
 * One durable pull consumer per stream. Messages are applied in one transaction per micro-batch and acked only after
 * the commit, so a crash redelivers them and the idempotent writer makes that a no-op.
 */
export class ProjectionConsumer {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  readonly lag = new Map<string, number>();
  connected = new Set<string>();

  constructor(private readonly o: ConsumerOptions) {}

  start(): void {
    for (const stream of this.o.streams) this.loops.push(this.run(stream));
  }

  private async run(stream: string): Promise<void> {
    const durable =
      stream === this.o.streams[0]
        ? this.o.durable
        : `${this.o.durable}-${stream.toLowerCase().replace(/[^a-z0-9]/g, '-')}`;
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000_000_000,
      max_ack_pending: 20_000,
    };
    const lagTimer = setInterval(() => {
      this.o.nc
        .jetstreamManager()
        .then((jsm) => jsm.consumers.info(stream, durable))
        .then((i) => {
          this.lag.set(stream, i.num_pending);
          this.o.metrics.consumerLag.set({ stream }, i.num_pending);
        })
        .catch(() => {});
    }, 2000);
    try {
      await this.drain(
        consumeDurable({
          nc: this.o.nc,
          stream,
          durable,
          maxMessages: MAX_BATCH,
          // Provisioned by `mmm streams provision` where the API's user may only pull and ack it.
          ensure: (jsm) => bindOrEnsureConsumer(jsm, stream, config, this.o.log),
          signal: this.abort.signal,
          log: this.o.log,
          onBound: (bound) => {
            if (bound) this.connected.add(stream);
            else this.connected.delete(stream);
            if (bound) this.o.log.info({ stream, durable }, 'projection consumer started');
          },
        }),
      );
    } catch (err) {
      if (!this.abort.signal.aborted)
        this.o.log.error({ err: (err as Error).message, stream }, 'projection consumer ended');
    } finally {
      clearInterval(lagTimer);
      this.connected.delete(stream);
    }
  }

  private async drain(messages: AsyncIterable<JsMsg>): Promise<void> {
    let batch: JsMsg[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const b = batch;
      batch = [];
      if (b.length) this.applyBatch(b);
    };
    for await (const m of messages) {
      batch.push(m);
      if (batch.length >= MAX_BATCH) flush();
      else timer ??= setTimeout(flush, BATCH_DELAY_MS);
    }
    flush();
  }

  private applyBatch(msgs: JsMsg[]): void {
    const ch = emptyChanges();
    const bad: { m: JsMsg; reason: string }[] = [];
    const events: { m: JsMsg; ev: MeshEvent }[] = [];
    for (const m of msgs) {
      const res = decodeEvent(m.subject, m.data);
      if (res.ok) events.push({ m, ev: res.value });
      else bad.push({ m, reason: res.error });
    }
    try {
      this.o.db.transaction(() =>
        this.o.writer.applyBatch(
          events.map((e) => e.ev),
          ch,
        ),
      )();
    } catch (err) {
      // The store failed (disk full, locked): leave the messages unacked so they are redelivered.
      this.o.metrics.storeErrors.inc({ op: 'apply' });
      this.o.log.error({ err }, 'projection batch failed; messages will be redelivered');
      for (const { m } of events) m.nak(1000);
      return;
    }
    for (const { m, ev } of events) {
      m.ack();
      this.o.metrics.eventsConsumed.inc({ kind: ev.kind, port: ev.kind === 'reception' ? ev.port : '' });
    }
    for (const { m, reason } of bad) this.deadLetter(m, reason);
    // The live push, linked to each message's publish span: the last hop of a packet's trace (agent -> API client).
    inBatchSpan('api live push', msgs, {}, () => this.o.onChanges(ch));
  }

  private deadLetter(m: JsMsg, reason: string): void {
    this.o.metrics.badEvents.inc({ reason: reason.split(':')[0] ?? 'invalid' });
    this.o.log.warn({ subject: m.subject, seq: m.seq, reason }, 'invalid event dead-lettered');
    const text = Buffer.from(m.data).toString('utf8');
    const utf8 = Buffer.from(text, 'utf8').equals(Buffer.from(m.data));
    const dl: DeadLetter = {
      v: SCHEMA_VERSION,
      kind: 'deadletter',
      service: 'api',
      at: Date.now(),
      reason,
      subject: m.subject,
      stream: m.info.stream,
      streamSeq: m.seq,
      payload: utf8 ? text : Buffer.from(m.data).toString('base64'),
      payloadEncoding: utf8 ? 'utf8' : 'base64',
    };
    try {
      this.o.nc.publish(subjects.deadLetter('api'), JSON.stringify(dl));
    } catch {
      // The DLQ is best effort; the message is acked either way so it does not block the stream.
    }
    m.term();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }
}
