import {
  bindOrEnsureConsumer,
  bindOrEnsureStream,
  ConfigError,
  connectNats,
  consumeDurable,
  type Logger,
  natsConnectOptions,
  Shutdown,
  startOpsServer,
} from '@mmm/common';
import { DUPLICATE_WINDOW_MS, streams, subjects } from '@mmm/schemas';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  nanos,
  RetentionPolicy,
  StorageType,
} from 'nats';
import type { Layout } from './clickhouse/replicas.js';
import { ClickHouseStore } from './clickhouse/store.js';
import type { IngestConfig } from './config.js';
import { BatchLoop } from './consumer.js';
import { DeadLetterSink, SERVICE } from './dead-letter.js';
import { createMetrics } from './metrics.js';
import { SqliteStore } from './sqlite/store.js';
import type { HistoryStore } from './store.js';

const RETRY_MAX_MS = 10_000;
const LAG_POLL_MS = 5_000;

export function createStore(config: IngestConfig, log?: Logger): HistoryStore {
  const ch = config.clickhouse;
  if (ch.url) {
    return new ClickHouseStore({
      url: ch.url,
      database: ch.database,
      user: ch.user,
      password: ch.password,
      layout: ch.layout as Layout,
      onFailover: (e) => log?.warn(e, 'ClickHouse replica failed; writing to the next one'),
      onTablesFailed: (url, error) => log?.warn({ url, error }, 'cannot create the tables on a ClickHouse replica yet'),
    });
  }
  return new SqliteStore(config.sqlite.path, { cacheMb: config.sqlite.cache_mb });
}

/** Waits (with backoff) until the store answers and its tables exist: ingest may start before ClickHouse. */
async function initStore(store: HistoryStore, log: Logger, signal: AbortSignal): Promise<void> {
  let delay = 250;
  for (;;) {
    try {
      await store.init();
      return;
    } catch (err) {
      if (store.kind === 'sqlite' || signal.aborted) throw err;
      log.warn({ err: (err as Error).message, retryInMs: delay }, 'history store not ready, waiting');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(RETRY_MAX_MS, delay * 2);
    }
  }
}

/** Never changes an existing stream: the hub stream is provisioned by `mmm streams provision` where it sources sites. */
async function ensureStreams(jsm: JetStreamManager, config: IngestConfig, log: Logger): Promise<boolean> {
  const common = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  const hub = await jsm.streams.info(config.ingest.stream).catch(() => undefined);
  if (!hub) {
    if (!config.ingest.ensure_streams || config.ingest.sites.length === 0) {
      throw new ConfigError(
        `stream ${config.ingest.stream} does not exist: provision the hub with \`mmm streams provision\`, or list the sites publishing to this server in [ingest] sites (with ensure_streams on)`,
        { section: 'ingest', key: 'sites' },
      );
    }
    const siteSubjects = config.ingest.sites.map((s) => subjects.siteAll(s));
    await bindOrEnsureStream(jsm, { name: config.ingest.stream, subjects: siteSubjects, ...common }, log);
    log.info({ stream: config.ingest.stream, subjects: siteSubjects }, 'created the hub stream');
  }
  const dlqSubject = subjects.deadLetter(SERVICE);
  const dlq = await jsm.streams.find(dlqSubject).catch(() => undefined);
  if (dlq) return true;
  if (config.ingest.ensure_streams) {
    await bindOrEnsureStream(
      jsm,
      { name: streams.deadLetters, subjects: [...streams.deadLetterSubjects], ...common },
      log,
    );
    return true;
  }
  log.warn({ subject: dlqSubject }, 'no stream captures dead letters: they are published but not kept');
  return false;
}

export interface RunningIngest {
  readonly opsPort: number;
  readonly loop: BatchLoop;
  stop(): Promise<void>;
  /** Resolves when the batch loop ends. */
  readonly done: Promise<void>;
}

