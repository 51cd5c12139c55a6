import { connectNats, createRegistry, JetStreamPublisher, type Logger, PublisherClosedError } from '@mmm/common';
import { type DeadLetter, SCHEMA_VERSION, subjects } from '@mmm/schemas';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { ChannelKeyring } from '../decode/keyring.js';
import { ensureSiteStream } from '../streams/provision.js';
import { type Converted, convertMqttMessage } from './convert.js';
import { type BridgeMetrics, createBridgeMetrics } from './metrics.js';
import type { MqttBridgeSettings } from './settings.js';
import { MqttSource } from './source.js';

/** Publishes awaiting an ack at once; the backlog bound (max_backlog) is separate and much larger. */
export const MQTT_PUBLISH_WINDOW = 256;
export const DEAD_LETTER_SERVICE = 'mqtt';
/** Dead letters keep at most this much of the payload (an oversized one is the reason, not the content). */
const DEAD_LETTER_PAYLOAD_MAX = 4096;

export interface MqttBridgeDeps {
  log: Logger;
  registry?: Registry;
}

export type Outcome = 'decoded' | 'no_key' | 'json' | 'deadletter' | 'ignored';

export interface BridgeStats {
  /** Outcomes per gateway (`(none)` where no gateway could be read). */
  byGateway: Map<string, Record<Outcome, number>>;
  outcomes: Record<Outcome, number>;
  deadLetterReasons: Record<string, number>;
  stored: number;
  duplicates: number;
  publishFailures: number;
  pauses: number;
}

export interface RunningBridge {
  readonly nc: NatsConnection;
  readonly sources: readonly MqttSource[];
  readonly stats: BridgeStats;
  readonly registry: Registry;
  readonly backlog: number;
  /** Ready when the leaf connection is up and every broker is connected. */
  ready(): boolean;
  health(): Record<string, unknown>;
  stop(): Promise<void>;
}

const encoder = new TextEncoder();
const emptyOutcomes = (): Record<Outcome, number> => ({ decoded: 0, no_key: 0, json: 0, deadletter: 0, ignored: 0 });

function deadLetterPayload(payload: Buffer): Pick<DeadLetter, 'payload' | 'payloadEncoding'> {
  const kept = payload.subarray(0, DEAD_LETTER_PAYLOAD_MAX);
  const text = kept.toString('utf8');
  // Text only when it round-trips and is printable; everything else (protobuf bytes) as base64.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this test looks for
  if (Buffer.from(text, 'utf8').equals(kept) && !/[\u0000-\u0008\u000e-\u001f]/.test(text)) {
    return { payload: text, payloadEncoding: 'utf8' };
  }
  return { payload: kept.toString('base64'), payloadEncoding: 'base64' };
}

/**
 * `mmm mqtt`: subscribes to MQTT brokers and publishes each Meshtastic message as the Reception an agent would
 * publish, to the site's leaf (its site stream), so a hub outage costs nothing. The message handler never awaits a
 * publish: events go to a bounded publisher backlog, and only when that is full are the brokers held back (the
 * PUBACK and the next packet wait), so a burst is paced, not dropped.
 */
