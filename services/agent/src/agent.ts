import { connectNats, JetStreamPublisher, type Logger, Shutdown } from '@mmm/common';
import { consumers, msgIds, type NodeDbSnapshot, SCHEMA_VERSION, streams, subjects } from '@mmm/schemas';
import type { NatsConnection } from 'nats';
import { TextCommands } from './commands/text.js';
import type { AgentSettings } from './config/settings.js';
import {
  ChannelKeyring,
  type DecodeContext,
  type FromRadioItem,
  parseFromRadio,
  receptionFromPacket,
} from './decode/index.js';
import { LegacyRelay } from './legacy/relay.js';
import { NodeDbTracker } from './nodedb/tracker.js';
import { EventSink } from './publish/sink.js';
import type { OpenedLink } from './radio/open.js';
import { RadioSession } from './radio/session.js';
import { type AgentCounters, newCounters } from './status/counters.js';
import { type HubLink, readHubLink } from './status/hub-link.js';
import type { RadioInfo } from './status/radio-info.js';
import { buildStatus } from './status/status.js';
import { ensureSiteStream } from './streams/provision.js';
import { restoreRouteCache } from './trace/restore.js';
import { TraceRunner } from './trace/runner.js';
import { TraceScheduler } from './trace/scheduler.js';

/**
 * Publishes awaiting an ack at once (the publisher's window); the backlog bound is separate (max_backlog). The leaf
 * is local, so acks come back in well under a millisecond and 64 in flight already publishes several thousand per
 * second; a wider window only keeps more messages alive long enough to be promoted to the old generation.
 */
export const PUBLISH_WINDOW = 64;

export interface AgentDeps {
  log: Logger;
  /** Test hook: open the radio differently. */
  openRadio?: (target: AgentSettings['radio']) => Promise<OpenedLink>;
  reconnectMinMs?: number;
}

export interface RunningAgent {
  readonly nc: NatsConnection;
  readonly session: RadioSession;
  readonly counters: Readonly<AgentCounters>;
  readonly radio: RadioInfo;
  readonly nodedb: NodeDbTracker;
  readonly traces: TraceRunner | undefined;
  readonly texts: TextCommands;
  readonly sink: EventSink;
  /** Receptions published since start, by port. */
  readonly receptionsByPort: ReadonlyMap<string, number>;
  /** What the last status event said about the site stream and the hub's link (undefined: not asked yet/at all). */
  readonly lastBuffer: () => { stream: { messages: number; bytes: number }; hub: HubLink | undefined };
  /** Publishes a status event now (also runs on its interval). */
  publishStatus(): Promise<void>;
  publishNodeDb(reason: NodeDbSnapshot['reason']): void;
  stop(): Promise<void>;
}

/** How long stopping waits for the publish backlog to reach the leaf before it gives up on the rest. */
const DRAIN_MS = 5_000;

/**
 * Starts the agent: site stream, radio session, decoding and publishing, node DB, status, traceroutes, legacy relays.
 * Each resource registers its shutdown as it is acquired (last started, first stopped), so a start that fails
 * half-way releases what it had, the NATS connection included, and rethrows.
 */
export async function startAgent(settings: AgentSettings, deps: AgentDeps): Promise<RunningAgent> {
  const { log } = deps;
  for (const w of settings.warnings) log.warn(w);
  const nc = await connectNats(settings.nats, log);
  const shutdown = new Shutdown(log);
  shutdown.add('nats', () => nc.drain().catch(() => undefined));
  try {
    return await run(nc, shutdown, settings, deps);
  } catch (err) {
    await shutdown.run();
    throw err;
  }
}

