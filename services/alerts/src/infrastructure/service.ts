import { bindOrEnsureStream, connectNats, consumeDurable, type Logger, natsConnectOptions } from '@mmm/common';
import {
  ALERT_BUCKETS,
  ALERTS_STREAM,
  type AlertRule,
  type AlertRuleEntry,
  alertSubjects,
  DUPLICATE_WINDOW_MS,
  decodeEvent,
  streams,
} from '@mmm/schemas';
import { DiscardPolicy, type JsMsg, type NatsConnection, RetentionPolicy, StorageType } from 'nats';
import { type AlertsConfig, rulesFromConfig } from '../config.js';
import { type Evaluation, Evaluator } from '../domain/evaluator.js';
import { noneTouched, type Touched } from '../domain/observe.js';
import { toRule } from '../domain/rule.js';
import { followControl } from './control.js';
import { restartConsumer, waitForHubStream } from './hub.js';
import { MeshRateLimit, meshTargetsFromConfig } from './mesh.js';
import { type AlertsMetrics, createMetrics } from './metrics.js';
import { Dispatcher, outboxItems, type Webhook } from './outbox.js';
import { type Meta, openBucket, repairBookKeys, Store, shardOf } from './store.js';
import { followTopology } from './topology.js';

export interface AlertsOptions {
  log: Logger;
  clock?: () => number;
}

export interface AlertsStats {
  lastSeq: number;
  catchingUp: boolean;
  rules: number;
  firing: number;
  queued: number;
  events: number;
}

export interface RunningAlerts {
  readonly nc: NatsConnection;
  readonly metrics: AlertsMetrics;
  stats(): AlertsStats;
  ready(): boolean;
  stop(): Promise<void>;
}

/** The public list of effective rules (file rules with run-time edits applied), key `rules` of mesh_alerts. */
export const RULES_KEY = 'rules';

const ns = (ms: number) => ms * 1_000_000;

export function webhooksFromConfig(cfg: AlertsConfig): Webhook[] {
  return Object.entries(cfg.webhook).map(([name, w]) => ({
    name,
    url: w.url,
    format: w.format as Webhook['format'],
    rules: w.rules ?? [],
    authorization: w.authorization,
    timeoutMs: w.timeout,
    maxAgeMs: w.max_age * 1000,
    backoffMaxMs: w.backoff_max,
  }));
}

export async function startAlerts(cfg: AlertsConfig, opts: AlertsOptions): Promise<RunningAlerts> {
  const nc = await connectNats(natsConnectOptions(cfg.nats, 'mmm-alerts', cfg.file), opts.log);
  try {
    return await run(nc, cfg, opts);
  } catch (err) {
    await nc.close();
    throw err;
  }
}

