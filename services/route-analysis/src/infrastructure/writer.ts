import { JetStreamPublisher, type Logger } from '@mmm/common';
import { streams } from '@mmm/schemas';
import type { ConsumerMessages, JetStreamManager, JsMsg, NatsConnection } from 'nats';
import { Analyzer, type FlushPlan } from '../application/analyzer.js';
import { graphSettings, type RouteAnalysisConfig } from '../config.js';
import { applyWrites, listKeys, loadCheckpoint, openBucket } from './buckets.js';
import { deadLetter } from './dead-letter.js';
import { ensureHubConsumer } from './hub-consumer.js';
import type { RouteAnalysisMetrics } from './metrics.js';
import { readWholeStream } from './rebuild.js';

/** Links age out even when no event arrives: flush (and sweep) at least this often. */
export const SWEEP_INTERVAL_MS = 30_000;

/** The writer lease lapsed: this copy must not publish, write the snapshot or ack any more. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export interface WriterStats {
  readonly lastSeq: number;
  readonly links: number;
  readonly agents: number;
  readonly flushes: number;
  readonly rebuilt: boolean;
  readonly deadLetters: number;
}

export interface Writer {
  stats(): WriterStats;
  /** Resolves when the loop ended: after stop(), abort(), or because the lease was lost. */
  readonly done: Promise<void>;
  /** Stops fetching, flushes and acks what was processed (while the lease is held). */
  stop(): Promise<void>;
  /** Stops at once without writing anything more (the lease is gone). */
  abort(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface WriterContext {
  nc: NatsConnection;
  jsm: JetStreamManager;
  cfg: RouteAnalysisConfig;
  log: Logger;
  clock: () => number;
  metrics: RouteAnalysisMetrics;
  /** Rebuild from the start of the hub stream even when a checkpoint exists. */
  rebuild: boolean;
  hubLastSeq: number;
  /** Checked before every write: false once the writer lease may have passed to another copy. */
  mayWrite: () => boolean;
}

/**
 * The copy holding the writer lease: restores the checkpoint (or rebuilds), re-creates the durable consumer right
 * after it, then fetches, applies and flushes. Every flush first checks the lease, so a copy that lost it stops
 * before writing rather than after.
 */
export async function startWriter(x: WriterContext): Promise<Writer> {
  const { nc, jsm, cfg, log, clock, metrics } = x;
  const r = cfg.route_analysis;
  const js = nc.jetstream();
  const snapshotKv = await openBucket(js, r.bucket, r.replicas);
  const stateKv = await openBucket(js, r.state_bucket, r.replicas);
  const publisher = new JetStreamPublisher(js, { log });
  const settings = graphSettings(cfg);
  const maxAckPending = Math.max(2 * r.batch, 2000);
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  let flushes = 0;
  let deadLetters = 0;
  let unfinished: FlushPlan | undefined;
  const guard = () => {
    if (!x.mayWrite()) throw new LeaseLostError('the writer lease lapsed');
  };

  const execute = async (plan: FlushPlan, analyzer: Analyzer) => {
    guard();
    const end = metrics.flushSeconds.startTimer();
    await Promise.all(
      plan.updates.map(async (u) => {
        await publisher.publish(u.subject, new TextEncoder().encode(JSON.stringify(u.event)), u.msgId);
        metrics.updates.inc({ type: u.event.type });
      }),
    );
    guard();
    const { skipped } = await applyWrites(snapshotKv, plan.snapshot, maxPayload);
    if (skipped.length > 0) {
      metrics.snapshotSkipped.inc(skipped.length);
      log.warn(
        { keys: skipped },
        'snapshot values too large for one message were not written; per-link keys are complete',
      );
    }
    guard();
    await applyWrites(stateKv, plan.state, maxPayload);
    flushes++;
    metrics.lastSeq.set(plan.lastSeq);
    metrics.links.set(analyzer.graph.linkCount);
    end();
  };

  const handle = async (analyzer: Analyzer, m: JsMsg) => {
    const res = analyzer.handle(m.seq, m.subject, m.data);
    if (res.status === 'applied') metrics.events.inc({ result: 'applied' });
    else if (res.status === 'duplicate') metrics.events.inc({ result: 'duplicate' });
    else {
      metrics.events.inc({ result: 'invalid' });
      deadLetters++;
      log.warn({ subject: m.subject, seq: m.seq, reason: res.reason }, 'invalid event dead-lettered');
      await deadLetter(
        publisher,
        { subject: m.subject, seq: m.seq, data: m.data, msgId: m.headers?.get('Nats-Msg-Id') },
        res.reason,
        clock(),
      );
    }
  };

  const rebuild = async (): Promise<Analyzer> => {
    const started = clock();
    const fresh = Analyzer.fresh(settings);
    const last = await readWholeStream(js, jsm, (m) => handle(fresh, m), { batch: r.batch });
    const previous = { snapshotKeys: await listKeys(snapshotKv), stateKeys: await listKeys(stateKv) };
    await execute(fresh.fullPlan(clock(), previous), fresh);
    guard();
    await ensureHubConsumer(jsm, r.durable, { startSeq: last + 1, recreate: true, maxAckPending });
    log.info(
      { lastSeq: last, links: fresh.graph.linkCount, ms: clock() - started },
      'rebuilt the topology from the hub stream',
    );
    return fresh;
  };

  let analyzer: Analyzer;
  let rebuilt = false;
  const configure = (a: Analyzer) => {
    a.linksIndexIntervalMs = r.links_interval;
    return a;
  };
  const checkpoint = x.rebuild ? undefined : await loadCheckpoint(stateKv);
  if (!checkpoint) {
    log.info({ reason: x.rebuild ? '--rebuild' : 'no checkpoint' }, 'rebuilding from the start of the hub stream');
    analyzer = configure(await rebuild());
    rebuilt = true;
  } else if (checkpoint.meta.lastSeq > x.hubLastSeq) {
    // The hub stream was recreated: sequences restarted, so the checkpoint's position means nothing any more.
    log.warn(
      { checkpoint: checkpoint.meta.lastSeq, hub: x.hubLastSeq },
      'hub stream is behind the checkpoint; rebuilding',
    );
    analyzer = configure(await rebuild());
    rebuilt = true;
  } else {
    analyzer = configure(Analyzer.restore(settings, checkpoint.state, checkpoint.meta));
    // The checkpoint, not the consumer's ack floor, says where we are. Events the previous writer had fetched but
    // not acked would come back only after ack_wait, behind newer ones, and look already counted: start the durable
    // again right after the checkpoint so everything after it arrives once and in order.
    guard();
    await ensureHubConsumer(jsm, r.durable, { startSeq: checkpoint.meta.lastSeq + 1, maxAckPending, recreate: true });
    log.info({ lastSeq: checkpoint.meta.lastSeq, links: checkpoint.state.links.length }, 'resumed from checkpoint');
  }
  metrics.links.set(analyzer.graph.linkCount);
  metrics.lastSeq.set(analyzer.lastSeq);

  let stopping = false;
  let aborted = false;
  let current: ConsumerMessages | undefined;
  const consumer = await js.consumers.get(streams.hub, r.durable);
  const loop = (async () => {
    let held: JsMsg[] = [];
    // Cadence runs on the monotonic clock; `clock` only dates the graph (tests pin it to age links deterministically).
    let lastFlush = performance.now();
    const flush = async () => {
      unfinished ??= analyzer.flush(clock());
      await execute(unfinished, analyzer);
      unfinished = undefined;
      for (const m of held) m.ack();
      held = [];
      lastFlush = performance.now();
    };
    while (!aborted && (!stopping || held.length > 0 || unfinished)) {
      try {
        if (unfinished) {
          await flush();
          continue;
        }
        if (!stopping) {
          current = await consumer.fetch({ max_messages: r.batch, expires: Math.max(1000, r.flush_interval) });
          for await (const m of current) {
            await handle(analyzer, m);
            held.push(m);
          }
          log.trace({ held: held.length, lastSeq: analyzer.lastSeq }, 'fetched');
        }
        const since = performance.now() - lastFlush;
        if (
          stopping ||
          // A held-back rewrite of the links array goes out once its interval passed, even when idle.
          ((held.length > 0 || analyzer.snapshotPending) && since >= r.flush_interval) ||
          held.length >= maxAckPending / 2 ||
          since >= SWEEP_INTERVAL_MS
        ) {
          await flush();
        }
      } catch (err) {
        if (nc.isClosed() || err instanceof LeaseLostError || aborted) break;
        log.warn({ err }, 'route analysis loop failed; retrying');
        await sleep(1000);
      }
    }
  })();
  const done = loop.then(async () => {
    await publisher.drain().catch(() => undefined);
    publisher.close();
  });

  return {
    stats: () => ({
      lastSeq: analyzer.lastSeq,
      links: analyzer.graph.linkCount,
      agents: analyzer.graph.agentCount,
      flushes,
      rebuilt,
      deadLetters,
    }),
    done,
    stop: async () => {
      stopping = true;
      current?.stop();
      await done;
    },
    abort: async () => {
      aborted = true;
      current?.stop();
      await done;
    },
  };
}