async function run(
  nc: NatsConnection,
  shutdown: Shutdown,
  settings: AgentSettings,
  deps: AgentDeps,
): Promise<RunningAgent> {
  const { log } = deps;
  const { site, agent } = settings;
  const jsm = await nc.jetstreamManager();
  await ensureSiteStream(jsm, site, settings.stream, log);
  const publisher = new JetStreamPublisher(nc.jetstream(), { window: PUBLISH_WINDOW, log });
  shutdown.add('publisher', () => publisher.close());
  const startedAt = Date.now();
  const counters = newCounters();
  const receptionsByPort = new Map<string, number>();
  const radio: RadioInfo = { channels: [] };
  const keys = new ChannelKeyring(settings.channelKeys);
  const nodedb = new NodeDbTracker();
  let configured = false;

  // The session is created below; the sink pauses it when the publish backlog is full.
  let session: RadioSession;
  const sink = new EventSink(publisher, {
    maxBacklog: settings.maxBacklog,
    log,
    onPressure: (paused) => {
      if (paused) {
        counters.radioPauses++;
        session.pause();
      } else session.resume();
    },
  });
  shutdown.add('publish backlog', async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([sink.drain(), new Promise<void>((r) => (timer = setTimeout(r, DRAIN_MS)))]);
    clearTimeout(timer);
  });

  const scheduler = new TraceScheduler({
    intervalMs: settings.trace.intervalMs,
    maxPerCycle: settings.trace.maxPerCycle,
    recentMs: settings.trace.recentMs,
    cacheMs: settings.trace.cacheMs,
    priorityCacheMs: settings.trace.priorityCacheMs,
    priorityNodes: settings.trace.priorityNodes,
    priorityCheckMs: settings.trace.priorityCheckMs,
  });

  const onItem = (item: FromRadioItem, configId: number, receivedAt: number) => {
    switch (item.kind) {
      case 'packet': {
        const ctx: DecodeContext = { site, agent, receivedAt, source: 'radio', keys };
        const r = receptionFromPacket(item.packet, item.raw, ctx);
        counters.receptions++;
        receptionsByPort.set(r.port, (receptionsByPort.get(r.port) ?? 0) + 1);
        sink.publish(
          subjects.rx(site, agent, r.port),
          msgIds.reception(site, agent, r.packet.from, r.packet.id, r.packet.rxTime, receivedAt),
          r,
        );
        if (r.packet.from !== radio.myNodeNum) {
          nodedb.apply(r);
          scheduler.heard(r.packet.from, receivedAt);
        }
        traces?.onPacket(item.packet);
        break;
      }
      case 'myInfo':
        radio.myNodeNum = item.myNodeNum;
        break;
      case 'nodeInfo':
        nodedb.upsert(item.entry);
        // The radio's own record of when it last heard a node seeds the sweep right after start-up.
        if (item.entry.lastHeard && item.entry.num !== radio.myNodeNum)
          scheduler.heard(item.entry.num, item.entry.lastHeard * 1000);
        break;
      case 'metadata':
        radio.firmwareVersion = item.firmwareVersion;
        radio.hwModel = item.hwModel;
        break;
      case 'channel':
        if (item.role !== 0) {
          radio.channels[item.index] = { index: item.index, name: item.name, role: item.role };
          if (item.psk.length > 0) {
            try {
              keys.add(item.name, item.psk);
            } catch (err) {
              log.warn({ err: (err as Error).message, channel: item.index }, 'radio reported an unusable channel key');
            }
          }
        }
        break;
      case 'config':
        if (item.lora) Object.assign(radio, item.lora);
        break;
      case 'configComplete':
        if (item.id === configId) {
          configured = true;
          session.markConfigured();
          log.info(
            { myNodeNum: radio.myNodeNum, nodes: nodedb.size, firmware: radio.firmwareVersion },
            'radio configured',
          );
          publishNodeDb('connect');
        }
        break;
      case 'other':
        break;
    }
  };

  session = new RadioSession({
    target: settings.radio,
    heartbeatMs: settings.heartbeatMs,
    reconnectMinMs: deps.reconnectMinMs,
    reconnectMaxMs: settings.reconnectMaxMs,
    stallTimeoutMs: settings.stallTimeoutMs,
    log,
    open: deps.openRadio,
    onState: (state) => {
      if (state !== 'connected') configured = false;
      log.info({ state }, 'radio state');
      // Dashboards show the link state from status events: tell them at once, not at the next 30 s tick.
      void publishStatus();
    },
    onFrame: (bytes, configId) => {
      counters.framesRead++;
      const parsed = parseFromRadio(bytes);
      if (!parsed.ok) {
        counters.decodeErrors++;
        log.warn({ error: parsed.error, bytes: Buffer.from(bytes).toString('base64') }, 'undecodable FromRadio frame');
        return;
      }
      try {
        onItem(parsed.value, configId, Date.now());
      } catch (err) {
        counters.decodeErrors++;
        log.error({ err, kind: parsed.value.kind }, 'cannot handle a FromRadio item');
      }
    },
  });

  function publishNodeDb(reason: NodeDbSnapshot['reason']): void {
    const takenAt = Date.now();
    nodedb.changed = false;
    counters.nodedbSnapshots++;
    const snap: NodeDbSnapshot = {
      v: SCHEMA_VERSION,
      kind: 'nodedb',
      site,
      agent,
      takenAt,
      reason,
      ...(radio.myNodeNum !== undefined ? { myNodeNum: radio.myNodeNum } : {}),
      nodes: nodedb.snapshot(),
    };
    sink.publish(subjects.nodedb(site, agent), msgIds.nodedb(site, agent, takenAt), snap);
  }

  let stream = { messages: 0, bytes: 0 };
  let hubLink: HubLink | undefined;
  async function publishStatus(): Promise<void> {
    try {
      const info = await jsm.streams.info(streams.site(site));
      stream = { messages: info.state.messages, bytes: info.state.bytes };
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'cannot read the site stream state');
    }
    const hub = settings.hubDomain ? await readHubLink(nc, settings.hubDomain, site) : undefined;
    hubLink = hub;
    const at = Date.now();
    counters.statusEvents++;
    counters.traces = traces?.sent ?? 0;
    counters.tracesSucceeded = traces?.succeeded ?? 0;
    counters.tracesTimedOut = traces?.timedOut ?? 0;
    counters.publishRetries = publisher.retries;
    counters.radioFramesDebugBytes = session.debugBytes;
    const status = buildStatus(
      {
        settings,
        startedAt,
        session,
        radio,
        inFlight: publisher.pending,
        stream,
        counters,
        hubConnected: hub?.connected,
        hubBacklog: hub?.backlog,
      },
      at,
    );
    sink.publish(subjects.status(site, agent), msgIds.status(site, agent, at), status);
  }

  const traces = settings.trace.enabled
    ? new TraceRunner({
        site,
        agent,
        hopLimit: settings.trace.hopLimit,
        gapMs: settings.trace.gapMs,
        timeoutMs: settings.trace.timeoutMs,
        scheduler,
        send: (f) => session.send(f),
        ready: () => (configured ? radio.myNodeNum : undefined),
        emit: (o) => sink.publish(subjects.trace(site, agent), msgIds.trace(site, agent, o.requestId), o),
        log,
      })
    : undefined;

  const timers: NodeJS.Timeout[] = [];
  shutdown.add('timers', () => {
    for (const t of timers) clearInterval(t);
  });
  timers.push(setInterval(() => void publishStatus(), settings.status.intervalMs));
  timers.push(setInterval(() => configured && publishNodeDb('interval'), settings.nodedb.intervalMs));
  let lastChangeSeen = 0;
  let changeSince = 0;
  // Debounce: a change snapshot goes out once the DB has been quiet for change_debounce.
  timers.push(
    setInterval(
      () => {
        if (!configured || !nodedb.changed) return;
        if (nodedb.changes !== lastChangeSeen) {
          lastChangeSeen = nodedb.changes;
          changeSince = Date.now();
          return;
        }
        if (Date.now() - changeSince >= settings.nodedb.debounceMs) publishNodeDb('change');
      },
      Math.max(200, Math.min(1000, settings.nodedb.debounceMs / 2)),
    ),
  );

  // Relays first: a new relay's consumer starts at "new" messages, so it must exist before the radio is read.
  for (const d of settings.legacy) {
    const relay = new LegacyRelay({
      dest: d,
      settings,
      jsm,
      js: nc.jetstream(),
      log: log.child({ destination: d.name }),
    });
    await relay.start();
    shutdown.add(`legacy relay ${d.name}`, () => relay.stop());
  }
  session.start();
  shutdown.add('radio', () => session.stop());
  if (traces) {
    // While the radio is already being read: the cache only has to be there before the first sweep.
    try {
      const r = await restoreRouteCache({
        jsm,
        js: nc.jetstream(),
        stream: streams.site(site),
        subject: subjects.trace(site, agent),
        consumer: consumers.restore(agent),
        sinceMs: Date.now() - Math.max(settings.trace.cacheMs, settings.trace.priorityCacheMs),
        scheduler,
        log,
      });
      if (r.outcomes > 0) log.info(r, 'route cache restored from the site stream');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'route cache not restored from the site stream; starting empty');
    }
  }
  if (traces) {
    traces.start();
    shutdown.add('traceroutes', () => traces.stop());
  }
  const texts = new TextCommands({
    site,
    agent,
    sendFlushed: (f) => session.sendFlushed(f),
    ready: () => (configured ? radio.myNodeNum : undefined),
    log: log.child({ feature: 'text' }),
  });
  texts.start(nc);
  shutdown.add('text commands', () => texts.stop());
  void publishStatus();

  return {
    nc,
    session,
    counters,
    radio,
    nodedb,
    traces,
    texts,
    sink,
    receptionsByPort,
    lastBuffer: () => ({ stream, hub: hubLink }),
    publishStatus,
    publishNodeDb,
    stop: () => shutdown.run(),
  };
}
