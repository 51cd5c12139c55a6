import { readFileSync } from 'node:fs';
import {
  ConfigError,
  type ConfigValue,
  type JsonTcpLogConfig,
  type NatsOptions,
  natsConnectOptions,
  type OpenTelemetryConfig,
  parseConfig,
} from '@mmm/common';
import { assertSite, assertToken, nodeNumFromId } from '@mmm/schemas';
import { LEGACY_PACKET_TYPES, type LegacyPacketType } from '@mmm/schemas/legacy';
import { agentConfigSpec, DEFAULT_TCP_PORT, FIRMWARE_TRACE_MIN_S } from './spec.js';

export type AgentConfig = ConfigValue<typeof agentConfigSpec>;

export type RadioTarget =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'serial'; path: string; baudRate: number }
  | { kind: 'auto'; baudRate: number };

export interface LegacyDestination {
  readonly name: string;
  readonly url: string;
  readonly apiKey: string;
  readonly reportIntervalMs: number;
  /** undefined = all types. */
  readonly packetTypes?: ReadonlySet<LegacyPacketType>;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly filterNodes: ReadonlySet<number>;
  readonly excludeNodes: ReadonlySet<number>;
  readonly batchSize: number;
}

export interface AgentSettings {
  readonly file?: string;
  readonly site: string;
  readonly agent: string;
  readonly location: { name: string; lat: number | null; lon: number | null };
  readonly radio: RadioTarget;
  readonly channelKeys: { name: string; psk: string }[];
  readonly heartbeatMs: number;
  readonly reconnectMaxMs: number;
  readonly stallTimeoutMs: number;
  readonly nats: NatsOptions;
  readonly maxBacklog: number;
  /** The hub's JetStream domain, asked for the sourcing of the site stream; undefined = not asked. */
  readonly hubDomain: string | undefined;
  readonly stream: { maxAgeMs: number; maxBytes: number };
  readonly nodedb: { intervalMs: number; debounceMs: number };
  readonly status: { intervalMs: number; opsPort?: number };
  readonly trace: {
    enabled: boolean;
    intervalMs: number;
    hopLimit: number;
    gapMs: number;
    maxPerCycle: number;
    recentMs: number;
    cacheMs: number;
    priorityCacheMs: number;
    priorityNodes: readonly number[];
    priorityCheckMs: number;
    timeoutMs: number;
  };
  readonly legacy: readonly LegacyDestination[];
  readonly log: { level: string; file?: string };
  /** Traces and metrics export: a packet's trace begins here, at the radio, and ingest and the API continue it. */
  readonly opentelemetry: OpenTelemetryConfig;
  /** `[json_tcp_log_<name>]` sections, for createLogShippers. */
  readonly jsonTcpLog: Readonly<Record<string, JsonTcpLogConfig>>;
  readonly warnings: readonly string[];
}

const H = 3_600_000;

/** `[server_x]` is stored under `server.x` (the prefix without its underscore); older typings name the prefix. */
type Prefixed<N extends string> = AgentConfig extends { readonly [K in N]: infer S }
  ? S
  : AgentConfig extends { readonly [K in `${N}_`]: infer S }
    ? S
    : never;

function prefixedSections(cfg: AgentConfig): { server: Prefixed<'server'>; json_tcp_log: Prefixed<'json_tcp_log'> } {
  const raw = cfg as unknown as { server?: Prefixed<'server'>; json_tcp_log?: Prefixed<'json_tcp_log'> };
  return {
    server: raw.server ?? ({} as Prefixed<'server'>),
    json_tcp_log: raw.json_tcp_log ?? ({} as Prefixed<'json_tcp_log'>),
  };
}

/** The original wrote commented-out sections as `[# json_tcp_log_primary]`; its loader ignored them, so do we. */
export function stripCommentedSections(text: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[(.*)\]\s*$/.exec(line);
    if (header) skipping = /^\s*[#;]/.test(header[1]!);
    if (!skipping) out.push(line);
  }
  return out.join('\n');
}