/** Starts ingest: store, consumer, ops endpoint, retention timer. */
export async function startIngest(config: IngestConfig, log: Logger): Promise<RunningIngest> {
  const abort = new AbortController();
  const metrics = createMetrics();
  const store = createStore(config, log);
  const shutdown = new Shutdown(log);
  shutdown.add('store', () => store.close());
  try {
    await initStore(store, log, abort.signal);
    log.info({ store: store.kind, target: config.clickhouse.url ?? config.sqlite.path }, 'history store ready');

    const nc = await connectNats(natsConnectOptions(config.nats, 'mmm-ingest', config.file), log);
    shutdown.add('nats', () => nc.drain());
    const jsm = await nc.jetstreamManager();
    const durableDlq = await ensureStreams(jsm, config, log);
    const ackWaitMs = config.ingest.ack_wait * 1000;
    const consumerConfig = {
      durable_name: config.ingest.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ackWaitMs),
      max_deliver: -1,
      // Room for two batches in flight: a full fetch must never be cut short by the ack-pending limit.
      max_ack_pending: config.ingest.batch_max * 2,
    };
    // Provisioned by `mmm streams provision` where ingest's user may only pull and ack it.
    await bindOrEnsureConsumer(jsm, config.ingest.stream, consumerConfig, log);
    const deadLetters = new DeadLetterSink(nc, durableDlq, log);
    shutdown.add('dead letters', () => deadLetters.close());

    const loop = new BatchLoop({
      // Every copy of ingest binds the same durable: JetStream hands each pulled message to one of them.
      messages: (signal) =>
        consumeDurable({
          nc,
          stream: config.ingest.stream,
          durable: config.ingest.durable,
          maxMessages: config.ingest.batch_max,
          ensure: (j) => bindOrEnsureConsumer(j, config.ingest.stream, consumerConfig, log),
          signal,
          log,
          onRebind: (reason) => metrics.rebinds.inc({ reason: reason.split(':')[0] ?? reason }),
        }),
      store,
      deadLetters,
      metrics,
      log,
      stream: config.ingest.stream,
      batchMax: config.ingest.batch_max,
      batchMs: config.ingest.batch_ms,
      ackWaitMs,
    });

    const lag = setInterval(async () => {
      try {
        const info = await jsm.consumers.info(config.ingest.stream, config.ingest.durable);
        metrics.pending.set(info.num_pending);
        metrics.ackPending.set(info.num_ack_pending);
      } catch {
        // The broker may be away; the next poll tries again.
      }
    }, LAG_POLL_MS);
    shutdown.add('lag poll', () => clearInterval(lag));

    const policy = { rawDays: config.retention.raw_days, rollupDays: config.retention.rollup_days };
    const runRetention = async () => {
      try {
        const dropped = await store.retention(Date.now(), policy);
        for (const [table, n] of Object.entries(dropped)) if (n > 0) metrics.retentionDropped.inc({ table }, n);
        if (Object.values(dropped).some((n) => n > 0)) log.info({ dropped }, 'retention removed old history');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'retention failed; next run retries');
      }
    };
    const retention = setInterval(runRetention, config.retention.interval * 1000);
    void runRetention();
    shutdown.add('retention', () => clearInterval(retention));

    const ops = await startOpsServer({
      host: config.ingest.ops_host,
      port: config.ingest.ops_port,
      registry: metrics.registry,
      ready: () => !nc.isClosed() && loop.storeHealthy,
      health: () => ({ store: store.kind, storeHealthy: loop.storeHealthy, lastCommitAt: loop.lastCommitAt || null }),
    });
    shutdown.add('ops', () => ops.close());
    log.info({ opsPort: ops.port, stream: config.ingest.stream, durable: config.ingest.durable }, 'ingest running');

    const done = loop.run(abort.signal).catch((err) => {
      log.error({ err }, 'batch loop failed');
      throw err;
    });
    shutdown.add('batch loop', async () => {
      abort.abort();
      await done.catch(() => undefined);
    });
    return { opsPort: ops.port, loop, done, stop: () => shutdown.run() };
  } catch (err) {
    abort.abort();
    await shutdown.run();
    throw err;
  }
}
