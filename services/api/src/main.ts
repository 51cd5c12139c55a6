import { isIP } from 'node:net';
import { ConfigError, connectNats, JetStreamPublisher, natsConnectOptions } from '@mmm/common';
import { streams, tokenProblem } from '@mmm/schemas';
import type { FastifyInstance } from 'fastify';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { AlertsAccess } from './alerts/access.js';
import type { ApiConfig } from './config.js';
import { selectHistory } from './history/select.js';
import { buildApp } from './http/app.js';
import { AuthTokens } from './http/auth/sources.js';
import { LiveHub } from './live/hub.js';
import { type ApiMetrics, createMetrics } from './metrics.js';
import { ProjectionWriter } from './projection/apply.js';
import { ProjectionConsumer } from './projection/consumer.js';
import { type Db, openDb } from './store/db.js';

const PRUNE_EVERY_MS = 10 * 60 * 1000;

export interface ApiService {
  app: FastifyInstance;
  db: Db;
  nc: NatsConnection;
  metrics: ApiMetrics;
  consumer: ProjectionConsumer;
  live: LiveHub;
  /** The bound port (useful with port 0). */
  port: number;
  /** Re-reads `[auth] tokens_file` (on SIGHUP); false when it failed and the previous tokens stay in force. */
  reloadAuth(): boolean;
  close(): Promise<void>;
}

/** key -> agent id; every agent id must be usable as a subject token and every key unique. */
export function keyMap(cfg: ApiConfig): Map<string, string> {
  const out = new Map<string, string>();
  for (const [agent, key] of Object.entries(cfg.api_keys.entries)) {
    const problem = tokenProblem(agent);
    if (problem) throw new ConfigError(`agent id ${problem}`, { file: cfg.file, section: 'api_keys', key: agent });
    if (key.length < 8)
      throw new ConfigError('API key must be at least 8 characters', {
        file: cfg.file,
        section: 'api_keys',
        key: agent,
      });
    if (out.has(key))
      throw new ConfigError(`the same key is also bound to ${out.get(key)}; a key may serve one agent only`, {
        file: cfg.file,
        section: 'api_keys',
        key: agent,
      });
    out.set(key, agent);
  }
  return out;
}

function validate(cfg: ApiConfig): void {
  const p = tokenProblem(cfg.server.instance_id);
  if (p) throw new ConfigError(`instance id ${p}`, { file: cfg.file, section: 'server', key: 'instance_id' });
  const s = tokenProblem(cfg.legacy.site);
  if (s || ['derived', 'dlq'].includes(cfg.legacy.site)) {
    throw new ConfigError(`site id ${s ?? 'is reserved'}`, { file: cfg.file, section: 'legacy', key: 'site' });
  }
  for (const entry of cfg.auth.trust_proxy) {
    const [addr = '', bits, ...rest] = entry.split('/');
    const v = isIP(addr);
    const okBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (v === 6 ? 128 : 32));
    if (!v || !okBits || rest.length)
      throw new ConfigError(`${JSON.stringify(entry)} is not an address or CIDR (e.g. 10.0.0.0/8)`, {
        file: cfg.file,
        section: 'auth',
        key: 'trust_proxy',
      });
  }
}

/** Starts the whole service: projection consumer, live hub, HTTP server. */
export async function startApi(cfg: ApiConfig, log: Logger, opts: { listen?: boolean } = {}): Promise<ApiService> {
  validate(cfg);
  // Before anything opens: a [nats] key that cannot work is a config error, not a leaked database handle.
  const natsOptions = natsConnectOptions(cfg.nats, `mmm-api-${cfg.server.instance_id}`, cfg.file);
  const keys = keyMap(cfg);
  const metrics = createMetrics();
  const auth = new AuthTokens({ cfg, legacyKeys: keys, metrics, log });
  const db = openDb(cfg.database.path);
  const writer = new ProjectionWriter(db);
  const nc = await connectNats(natsOptions, log);
  // A legacy body is up to ~100 events answered together: a wide window keeps several agents' bodies in flight at once.
  const publisher = new JetStreamPublisher(nc.jetstream(), { log, window: 2048 });
  const live = new LiveHub(
    db,
    { queueMax: cfg.live.queue_max, nodeRateHz: cfg.live.node_rate_hz, heartbeatS: cfg.live.heartbeat_s },
    metrics,
    log,
  );
  const consumer = new ProjectionConsumer({
    nc,
    db,
    writer,
    streams: [streams.hub, streams.derived],
    durable: `api-${cfg.server.instance_id}`,
    metrics,
    log,
    onChanges: (ch) => live.onChanges(ch),
  });
  consumer.start();
  const alerts = new AlertsAccess(nc, log);
  alerts.follow((a) => live.onAlert(a));
  const keepMs = cfg.database.keep_hours * 3_600_000;
  const prune = setInterval(() => {
    try {
      writer.prune(keepMs);
    } catch (err) {
      metrics.storeErrors.inc({ op: 'prune' });
      log.error({ err }, 'prune failed');
    }
  }, PRUNE_EVERY_MS);
  prune.unref();
  const history = selectHistory(cfg, db);
  const storeOk = () => db.open;
  const lag = () => [...consumer.lag.values()].reduce((a, b) => a + b, 0);
  const app = await buildApp({
    cfg,
    rest: {
      db,
      cfg,
      history,
      health: () => ({
        nats: !nc.isClosed() && consumer.connected.has(streams.hub),
        store: storeOk(),
        consumerLag: lag(),
      }),
    },
    metrics,
    live,
    legacy: { site: cfg.legacy.site, publisher },
    log,
    ready: () => !nc.isClosed() && storeOk(),
    auth,
    alerts,
  });
  if (cfg.auth.watch) auth.watch();
  let port = cfg.server.port;
  if (opts.listen !== false) {
    await app.listen({ host: cfg.server.host, port: cfg.server.port });
    const addr = app.server.address();
    port = typeof addr === 'object' && addr ? addr.port : port;
    log.info({ host: cfg.server.host, port }, 'api listening');
    if (cfg.auth.alerts_write === 'open' && !isLoopback(cfg.server.host))
      log.warn(
        { host: cfg.server.host },
        '[auth] alerts_write = open on an address other than loopback: anyone who reaches the API can acknowledge and silence alerts and edit rules',
      );
  }
  return {
    app,
    db,
    nc,
    metrics,
    consumer,
    live,
    port,
    reloadAuth: () => auth.reload(),
    close: async () => {
      auth.close();
      alerts.close();
      clearInterval(prune);
      live.close();
      await app.close();
      await consumer.stop();
      await publisher.drain().catch(() => {});
      publisher.close();
      await nc.drain().catch(() => {});
      await history.close();
      db.close();
    },
  };
}

/** Whether a listen address is reachable only from this machine. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