async function run(nc: NatsConnection, cfg: AlertsConfig, opts: AlertsOptions): Promise<RunningAlerts> {
  const { log } = opts;
  const clock = opts.clock ?? Date.now;
  const a = cfg.alerts;
  const fileRules = rulesFromConfig(cfg);
  const webhooks = webhooksFromConfig(cfg);
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  await bindOrEnsureStream(
    jsm,
    {
      name: ALERTS_STREAM,
      subjects: [alertSubjects.all],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: a.replicas,
      duplicate_window: ns(DUPLICATE_WINDOW_MS),
    },
    log,
  );
  const [alertsKv, controlKv, stateKv] = await Promise.all([
    openBucket(js, ALERT_BUCKETS.alerts, a.replicas),
    openBucket(js, ALERT_BUCKETS.control, a.replicas),
    openBucket(js, ALERT_BUCKETS.state, a.replicas),
  ]);
  const store = new Store(alertsKv, stateKv);
  const metrics = createMetrics();
  const checkpoint = await store.loadCheckpoint();
  const evaluator = new Evaluator(checkpoint?.world, checkpoint?.meta.established);
  const known = await store.loadAlerts();
  repairBookKeys(known);
  evaluator.load(known);

  // Rules: the file's, with run-time edits from the control bucket on top.
  const runtime = new Map<string, AlertRuleEntry>();
  const applyRules = () => {
    const merged = new Map<string, AlertRule & { source?: string }>(fileRules.map((r) => [r.name, r]));
    for (const [name, e] of runtime) {
      if ('deleted' in e) merged.delete(name);
      else merged.set(name, e);
    }
    evaluator.setRules([...merged.values()].map(toRule));
    const listed = [...merged.values()].map((r) => ({ ...r, source: runtime.has(r.name) ? 'api' : 'file' }));
    void alertsKv.put(RULES_KEY, JSON.stringify(listed)).catch((err: unknown) => {
      log.warn({ err: (err as Error).message }, 'could not publish the rule list');
    });
  };
  const acks: string[] = [];
  const control = await followControl(
    controlKv,
    {
      rule: (name, entry) => {
        if (entry) runtime.set(name, entry);
        else runtime.delete(name);
        applyRules();
        log.info({ rule: name, change: entry ? ('deleted' in entry ? 'deleted' : 'set') : 'reverted' }, 'rule changed');
      },
      silence: (id, s) => (s ? evaluator.setSilence(s) : evaluator.removeSilence(id)),
      ack: (id) => acks.push(id),
    },
    log,
  );
  applyRules();

  const meshes = meshTargetsFromConfig(cfg);
  const meshByTarget = new Map(meshes.map((m) => [m.target, m]));
  const meshLimit = await MeshRateLimit.load(stateKv, meshes);
  const dispatcher = new Dispatcher({
    js,
    nc,
    state: stateKv,
    webhooks,
    meshes,
    stats: metrics.delivery,
    log,
    clock,
  });
  dispatcher.enqueue(await Dispatcher.load(stateKv));

  const hubLast = await waitForHubStream(jsm, log);
  const startSeq = (checkpoint?.meta.lastSeq ?? 0) + 1;
  await restartConsumer(jsm, a.durable, startSeq);
  let catchingUp = hubLast >= startSeq;
  let lastSeq = startSeq - 1;
  let lastMsg: JsMsg | undefined;
  let ackedSeq = lastSeq;
  let touched: Touched = noneTouched();
  const dirtyShards = new Set<number>();
  let agentsDirty = false;
  let eventCount = 0;
  let bound = false;
  /** Ready once a full evaluation ran: from then on every rule of the start is established. */
  let evaluated = false;
  log.info({ startSeq, hubLast, catchingUp, rules: evaluator.ruleList().length }, 'alerts evaluation starting');

  /** Every write to the buckets and every evaluation runs in this one chain, in order. */
  let chain: Promise<unknown> = Promise.resolve();
  const serial = (what: string, fn: () => Promise<void>) => {
    const next = chain.then(fn).catch((err: unknown) => log.error({ err, what }, 'alerts step failed'));
    chain = next;
    return next;
  };

  const persist = async (ev: Evaluation) => {
    if (ev.changed.length === 0 && ev.notices.length === 0) return;
    log.debug(
      { changed: ev.changed.map((t) => `${t.alert.id}:${t.alert.state}`), notices: ev.notices.length },
      'evaluated',
    );
    const all = outboxItems(ev.notices, (r) => evaluator.rule(r), webhooks, clock(), meshes);
    const { take: items, dropped } = meshLimit.admit(all, meshByTarget);
    for (const d of dropped) {
      metrics.delivery.dropped(d.target, 'rate_limited');
      log.info({ target: d.target, alert: d.alert.id }, 'mesh text dropped: within min_interval of the last one');
    }
    // Outbox before the alert: an alert stored as notified always has its notification on the way.
    await dispatcher.persist(items);
    await meshLimit.save(items);
    await store.saveAlerts(ev.changed);
    dispatcher.enqueue(items);
    for (const r of evaluator.ruleList()) metrics.firing.set({ rule: r.name }, evaluator.openCount(r.name));
  };

  const applyAcks = () => {
    const changed = acks.splice(0).flatMap((id) => evaluator.ack(id) ?? []);
    return changed.length > 0 ? store.saveAlerts(changed) : Promise.resolve();
  };

  const flush = () =>
    serial('flush', async () => {
      await applyAcks();
      if (catchingUp || (touched.nodes.size === 0 && touched.agents.size === 0)) return;
      const t = touched;
      touched = noneTouched();
      const end = metrics.evaluationSeconds.startTimer({ scope: 'touched' });
      const ev = evaluator.evaluate(clock(), t);
      end();
      await persist(ev);
    });

  const sweep = () =>
    serial('sweep', async () => {
      if (catchingUp) {
        const info = await jsm.consumers.info(streams.hub, a.durable).catch(() => undefined);
        if (info && info.num_pending === 0 && info.delivered.stream_seq <= lastSeq) endCatchUp();
        else return;
      }
      touched = noneTouched();
      const end = metrics.evaluationSeconds.startTimer({ scope: 'full' });
      const now = clock();
      const ev = evaluator.evaluate(now, undefined);
      end();
      await persist(ev);
      evaluated = true;
      const gone = evaluator.prune(now, a.keep_resolved * 1000);
      if (gone.length > 0) await store.deleteAlerts(gone);
    });

  const save = () =>
    serial('checkpoint', async () => {
      if (catchingUp && lastSeq === ackedSeq) return;
      const shards = new Set(dirtyShards);
      dirtyShards.clear();
      if (!agentsDirty && shards.size === 0 && lastSeq === ackedSeq) return;
      agentsDirty = false;
      const meta: Meta = { lastSeq, established: [...evaluator.established], savedAt: clock() };
      const msg = lastMsg;
      await store.saveCheckpoint(evaluator.world, shards, meta);
      msg?.ack();
      ackedSeq = meta.lastSeq;
    });

  const endCatchUp = () => {
    if (!catchingUp) return;
    catchingUp = false;
    void sweep();
    log.info({ lastSeq, nodes: evaluator.world.nodes.size }, 'caught up with the hub stream: evaluating');
  };

  // Route analysis's links, for link_quality: applied as they come, evaluated with the next flush.
  const topology = followTopology(
    js,
    (change) => {
      evaluator.observeLink(change, clock(), touched);
      dirtyShards.add(shardOf(change.from));
      dirtyShards.add(shardOf(change.to));
    },
    log,
  );

  const abort = new AbortController();
  const consuming = (async () => {
    for await (const m of consumeDurable({
      nc,
      stream: streams.hub,
      durable: a.durable,
      maxMessages: a.batch,
      signal: abort.signal,
      log,
      ensure: async (j) => {
        if (!(await j.consumers.info(streams.hub, a.durable).catch(() => undefined))) {
          await restartConsumer(j, a.durable, lastSeq + 1);
        }
      },
      onBound: (b) => {
        bound = b;
      },
    })) {
      if (m.seq <= lastSeq) continue;
      const res = decodeEvent(m.subject, m.data);
      if (res.ok) {
        evaluator.observe(res.value, touched);
        const ev = res.value as { receivedAt?: number; at?: number };
        const at = ev.receivedAt ?? ev.at;
        if (at !== undefined) metrics.lag.set(Math.max(0, (clock() - at) / 1000));
        metrics.events.inc({ result: 'applied' });
        if (res.value.kind === 'status' || (res.value.kind === 'reception' && res.value.source === 'mqtt'))
          agentsDirty = true;
        if (res.value.kind === 'reception') dirtyShards.add(shardOf(res.value.packet.from));
      } else {
        // Nothing to learn from it; the services that store events dead-letter it.
        metrics.events.inc({ result: 'invalid' });
      }
      eventCount++;
      lastSeq = m.seq;
      lastMsg = m;
      if (catchingUp && m.seq >= hubLast) endCatchUp();
    }
  })();

  const timers = [
    setInterval(() => void flush(), a.flush_interval),
    setInterval(() => void sweep(), a.sweep_interval),
    setInterval(() => void save(), a.checkpoint_interval),
  ];
  if (!catchingUp) await sweep();

  return {
    nc,
    metrics,
    stats: () => ({
      lastSeq,
      catchingUp,
      rules: evaluator.ruleList().length,
      firing: evaluator.openCount(),
      queued: dispatcher.pending(),
      events: eventCount,
    }),
    ready: () => bound && evaluated && !nc.isClosed(),
    stop: async () => {
      for (const t of timers) clearInterval(t);
      abort.abort();
      await consuming;
      control.stop();
      topology.stop();
      await flush();
      await save();
      await chain;
      await dispatcher.stop();
      if (!nc.isClosed()) await nc.drain();
    },
  };
}