export function readAgentConfig(file: string, env?: Record<string, string | undefined>): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? `; create one with: mmm agent --create-config ${file}` : '';
    throw new ConfigError(`cannot read the configuration file (${code ?? cause})${hint}`, { file }, { cause });
  }
  return parseConfig(agentConfigSpec, stripCommentedSections(text), file, { env });
}

function nodeSet(list: readonly string[], where: { file?: string; section: string; key: string }): Set<number> {
  const out = new Set<number>();
  for (const id of list) {
    try {
      out.add(nodeNumFromId(id));
    } catch (cause) {
      throw new ConfigError((cause as Error).message, where, { cause });
    }
  }
  return out;
}

function radioTarget(m: AgentConfig['meshtastic'], file?: string): RadioTarget {
  const where = { file, section: 'meshtastic', key: 'connection_type' };
  const type = m.connection_type;
  if (type === 'ble' || (type === 'auto' && !m.device_path && !m.tcp_host && m.ble_address)) {
    throw new ConfigError(
      'BLE is not supported by this agent: run a BLE-to-TCP bridge next to the radio and set connection_type = tcp (see docs/agent.md)',
      where,
    );
  }
  if (type === 'serial' || (type === 'auto' && m.device_path)) {
    if (!m.device_path)
      throw new ConfigError('connection_type = serial needs device_path', {
        file,
        section: 'meshtastic',
        key: 'device_path',
      });
    return { kind: 'serial', path: m.device_path, baudRate: m.baud_rate };
  }
  if (type === 'tcp' || (type === 'auto' && m.tcp_host)) {
    if (!m.tcp_host)
      throw new ConfigError('connection_type = tcp needs tcp_host', { file, section: 'meshtastic', key: 'tcp_host' });
    return { kind: 'tcp', ...splitHostPort(m.tcp_host, m.tcp_port ?? DEFAULT_TCP_PORT, file) };
  }
  return { kind: 'auto', baudRate: m.baud_rate };
}

export function splitHostPort(value: string, defaultPort: number, file?: string): { host: string; port: number } {
  const v = value.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  const parts = v.split(':');
  if (parts.length === 2) {
    const port = Number(parts[1]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigError(`port ${JSON.stringify(parts[1])} is not a TCP port`, {
        file,
        section: 'meshtastic',
        key: 'tcp_host',
      });
    }
    return { host: parts[0]!, port };
  }
  return { host: v, port: defaultPort };
}

export function channelKeys(list: readonly string[], file?: string): { name: string; psk: string }[] {
  return list.map((entry) => {
    const i = entry.indexOf(':');
    if (i <= 0)
      throw new ConfigError(`entry ${JSON.stringify(entry)} is not name:base64psk`, {
        file,
        section: 'meshtastic',
        key: 'channel_keys',
      });
    return { name: entry.slice(0, i).trim(), psk: entry.slice(i + 1).trim() };
  });
}

function legacyDestinations(cfg: AgentConfig): LegacyDestination[] {
  const out: LegacyDestination[] = [];
  for (const [name, s] of Object.entries(prefixedSections(cfg).server)) {
    if (!s.enabled) continue;
    const section = `server_${name}`;
    const types = s.packet_types.map((t) => t.toLowerCase());
    for (const t of types) {
      if (t !== 'all' && !(LEGACY_PACKET_TYPES as readonly string[]).includes(t)) {
        throw new ConfigError(
          `unknown packet type ${JSON.stringify(t)} (known: all, ${LEGACY_PACKET_TYPES.join(', ')})`,
          {
            file: cfg.file,
            section,
            key: 'packet_types',
          },
        );
      }
    }
    try {
      new URL(s.url);
    } catch (cause) {
      throw new ConfigError(
        `${JSON.stringify(s.url)} is not a URL`,
        { file: cfg.file, section, key: 'url' },
        { cause },
      );
    }
    out.push({
      name,
      url: s.url.replace(/\/+$/, ''),
      apiKey: s.api_key,
      reportIntervalMs: s.report_interval * 1000,
      packetTypes: types.includes('all') ? undefined : new Set(types as LegacyPacketType[]),
      maxRetries: s.max_retries,
      timeoutMs: s.timeout * 1000,
      filterNodes: nodeSet(s.filter_nodes, { file: cfg.file, section, key: 'filter_nodes' }),
      excludeNodes: nodeSet(s.exclude_nodes, { file: cfg.file, section, key: 'exclude_nodes' }),
      batchSize: s.batch_size,
    });
  }
  return out;
}

