import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigValue, type NatsOptions, natsConnectOptions, parseConfig } from '@mmm/common';
import { assertSite, assertToken } from '@mmm/schemas';
import { channelKeys } from '../config/settings.js';
import { mqttConfigSpec } from './spec.js';

export type MqttConfig = ConfigValue<typeof mqttConfigSpec>;

export interface BrokerSettings {
  readonly name: string;
  readonly url: string;
  readonly topics: readonly string[];
  readonly username?: string;
  readonly password?: string;
  readonly clientId: string;
  readonly protocolVersion: 4 | 5;
  readonly qos: 0 | 1;
  readonly clean: boolean;
  readonly keepaliveS: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly silentTimeoutMs: number;
  readonly channels: ReadonlySet<string>;
  readonly tls?: { ca?: string; cert?: string; key?: string; insecure: boolean };
}

export interface MqttBridgeSettings {
  readonly file?: string;
  readonly site: string;
  readonly nats: NatsOptions;
  readonly maxBacklog: number;
  readonly stream: { maxAgeMs: number; maxBytes: number };
  readonly channelKeys: { name: string; psk: string }[];
  readonly maxPayload: number;
  readonly brokers: readonly BrokerSettings[];
  readonly opsPort?: number;
  readonly log: { level: string; file?: string };
}

type BrokerSection = MqttConfig extends { readonly broker: Readonly<Record<string, infer S>> } ? S : never;

function broker(name: string, b: BrokerSection, site: string, file?: string): BrokerSettings {
  const section = `broker_${name}`;
  try {
    const u = new URL(b.url);
    if (!['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:'].includes(u.protocol))
      throw new Error(`scheme ${u.protocol}`);
  } catch (cause) {
    throw new ConfigError(
      `${JSON.stringify(b.url)} is not an MQTT URL (mqtt://host:1883)`,
      { file, section, key: 'url' },
      { cause },
    );
  }
  if (b.topics.length === 0)
    throw new ConfigError('at least one topic filter is needed', { file, section, key: 'topics' });
  // `#` starts a comment in INI: `topics = msh/#` arrives as `msh/`, which would subscribe to almost nothing.
  const cut = b.topics.find((t) => t.endsWith('/') || t === '');
  if (cut !== undefined) {
    throw new ConfigError(
      `topic filter ${JSON.stringify(cut)} ends in "/": # starts a comment in INI, so quote filters (topics = "msh/EU_868/#") or write \\#`,
      { file, section, key: 'topics' },
    );
  }
  if (b.reconnect_max < b.reconnect_min) {
    throw new ConfigError('reconnect_max is below reconnect_min', { file, section, key: 'reconnect_max' });
  }
  const tls = b.tls_ca || b.tls_cert || b.tls_key || b.tls_insecure;
  return {
    name,
    url: b.url,
    topics: b.topics,
    username: b.username,
    password: b.password,
    clientId: b.client_id ?? `mmm-${site}-${name}`,
    protocolVersion: b.protocol === '5' ? 5 : 4,
    qos: b.qos === 0 ? 0 : 1,
    clean: b.clean,
    keepaliveS: b.keepalive,
    connectTimeoutMs: b.connect_timeout * 1000,
    reconnectMinMs: b.reconnect_min * 1000,
    reconnectMaxMs: b.reconnect_max * 1000,
    silentTimeoutMs: b.silent_timeout * 1000,
    channels: new Set(b.channels),
    ...(tls ? { tls: { ca: b.tls_ca, cert: b.tls_cert, key: b.tls_key, insecure: b.tls_insecure } } : {}),
  };
}

/** Turns a loaded config into the bridge's settings; every problem is a ConfigError naming file, section and key. */
export function resolveMqttSettings(cfg: MqttConfig): MqttBridgeSettings {
  const file = cfg.file;
  let site: string;
  try {
    site = assertSite(cfg.nats.site);
  } catch (cause) {
    throw new ConfigError((cause as Error).message, { file, section: 'nats', key: 'site' }, { cause });
  }
  const brokers = Object.entries((cfg as unknown as { broker?: Record<string, BrokerSection> }).broker ?? {}).map(
    ([name, b]) => {
      try {
        assertToken('broker name', name);
      } catch (cause) {
        throw new ConfigError((cause as Error).message, { file, section: `broker_${name}` }, { cause });
      }
      return broker(name, b, site, file);
    },
  );
  if (brokers.length === 0)
    throw new ConfigError('no [broker_<name>] section: name at least one MQTT broker', { file });
  return {
    file,
    site,
    nats: natsConnectOptions(cfg.nats, `mmm-mqtt-${site}`, file),
    maxBacklog: cfg.nats.max_backlog,
    stream: { maxAgeMs: cfg.nats.stream_max_age * 3_600_000, maxBytes: cfg.nats.stream_max_bytes },
    channelKeys: channelKeys(cfg.meshtastic.channel_keys, file),
    maxPayload: cfg.meshtastic.max_payload,
    brokers,
    opsPort: cfg.status.ops_port,
    log: { level: cfg.log.level, file: cfg.log.file },
  };
}

export function parseMqttSettings(text: string, file?: string, env?: Record<string, string | undefined>) {
  return resolveMqttSettings(parseConfig(mqttConfigSpec, text, file, { env }));
}

export function loadMqttSettings(file: string): MqttBridgeSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read the configuration file (${code ?? cause})`, { file }, { cause });
  }
  return parseMqttSettings(text, file);
}
