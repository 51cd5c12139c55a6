import type { Logger } from '@mmm/common';
import { sleepUnlessAborted, withBatchSpan } from '@mmm/common';
import { decodeEvent, type MeshEvent } from '@mmm/schemas';
import type { JsMsg } from 'nats';
import { Batcher } from './batcher.js';
import { type DeadLetterSink, deadLetterOf } from './dead-letter.js';
import type { IngestMetrics } from './metrics.js';
import type { Item } from './plan/planner.js';
import type { HistoryStore } from './store.js';

export interface BatchLoopOptions {
  /**
   * The durable consumer's messages until the signal aborts, riding through broker faults (`consumeDurable`); the
   * loop stops when it ends.
   */
  messages: (signal: AbortSignal) => AsyncIterable<JsMsg>;
  store: HistoryStore;
  deadLetters: DeadLetterSink;
  metrics: IngestMetrics;
  log: Logger;
  stream: string;
  batchMax: number;
  batchMs: number;
  ackWaitMs: number;
  /** Called after each committed batch (tests and the ops endpoint). */
  onCommit?: (info: { messages: number; items: number }) => void;
}

/** Store retry backoff: doubles from 250 ms to 10 s; the batch is held (not acked) meanwhile. */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;

function portOf(ev: MeshEvent): string {
  return ev.kind === 'reception' ? ev.port : '';
}

/**
 * Fetch about one second or batchMax messages, dead-letter the invalid ones, store the rest, then ack them all.
 * Nothing is acked before the store committed; while the store is down the batch is retried with backoff and kept
 * from redelivery with in-progress acks.
 */
export class BatchLoop {
  storeHealthy = true;
  lastCommitAt = 0;
  private batcher: Batcher | undefined;

  constructor(private readonly o: BatchLoopOptions) {}

  async run(signal: AbortSignal): Promise<void> {
    const batcher = new Batcher(this.o.batchMax, this.o.batchMs);
    this.batcher = batcher;
    const pump = this.pump(batcher, signal);
    try {
      while (!signal.aborted) {
        const msgs = await batcher.next(signal);
        if (msgs.length === 0) continue;
        this.o.log.debug({ messages: msgs.length }, 'batch assembled');
        if (!(await this.handle(msgs, signal))) break;
      }
    } finally {
      await pump;
    }
  }

  /** Pulls continuously; re-binding after broker faults is the message source's job. */
  private async pump(batcher: Batcher, signal: AbortSignal): Promise<void> {
    try {
      for await (const m of this.o.messages(signal)) batcher.push(m);
    } catch (err) {
      if (!signal.aborted) this.o.log.error({ err: (err as Error).message }, 'consuming the hub stream failed');
    } finally {
      batcher.end();
    }
  }

  /** Returns false when stopped before the batch was stored (it will be redelivered). */
  async handle(msgs: JsMsg[], signal: AbortSignal): Promise<boolean> {
    const { metrics, log } = this.o;
    const items: Item[] = [];
    const at = Date.now();
    for (const m of msgs) {
      const res = decodeEvent(m.subject, m.data);
      if (res.ok) {
        items.push({ seq: m.info.streamSequence, subject: m.subject, event: res.value, redelivered: m.redelivered });
        metrics.events.inc({ kind: res.value.kind, port: portOf(res.value) });
      } else {
        log.warn({ subject: m.subject, seq: m.info.streamSequence, reason: res.error }, 'invalid event, dead-lettered');
        await this.o.deadLetters.publish(deadLetterOf(m, this.o.stream, res.error, at));
        metrics.deadLetters.inc();
      }
    }
    // One span per commit, linked to each message's publish span (the agent's), so a packet's trace reaches the store.
    const stored = await withBatchSpan('ingest store', msgs, { 'mesh.items': items.length }, () =>
      items.length > 0 ? this.store(items, msgs, signal) : true,
    );
    if (!stored) return false;
    for (const m of msgs) m.ack();
    this.lastCommitAt = Date.now();
    metrics.lastCommit.set(this.lastCommitAt / 1000);
    log.debug({ messages: msgs.length, items: items.length }, 'batch committed and acked');
    this.o.onCommit?.({ messages: msgs.length, items: items.length });
    return true;
  }

  private async store(items: Item[], msgs: JsMsg[], signal: AbortSignal): Promise<boolean> {
    const { metrics, log, store } = this.o;
    // In-progress acks keep JetStream from redelivering a batch that waits for the store.
    const keepAlive = setInterval(
      () => {
        for (const m of msgs) m.working();
        for (const m of this.batcher?.waiting ?? []) m.working();
      },
      Math.max(1_000, this.o.ackWaitMs / 3),
    );
    let suspect = items.some((i) => i.redelivered);
    let delay = RETRY_MIN_MS;
    try {
      while (!signal.aborted) {
        const end = metrics.batchSeconds.startTimer();
        try {
          const res = await store.write(items, Date.now(), suspect);
          end();
          this.storeHealthy = true;
          metrics.batches.inc();
          metrics.duplicates.inc(res.duplicates);
          for (const [table, n] of Object.entries(res.rows)) if (n > 0) metrics.rows.inc({ table }, n);
          return true;
        } catch (err) {
          this.storeHealthy = false;
          metrics.storeErrors.inc();
          log.warn({ err: (err as Error).message, retryInMs: delay }, 'store write failed; batch held, not acked');
          // A failed write may have stored part of the batch.
          suspect = true;
          await sleepUnlessAborted(delay, signal);
          delay = Math.min(RETRY_MAX_MS, delay * 2);
        }
      }
      return false;
    } finally {
      clearInterval(keepAlive);
    }
  }
}
