import type { Logger } from '@mmm/common';
import { sleepUnlessAborted, withBatchSpan } from '@mmm/common';
import { decodeEvent, type MeshEvent } from '@mmm/schemas';
import type { JsMsg } from 'nats';
import { Batcher } from './batcher.js';
import { type DeadLetterSink, deadLetterOf } from './dead-letter.js';
import type { IngestMetrics } from './metrics.js';
import type { Item } from './plan/planner.js';
import { type HistoryStore, HoldExpiredError } from './store.js';

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
/** Smallest batch after releases (see the hold deadline). */
const MIN_BATCH = 50;

function portOf(ev: MeshEvent): string {
  return ev.kind === 'reception' ? ev.port : '';
}

/**
 * Fetch about one second or batchMax messages, dead-letter the invalid ones, store the rest, then ack them all.
 * Nothing is acked before the store committed; while the store is down the batch is retried with backoff and kept
 * from redelivery with in-progress acks.
 *
 * A batch is held at most half of `ack_wait` from when its oldest message arrived (the hold deadline); past it the
 * copy writes none of its receptions and naks the batch. Why: with several copies on one durable, a consumer leader
 * change does not honour in-progress acks, so the new leader redelivers a message to another copy `ack_wait` after
 * the delivery it knows of. The first copy has by then stored the message (and the other copy's lookup sees it) or
 * given it up, so the two never write the same reception at once. A release halves the batch size, and batches
 * stored within a quarter of the hold double it again up to batchMax, so a store that has become slow makes
 * progress with smaller batches instead of releasing the same large batch forever.
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
    if (stored === 'released') return true;
    if (!stored) return false;
    for (const m of msgs) m.ack();
    this.lastCommitAt = Date.now();
    metrics.lastCommit.set(this.lastCommitAt / 1000);
    log.debug({ messages: msgs.length, items: items.length }, 'batch committed and acked');
    this.o.onCommit?.({ messages: msgs.length, items: items.length });
    return true;
  }

  private async store(items: Item[], msgs: JsMsg[], signal: AbortSignal): Promise<boolean | 'released'> {
    const { metrics, log, store } = this.o;
    const commitBy = (this.batcher?.oldestReceipt(msgs) ?? Date.now()) + this.o.ackWaitMs / 2;
    // In-progress acks keep JetStream from redelivering a batch that waits for the store.
    const keepAlive = setInterval(
      () => {
        for (const m of msgs) m.working();
        for (const m of this.batcher?.waiting ?? []) m.working();
      },
      Math.max(1_000, this.o.ackWaitMs / 3),
    );
    const release = (reason: string): 'released' => {
      // Redelivered at once (to any copy) and stored there as a suspect batch.
      for (const m of msgs) m.nak();
      metrics.released.inc(msgs.length);
      this.batcher?.resize(Math.max(MIN_BATCH, (this.batcher?.size ?? MIN_BATCH) / 2));
      log.warn({ messages: msgs.length, reason }, 'batch held past its deadline; released (nak), not written');
      return 'released';
    };
    let suspect = items.some((i) => i.redelivered);
    let delay = RETRY_MIN_MS;
    try {
      while (!signal.aborted) {
        if (Date.now() > commitBy) return release('store unavailable until the hold deadline');
        const end = metrics.batchSeconds.startTimer();
        try {
          const startedAt = Date.now();
          const res = await store.write(items, startedAt, suspect, commitBy);
          end();
          const batcher = this.batcher;
          if (batcher && batcher.size < this.o.batchMax && Date.now() - startedAt < this.o.ackWaitMs / 8)
            batcher.resize(Math.min(this.o.batchMax, batcher.size * 2));
          this.storeHealthy = true;
          metrics.batches.inc();
          metrics.duplicates.inc(res.duplicates);
          for (const [table, n] of Object.entries(res.rows)) if (n > 0) metrics.rows.inc({ table }, n);
          return true;
        } catch (err) {
          if (err instanceof HoldExpiredError) return release(err.message);
          this.storeHealthy = false;
          metrics.storeErrors.inc();
          log.warn({ err: (err as Error).message, retryInMs: delay }, 'store write failed; batch held, not acked');
          // A failed write may have stored part of the batch.
          suspect = true;
          // Wake by the hold deadline at the latest, so the batch is released on time.
          await sleepUnlessAborted(Math.min(delay, Math.max(0, commitBy - Date.now()) + 1), signal);
          delay = Math.min(RETRY_MAX_MS, delay * 2);
        }
      }
      return false;
    } finally {
      clearInterval(keepAlive);
    }
  }
}
