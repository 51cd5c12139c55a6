import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { bindOrEnsureStream, connectNats, type Logger, natsConnectOptions } from '@mmm/common';
import { DUPLICATE_WINDOW_MS, streams } from '@mmm/schemas';
import { DiscardPolicy, type JetStreamManager, type NatsConnection, nanos, RetentionPolicy, StorageType } from 'nats';
import type { RouteAnalysisConfig } from '../config.js';
import { WriterLease } from './lease.js';
import { createMetrics, type RouteAnalysisMetrics } from './metrics.js';
import { LeaseLostError, startWriter, type Writer, type WriterStats } from './writer.js';

export { SWEEP_INTERVAL_MS } from './writer.js';

const WAIT_LOG_MS = 10_000;
/** A standby tries to take the lease this often: takeover within TTL + this of the writer's death. */
const STANDBY_POLL_MS = 1000;

export interface RouteAnalysisOptions {
  log: Logger;
  /** Rebuild from the start of the hub stream even when a checkpoint exists. */
  rebuild?: boolean;
  /** Wall clock for ageing links and dating updates (default Date.now). */
  clock?: () => number;
}

export type Role = 'writer' | 'standby';

export interface RouteAnalysisStats extends WriterStats {
  /** Only the writer consumes and writes; a standby waits for the lease. */
  readonly role: Role;
  readonly holder: string;
}

export interface RunningRouteAnalysis {
  readonly nc: NatsConnection;
  readonly metrics: RouteAnalysisMetrics;
  stats(): RouteAnalysisStats;
  ready(): boolean;
  /** Stops fetching, flushes and acks what was processed, gives up the lease, drains the connection. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startRouteAnalysis(
  cfg: RouteAnalysisConfig,
  opts: RouteAnalysisOptions,
): Promise<RunningRouteAnalysis> {
  const { log } = opts;
  const nc = await connectNats(natsConnectOptions(cfg.nats, 'mmm-route-analysis', cfg.file), log);
  try {
    return await supervise(nc, cfg, opts);
  } catch (err) {
    await nc.close();
    throw err;
  }
}

/**
 * Any number of copies may run: they agree on one writer through a KV lease (see lease.ts). The writer consumes the
 * hub stream and writes; the others stand by, trying to take the lease every second, and the first to succeed after
 * the writer's death (its lease lapses after `lease_ttl`) resumes from the shared checkpoint.
 */
async function supervise(
  nc: NatsConnection,
  cfg: RouteAnalysisConfig,
  opts: RouteAnalysisOptions,
): Promise<RunningRouteAnalysis> {
  const { log } = opts;
  const clock = opts.clock ?? Date.now;
  const r = cfg.route_analysis;
  const jsm = await nc.jetstreamManager();
  const common = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: r.replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  await bindOrEnsureStream(jsm, { name: streams.derived, subjects: [...streams.derivedSubjects], ...common }, log);
  await bindOrEnsureStream(
    jsm,
    { name: streams.deadLetters, subjects: [...streams.deadLetterSubjects], ...common },
    log,
  );
  await waitForHubStream(jsm, log);
  const holder = `${r.instance_id || `${hostname()}-${process.pid}`}:${randomUUID().slice(0, 8)}`;
  const lease = await WriterLease.open(nc.jetstream(), {
    bucket: r.lease_bucket,
    ttlMs: r.lease_ttl * 1000,
    holder,
    replicas: r.replicas,
  });
  const metrics = createMetrics();
  let writer: Writer | undefined;
  let last: WriterStats = { lastSeq: 0, links: 0, agents: 0, flushes: 0, rebuilt: false, deadLetters: 0 };
  let stopping = false;
  let wake: () => void = () => undefined;
  const nap = (ms: number) =>
    new Promise<void>((res) => {
      const t = setTimeout(res, ms);
      wake = () => {
        clearTimeout(t);
        res();
      };
    });
  let firstTerm = true;
  /** Start returns once this copy knows its role, and as the writer once it restored or rebuilt the topology. */
  let settled: () => void = () => undefined;
  const firstRole = new Promise<void>((res) => {
    settled = res;
  });

  /** One term as the writer: from taking the lease until stop, loss of the lease, or the writer failing. */
  const term = async () => {
    log.info({ holder }, 'took the writer lease: this copy writes the topology');
    metrics.writer.set(1);
    let lost = false;
    const renewing = (async () => {
      while (!stopping && !lost) {
        await nap(lease.renewEveryMs);
        if (stopping) break;
        try {
          if (!(await lease.renew())) lost = true;
        } catch (err) {
          if (!lease.held()) lost = true;
          else log.warn({ err: (err as Error).message }, 'could not renew the writer lease yet');
        }
      }
      if (lost) await writer?.abort();
    })();
    try {
      // Read at every term: a standby that takes over hours later compares the checkpoint with today's stream.
      const hubLastSeq = await waitForHubStream(jsm, log);
      writer = await startWriter({
        nc,
        jsm,
        cfg,
        log,
        clock,
        metrics,
        rebuild: opts.rebuild === true && firstTerm,
        hubLastSeq,
        mayWrite: () => !lost && lease.held(),
      });
      firstTerm = false;
      settled();
      if (stopping) await writer.stop();
      await writer.done;
    } catch (err) {
      if (!(err instanceof LeaseLostError)) log.error({ err }, 'route analysis writer failed');
    } finally {
      if (writer) last = writer.stats();
      writer = undefined;
      lost = lost || !stopping;
      wake();
      await renewing;
      metrics.writer.set(0);
    }
    if (!stopping) {
      log.warn({ holder }, 'lost the writer lease (or the writer failed); standing by');
      await lease.release();
      await nap(STANDBY_POLL_MS);
    }
  };

  const loop = (async () => {
    while (!stopping) {
      let acquired = false;
      try {
        acquired = await lease.tryAcquire();
      } catch (err) {
        if (nc.isClosed()) break;
        log.warn({ err: (err as Error).message }, 'cannot reach the writer lease; retrying');
      }
      if (acquired) await term();
      else {
        settled();
        await nap(STANDBY_POLL_MS);
      }
    }
    settled();
  })();
  await firstRole;
  log.info({ holder, role: writer ? 'writer' : 'standby', ttlS: r.lease_ttl }, 'route analysis started');

  return {
    nc,
    metrics,
    stats: () => ({ ...(writer?.stats() ?? last), role: writer ? 'writer' : 'standby', holder }),
    ready: () => !stopping && !nc.isClosed(),
    stop: async () => {
      stopping = true;
      const w = writer;
      wake();
      if (w) await w.stop();
      await loop;
      await lease.release();
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
