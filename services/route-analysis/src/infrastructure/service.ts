import { bindOrEnsureStream, connectNats, JetStreamPublisher, type Logger, natsTls } from '@mmm/common';
import { DUPLICATE_WINDOW_MS, streams } from '@mmm/schemas';
import {
  type ConsumerMessages,
  DiscardPolicy,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  RetentionPolicy,
  StorageType,
} from 'nats';
import { Analyzer, type FlushPlan } from '../application/analyzer.js';
import { graphSettings, type RouteAnalysisConfig } from '../config.js';
import { applyWrites, listKeys, loadCheckpoint, openBucket } from './buckets.js';
import { deadLetter } from './dead-letter.js';
import { ensureHubConsumer } from './hub-consumer.js';
import { createMetrics, type RouteAnalysisMetrics } from './metrics.js';
import { readWholeStream } from './rebuild.js';

/** Links age out even when no event arrives: flush (and sweep) at least this often. */
export const SWEEP_INTERVAL_MS = 30_000;
const WAIT_LOG_MS = 10_000;

export interface RouteAnalysisOptions {
  log: Logger;
  /** Rebuild from the start of the hub stream even when a checkpoint exists. */
  rebuild?: boolean;
  /** Wall clock for ageing links and dating updates (default Date.now). */
  clock?: () => number;
}

export interface RouteAnalysisStats {
  readonly lastSeq: number;
  readonly links: number;
  readonly agents: number;
  readonly flushes: number;
  readonly rebuilt: boolean;
  readonly deadLetters: number;
}

export interface RunningRouteAnalysis {
  readonly nc: NatsConnection;
  readonly metrics: RouteAnalysisMetrics;
  stats(): RouteAnalysisStats;
  ready(): boolean;
  /** Stops fetching, flushes and acks what was processed, drains the connection. */
  stop(): Promise<void>;
}

const ns = (ms: number) => ms * 1_000_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startRouteAnalysis(
  cfg: RouteAnalysisConfig,
  opts: RouteAnalysisOptions,
): Promise<RunningRouteAnalysis> {
  const { log } = opts;
  const clock = opts.clock ?? Date.now;
  const nc = await connectNats(
    {
      servers: cfg.nats.url.split(',').map((s) => s.trim()),
      name: 'mmm-route-analysis',
      user: cfg.nats.user,
      pass: cfg.nats.password,
      token: cfg.nats.token,
      creds: cfg.nats.creds,
      inboxPrefix: cfg.nats.inbox_prefix,
      tls: natsTls(cfg.nats, cfg.file),
    },
    log,
  );
  try {
    return await run(nc, cfg, opts, clock);
  } catch (err) {
    await nc.close();
    throw err;
  }
}

async function run(nc: NatsConnection, cfg: RouteAnalysisConfig, opts: RouteAnalysisOptions, clock: () => number) {
  const { log } = opts;
  const r = cfg.route_analysis;
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const common = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: ns(DUPLICATE_WINDOW_MS),
  };
  await bindOrEnsureStream(jsm, { name: streams.derived, subjects: [...streams.derivedSubjects], ...common }, log);
  await bindOrEnsureStream(
    jsm,
    { name: streams.deadLetters, subjects: [...streams.deadLetterSubjects], ...common },
    log,
  );
  const hubLastSeq = await waitForHubStream(jsm, log);
  const snapshotKv = await openBucket(js, r.bucket);
  const stateKv = await openBucket(js, r.state_bucket);
  const publisher = new JetStreamPublisher(js, { log });
  const metrics = createMetrics();
  const settings = graphSettings(cfg);
  const maxAckPending = Math.max(2 * r.batch, 2000);
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  let flushes = 0;
  let deadLetters = 0;
  let unfinished: FlushPlan | undefined;

  const execute = async (plan: FlushPlan, analyzer: Analyzer) => {
    const end = metrics.flushSeconds.startTimer();
    await Promise.all(
      plan.updates.map(async (u) => {
        await publisher.publish(u.subject, new TextEncoder().encode(JSON.stringify(u.event)), u.msgId);
        metrics.updates.inc({ type: u.event.type });
      }),
    );
    const { skipped } = await applyWrites(snapshotKv, plan.snapshot, maxPayload);
    if (skipped.length > 0) {
      metrics.snapshotSkipped.inc(skipped.length);
      log.warn(
        { keys: skipped },
        'snapshot values too large for one message were not written; per-link keys are complete',
      );
    }
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
  const checkpoint = opts.rebuild ? undefined : await loadCheckpoint(stateKv);
  if (!checkpoint) {
    log.info({ reason: opts.rebuild ? '--rebuild' : 'no checkpoint' }, 'rebuilding from the start of the hub stream');
    analyzer = configure(await rebuild());
    rebuilt = true;
  } else if (checkpoint.meta.lastSeq > hubLastSeq) {
    // The hub stream was recreated: sequences restarted, so the checkpoint's position means nothing any more.
    log.warn(
      { checkpoint: checkpoint.meta.lastSeq, hub: hubLastSeq },
      'hub stream is behind the checkpoint; rebuilding',
    );
    analyzer = configure(await rebuild());
    rebuilt = true;
  } else {
    analyzer = configure(Analyzer.restore(settings, checkpoint.state, checkpoint.meta));
    // The checkpoint, not the consumer's ack floor, says where we are. Events the previous process had fetched but
    // not acked would come back only after ack_wait, behind newer ones, and look already counted: start the durable
    // again right after the checkpoint so everything after it arrives once and in order.
    await ensureHubConsumer(jsm, r.durable, { startSeq: checkpoint.meta.lastSeq + 1, maxAckPending, recreate: true });
    log.info({ lastSeq: checkpoint.meta.lastSeq, links: checkpoint.state.links.length }, 'resumed from checkpoint');
  }
  metrics.links.set(analyzer.graph.linkCount);
  metrics.lastSeq.set(analyzer.lastSeq);

  let stopping = false;
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
    while (!stopping || held.length > 0 || unfinished) {
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
        if (nc.isClosed()) break;
        log.warn({ err }, 'route analysis loop failed; retrying');
        await sleep(1000);
      }
    }
  })();

  return {
    nc,
    metrics,
    stats: () => ({
      lastSeq: analyzer.lastSeq,
      links: analyzer.graph.linkCount,
      agents: analyzer.graph.agentCount,
      flushes,
      rebuilt,
      deadLetters,
    }),
    ready: () => !stopping && !nc.isClosed(),
    stop: async () => {
      stopping = true;
      current?.stop();
      await loop;
      await publisher.drain();
      publisher.close();
      if (!nc.isClosed()) await nc.drain();
    },
  };
}

async function waitForHubStream(jsm: JetStreamManager, log: Logger): Promise<number> {
  let lastLog = 0;
  for (;;) {
    try {
      return (await jsm.streams.info(streams.hub)).state.last_seq;
    } catch (err) {
      if ((err as { code?: string }).code === 'CONNECTION_CLOSED') throw err;
      if (Date.now() - lastLog > WAIT_LOG_MS) {
        log.warn(
          { err: (err as Error).message },
          `waiting for the hub stream ${streams.hub} (create it with: mmm streams provision)`,
        );
        lastLog = Date.now();
      }
      await sleep(1000);
    }
  }
}