export interface SettingsOverrides {
  /** Test-only: allow traceroutes faster than the firmware minimum. */
  traceGapMs?: number;
}

/** Turns a loaded config into the agent's settings; every problem is a ConfigError naming file, section and key. */
export function resolveSettings(cfg: AgentConfig, overrides: SettingsOverrides = {}): AgentSettings {
  const file = cfg.file;
  const warnings: string[] = [];
  const guard = <T>(section: string, key: string, fn: () => T): T => {
    try {
      return fn();
    } catch (cause) {
      if (cause instanceof ConfigError) throw cause;
      throw new ConfigError((cause as Error).message, { file, section, key }, { cause });
    }
  };
  const site = guard('nats', 'site', () => assertSite(cfg.nats.site));
  const agent = guard('agent', 'id', () => assertToken('agent id', cfg.agent.id));
  const rd = cfg.route_discovery;
  let gapMs = rd.delay_between_traces * 1000;
  if (gapMs < FIRMWARE_TRACE_MIN_S * 1000) {
    if (cfg.route_discovery.enabled && rd.delay_between_traces !== 30) {
      warnings.push(
        `[route_discovery] delay_between_traces = ${rd.delay_between_traces} is below the firmware limit; using ${FIRMWARE_TRACE_MIN_S} s`,
      );
    }
    gapMs = FIRMWARE_TRACE_MIN_S * 1000;
  }
  if (overrides.traceGapMs !== undefined) gapMs = overrides.traceGapMs;
  return {
    file,
    site,
    agent,
    location: {
      name: cfg.agent.location_name,
      lat: cfg.agent.location_lat ?? null,
      lon: cfg.agent.location_lon ?? null,
    },
    radio: radioTarget(cfg.meshtastic, file),
    channelKeys: channelKeys(cfg.meshtastic.channel_keys, file),
    heartbeatMs: cfg.meshtastic.heartbeat_interval * 1000,
    reconnectMaxMs: cfg.meshtastic.reconnect_max * 1000,
    stallTimeoutMs: cfg.meshtastic.stall_timeout * 1000,
    nats: natsConnectOptions(cfg.nats, `mmm-agent-${agent}`, file),
    maxBacklog: cfg.nats.max_backlog,
    hubDomain: cfg.nats.hub_domain.trim() || undefined,
    stream: { maxAgeMs: cfg.nats.stream_max_age * H, maxBytes: cfg.nats.stream_max_bytes },
    nodedb: { intervalMs: cfg.nodedb.interval_minutes * 60_000, debounceMs: cfg.nodedb.change_debounce * 1000 },
    status: { intervalMs: cfg.status.interval * 1000, opsPort: cfg.status.ops_port },
    trace: {
      enabled: rd.enabled,
      intervalMs: rd.interval_minutes * 60_000,
      hopLimit: rd.hop_limit,
      gapMs,
      maxPerCycle: rd.max_per_cycle,
      recentMs: rd.recent_hours * H,
      cacheMs: rd.cache_hours * H,
      priorityCacheMs: cfg.agent.priority_cache_duration * H,
      priorityNodes: [...nodeSet(cfg.agent.priority_nodes, { file, section: 'agent', key: 'priority_nodes' })],
      priorityCheckMs: cfg.agent.priority_check_interval * 1000,
      timeoutMs: rd.timeout * 1000,
    },
    legacy: legacyDestinations(cfg),
    log: { level: cfg.log.level, file: cfg.log.file },
    opentelemetry: cfg.opentelemetry,
    jsonTcpLog: prefixedSections(cfg).json_tcp_log as Readonly<Record<string, JsonTcpLogConfig>>,
    warnings,
  };
}

export function loadAgentSettings(file: string, overrides?: SettingsOverrides): AgentSettings {
  return resolveSettings(readAgentConfig(file), overrides);
}
