import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';

/** Default ports: the usual ones of each piece, so `mmm up` on a clean machine needs no flags. */
export const DEFAULT_PORTS = {
  api: 8082,
  nats: 4222,
  leaf: 4223,
  leafnode: 7422,
  monitor: 8222,
  sim: 4403,
  opsBase: 9401,
  cluster: 6222,
  mqtt: 1883,
} as const;

/** With --hub-nodes 3, hub node i (0, 1, 2) listens on each hub port + HUB_NODE_PORT_STEP * i. */
export const HUB_NODE_PORT_STEP = 10;
export const HUB_NODE_COUNTS = [1, 3] as const;
export type HubNodes = (typeof HUB_NODE_COUNTS)[number];

export type Radio = { kind: 'tcp'; host: string; port: number } | { kind: 'serial'; path: string };

export interface UpOptions {
  dataDir: string;
  site: string;
  agentId: string;
  /** 1: one hub nats-server; 3: a JetStream cluster of three on this machine, streams and buckets with 3 replicas. */
  hubNodes: HubNodes;
  ports: {
    api: number;
    nats: number;
    leaf: number;
    leafnode: number;
    /** Hub monitor port; the leaf's is this + 1. */
    monitor: number;
    sim: number;
    /** agent ops = base, ingest = base + 1, route-analysis = base + 2, alerts = base + 3, mqtt = base + 4. */
    opsBase: number;
    /** Cluster route port of the first hub node (only with 3 hub nodes). */
    cluster: number;
    /** The leaf's MQTT listener (only with --mqtt). */
    mqtt: number;
  };
  /** MQTT into the pipeline: the leaf's own listener (--mqtt) and/or a bridge to an existing broker. */
  mqtt?: { listener: boolean; broker?: string; topic: string };
  radio?: Radio;
  clickhouse?: string;
  /** Webhooks the alerts service notifies (generic JSON body), from --alerts-webhook. */
  alertsWebhooks?: string[];
  simNodes?: number;
  simRate?: number;
  simSeed?: number;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  reconfigure: boolean;
  logLevel: string;
}

export function parsePort(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < 1 || n > 65535)
      throw new InvalidArgumentError(`${flag} must be a port number from 1 to 65535`);
    return n;
  };
}

/** `tcp:host[:port]` or `serial:/dev/ttyUSB0`. */
export function parseRadio(v: string): Radio {
  const tcp = /^tcp:(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(v);
  if (tcp) {
    const port = tcp[2] ? Number(tcp[2]) : 4403;
    if (port < 1 || port > 65535) throw new InvalidArgumentError('the radio port must be from 1 to 65535');
    return { kind: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port };
  }
  const serial = /^serial:(\/\S+)$/.exec(v);
  if (serial) return { kind: 'serial', path: serial[1]! };
  throw new InvalidArgumentError('expected tcp:HOST[:PORT] or serial:/dev/DEVICE');
}

export function parseToken(what: string) {
  return (v: string): string => {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(v))
      throw new InvalidArgumentError(`${what} may hold only letters, digits, _ and - (at most 64)`);
    return v;
  };
}

export function parseCount(what: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min)
      throw new InvalidArgumentError(`${what} must be a number >= ${min}`);
    return n;
  };
}

export function parseHubNodes(v: string): HubNodes {
  const n = Number(v);
  if (!HUB_NODE_COUNTS.includes(n as HubNodes))
    throw new InvalidArgumentError('--hub-nodes must be 1 (one hub nats-server) or 3 (a three-node cluster)');
  return n as HubNodes;
}

/** The client, leafnode, monitor and cluster ports of each hub node. */
export function hubNodePorts(o: Pick<UpOptions, 'hubNodes' | 'ports'>) {
  return Array.from({ length: o.hubNodes }, (_, i) => ({
    index: i,
    nats: o.ports.nats + HUB_NODE_PORT_STEP * i,
    leafnode: o.ports.leafnode + HUB_NODE_PORT_STEP * i,
    monitor: o.ports.monitor + HUB_NODE_PORT_STEP * i,
    cluster: o.ports.cluster + HUB_NODE_PORT_STEP * i,
  }));
}

/** An MQTT broker URL for --mqtt-broker. */
export function parseMqttUrl(v: string): string {
  try {
    const u = new URL(v);
    if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(u.protocol)) throw new Error('scheme');
    return v;
  } catch {
    throw new InvalidArgumentError('expected an MQTT URL such as mqtt://127.0.0.1:1883 (mqtts://, ws://, wss://)');
  }
}

/** An MQTT topic filter: `#` only as the last level, `+` only as a whole level. */
export function parseMqttTopic(v: string): string {
  const levels = v.split('/');
  const ok =
    v !== '' &&
    levels.every((l, i) => (l.includes('#') ? l === '#' && i === levels.length - 1 : !l.includes('+') || l === '+'));
  if (!ok) throw new InvalidArgumentError('expected an MQTT topic filter such as msh/# or msh/EU_868/2/e/#');
  return v;
}