export async function startMqttBridge(settings: MqttBridgeSettings, deps: MqttBridgeDeps): Promise<RunningBridge> {
  const { log } = deps;
  const { site } = settings;
  const registry = deps.registry ?? createRegistry('mqtt');
  const metrics: BridgeMetrics = createBridgeMetrics(registry);
  const nc = await connectNats(settings.nats, log);
  const sources: MqttSource[] = [];
  try {
    await ensureSiteStream(await nc.jetstreamManager(), site, settings.stream, log);
  } catch (err) {
    await nc.close();
    throw err;
  }
  const publisher = new JetStreamPublisher(nc.jetstream(), { window: MQTT_PUBLISH_WINDOW, log });
  const keys = new ChannelKeyring(settings.channelKeys);
  const stats: BridgeStats = {
    byGateway: new Map(),
    outcomes: emptyOutcomes(),
    deadLetterReasons: {},
    stored: 0,
    duplicates: 0,
    publishFailures: 0,
    pauses: 0,
  };

  // Callbacks of messages held back while the backlog is full; released when it has drained to half.
  const held: (() => void)[] = [];
  let paused = false;
  const setPaused = (p: boolean) => {
    paused = p;
    metrics.paused.set(p ? 1 : 0);
    for (const s of sources) s.paused = p;
    if (p) {
      stats.pauses++;
      log.warn({ backlog: publisher.pending }, 'publish backlog full: holding the MQTT brokers back');
    } else {
      log.info({ backlog: publisher.pending }, 'publish backlog drained: reading the MQTT brokers again');
      for (const done of held.splice(0)) done();
    }
  };
  const checkBacklog = () => {
    const backlog = publisher.pending;
    metrics.backlog.set(backlog);
    if (!paused && backlog >= settings.maxBacklog) setPaused(true);
    else if (paused && backlog <= settings.maxBacklog / 2) setPaused(false);
  };

  const count = (broker: string, gateway: string | undefined, outcome: Outcome) => {
    const g = gateway ?? '(none)';
    const per = stats.byGateway.get(g) ?? emptyOutcomes();
    stats.byGateway.set(g, per);
    per[outcome]++;
    stats.outcomes[outcome]++;
    metrics.messages.inc({ broker, gateway: g, outcome });
  };

  const publish = (broker: string, c: Extract<Converted, { kind: 'reception' }>) => {
    const data = encoder.encode(JSON.stringify(c.event));
    publisher.publish(c.subject, data, c.msgId).then(
      (ack) => {
        stats.stored++;
        if (ack.duplicate) {
          stats.duplicates++;
          metrics.duplicates.inc({ broker });
        }
        checkBacklog();
      },
      (err) => {
        stats.publishFailures++;
        if (!(err instanceof PublisherClosedError)) log.error({ err, subject: c.subject }, 'publish failed');
        checkBacklog();
      },
    );
    checkBacklog();
  };

  const deadLetter = (
    broker: string,
    topic: string,
    payload: Buffer,
    c: Extract<Converted, { kind: 'deadletter' }>,
  ) => {
    stats.deadLetterReasons[c.code] = (stats.deadLetterReasons[c.code] ?? 0) + 1;
    metrics.deadLetters.inc({ broker, reason: c.code });
    const dl: DeadLetter = {
      v: SCHEMA_VERSION,
      kind: 'deadletter',
      service: DEAD_LETTER_SERVICE,
      at: Date.now(),
      reason: `${c.code}: ${c.reason} (broker ${broker})`,
      subject: topic,
      ...deadLetterPayload(payload),
    };
    // Core publish: the hub's MESH_DLQ captures it through the leafnode link. A dead letter must never take a slot
    // a reception needs; while the hub is away it is lost, and the counters above still say it happened.
    nc.publish(subjects.deadLetter(DEAD_LETTER_SERVICE), encoder.encode(JSON.stringify(dl)));
  };

  const onMessage = (broker: string, topic: string, payload: Buffer, done: () => void) => {
    const c = convertMqttMessage(topic, payload, {
      site,
      broker,
      keys,
      maxPayload: settings.maxPayload,
      channels: settings.brokers.find((b) => b.name === broker)?.channels ?? new Set(),
      receivedAt: Date.now(),
    });
    switch (c.kind) {
      case 'reception':
        count(broker, c.gateway, c.outcome);
        publish(broker, c);
        break;
      case 'deadletter':
        count(broker, c.gateway, 'deadletter');
        deadLetter(broker, topic, payload, c);
        break;
      case 'ignored':
        count(broker, c.gateway, 'ignored');
        break;
    }
    if (paused) held.push(done);
    else done();
  };

  for (const b of settings.brokers) {
    const source = new MqttSource(
      b,
      {
        onMessage: (topic, payload, done) => onMessage(b.name, topic, payload, done),
        onState: (state) => {
          metrics.connected.set({ broker: b.name }, state === 'connected' ? 1 : 0);
          if (state === 'connecting') metrics.reconnects.inc({ broker: b.name });
        },
      },
      log,
    );
    sources.push(source);
  }
  // Counters the sources keep themselves, mirrored into metrics when scraped.
  const lastMirrored = new Map<string, { subscribes: number; silentRebuilds: number }>();
  const mirror = () => {
    for (const s of sources) {
      const prev = lastMirrored.get(s.settings.name) ?? { subscribes: 0, silentRebuilds: 0 };
      metrics.subscribes.inc({ broker: s.settings.name }, s.counters.subscribes - prev.subscribes);
      metrics.silentRebuilds.inc({ broker: s.settings.name }, s.counters.silentRebuilds - prev.silentRebuilds);
      lastMirrored.set(s.settings.name, {
        subscribes: s.counters.subscribes,
        silentRebuilds: s.counters.silentRebuilds,
      });
    }
  };
  const mirrorTimer = setInterval(mirror, 1000);
  mirrorTimer.unref();
  for (const s of sources) s.start();

  let stopping: Promise<void> | undefined;
  return {
    nc,
    sources,
    stats,
    registry,
    get backlog() {
      return publisher.pending;
    },
    ready: () => !nc.isClosed() && sources.every((s) => s.state === 'connected'),
    health: () => ({
      site,
      backlog: publisher.pending,
      paused,
      brokers: Object.fromEntries(sources.map((s) => [s.settings.name, { state: s.state, ...s.counters }])),
      outcomes: stats.outcomes,
      deadLetters: stats.deadLetterReasons,
      stored: stats.stored,
      duplicates: stats.duplicates,
    }),
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(mirrorTimer);
        await Promise.all(sources.map((s) => s.stop()));
        for (const done of held.splice(0)) done();
        await Promise.race([publisher.drain(), new Promise((r) => setTimeout(r, 5_000))]);
        publisher.close();
        await nc.drain().catch(() => undefined);
      })()),
  };
}