/** A webhook URL for --alerts-webhook: http(s), kept as given (paths and queries matter to receivers). */
export function parseWebhookUrl(v: string): string {
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL such as https://ntfy.sh/my-mesh-alerts');
  }
  // The URL goes into alerts.ini, where # and ; start a comment.
  if (/[#;\s]/.test(v)) throw new InvalidArgumentError('a webhook URL here cannot hold #, ; or spaces (INI comments)');
  return v;
}

export function parseUrl(v: string): string {
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
    return v.replace(/\/$/, '');
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL such as http://127.0.0.1:8123');
  }
}

/** Commander's parsed flags to validated options; ports must differ from each other. */
export function toUpOptions(raw: Record<string, unknown>): UpOptions {
  const ports = {
    api: (raw.port as number | undefined) ?? DEFAULT_PORTS.api,
    nats: (raw.natsPort as number | undefined) ?? DEFAULT_PORTS.nats,
    leaf: (raw.leafPort as number | undefined) ?? DEFAULT_PORTS.leaf,
    leafnode: (raw.leafnodePort as number | undefined) ?? DEFAULT_PORTS.leafnode,
    monitor: (raw.monitorPort as number | undefined) ?? DEFAULT_PORTS.monitor,
    sim: (raw.simPort as number | undefined) ?? DEFAULT_PORTS.sim,
    opsBase: (raw.opsPortBase as number | undefined) ?? DEFAULT_PORTS.opsBase,
    cluster: (raw.clusterPort as number | undefined) ?? DEFAULT_PORTS.cluster,
    mqtt: (raw.mqttPort as number | undefined) ?? DEFAULT_PORTS.mqtt,
  };
  const mqtt =
    raw.mqtt === true || raw.mqttBroker !== undefined
      ? {
          listener: raw.mqtt === true,
          ...(raw.mqttBroker !== undefined ? { broker: raw.mqttBroker as string } : {}),
          topic: (raw.mqttTopic as string | undefined) ?? 'msh/#',
        }
      : undefined;
  if (raw.mqttTopic !== undefined && raw.mqttBroker === undefined) {
    throw new InvalidArgumentError('--mqtt-topic needs --mqtt-broker (the leaf listener bridge reads msh/#)');
  }
  const hubNodes = (raw.hubNodes as HubNodes | undefined) ?? 1;
  const radio = raw.radio as Radio | undefined;
  const seen = new Map<number, string>();
  for (const [flag, port] of portList({ hubNodes, ports, radio, mqtt })) {
    if (port > 65535) throw new InvalidArgumentError(`${flag} is ${port}, beyond 65535`);
    const other = seen.get(port);
    if (other) throw new InvalidArgumentError(`${flag} and ${other} are both ${port}; every port must differ`);
    seen.set(port, flag);
  }
  return {
    dataDir: resolve((raw.dataDir as string | undefined) ?? 'data'),
    site: (raw.site as string | undefined) ?? 'local',
    agentId: (raw.agentId as string | undefined) ?? 'agent-1',
    hubNodes,
    ports,
    radio,
    ...(mqtt ? { mqtt } : {}),
    clickhouse: raw.clickhouse as string | undefined,
    ...(raw.alertsWebhook !== undefined ? { alertsWebhooks: raw.alertsWebhook as string[] } : {}),
    simNodes: raw.simNodes as number | undefined,
    simRate: raw.simRate as number | undefined,
    simSeed: raw.simSeed as number | undefined,
    readyTimeoutMs: ((raw.readyTimeout as number | undefined) ?? 120) * 1000,
    stopTimeoutMs: ((raw.stopTimeout as number | undefined) ?? 15) * 1000,
    reconfigure: raw.reconfigure === true,
    logLevel: (raw.logLevel as string | undefined) ?? 'info',
  };
}

/** Every port the stack listens on, named by the flag that sets it. */
export function portList(o: Pick<UpOptions, 'hubNodes' | 'ports' | 'radio' | 'mqtt'>): [string, number][] {
  const p = o.ports;
  const all: [string, number][] = [
    ['--port', p.api],
    ['--nats-port', p.nats],
    ['--leaf-port', p.leaf],
    ['--leafnode-port', p.leafnode],
    ['--monitor-port', p.monitor],
    ['--monitor-port + 1 (leaf monitor)', p.monitor + 1],
    ['--ops-port-base (agent)', p.opsBase],
    ['--ops-port-base + 1 (ingest)', p.opsBase + 1],
    ['--ops-port-base + 2 (route-analysis)', p.opsBase + 2],
    ['--ops-port-base + 3 (alerts)', p.opsBase + 3],
  ];
  if (!o.radio) all.push(['--sim-port', p.sim]);
  if (o.mqtt) all.push(['--ops-port-base + 4 (mqtt)', p.opsBase + 4]);
  if (o.mqtt?.listener) all.push(['--mqtt-port', p.mqtt]);
  if (o.hubNodes > 1) {
    all.push(['--cluster-port', p.cluster]);
    for (const n of hubNodePorts(o).slice(1)) {
      const plus = ` + ${HUB_NODE_PORT_STEP * n.index} (hub node ${n.index + 1})`;
      all.push(
        [`--nats-port${plus}`, n.nats],
        [`--leafnode-port${plus}`, n.leafnode],
        [`--monitor-port${plus}`, n.monitor],
        [`--cluster-port${plus}`, n.cluster],
      );
    }
  }
  return all;
}
