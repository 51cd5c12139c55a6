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
} as const;

export type Radio = { kind: 'tcp'; host: string; port: number } | { kind: 'serial'; path: string };

export interface UpOptions {
  dataDir: string;
  site: string;
  agentId: string;
  ports: {
    api: number;
    nats: number;
    leaf: number;
    leafnode: number;
    /** Hub monitor port; the leaf's is this + 1. */
    monitor: number;
    sim: number;
    /** agent ops = base, ingest = base + 1, route-analysis = base + 2. */
    opsBase: number;
  };
  radio?: Radio;
  clickhouse?: string;
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
  };
  const all: [string, number][] = [
    ['--port', ports.api],
    ['--nats-port', ports.nats],
    ['--leaf-port', ports.leaf],
    ['--leafnode-port', ports.leafnode],
    ['--monitor-port', ports.monitor],
    ['--monitor-port + 1', ports.monitor + 1],
    ['--ops-port-base', ports.opsBase],
    ['--ops-port-base + 1', ports.opsBase + 1],
    ['--ops-port-base + 2', ports.opsBase + 2],
  ];
  if (!raw.radio) all.push(['--sim-port', ports.sim]);
  const seen = new Map<number, string>();
  for (const [flag, port] of all) {
    if (port > 65535) throw new InvalidArgumentError(`${flag} is ${port}, beyond 65535`);
    const other = seen.get(port);
    if (other) throw new InvalidArgumentError(`${flag} and ${other} are both ${port}; every port must differ`);
    seen.set(port, flag);
  }
  return {
    dataDir: resolve((raw.dataDir as string | undefined) ?? 'data'),
    site: (raw.site as string | undefined) ?? 'local',
    agentId: (raw.agentId as string | undefined) ?? 'agent-1',
    ports,
    radio: raw.radio as Radio | undefined,
    clickhouse: raw.clickhouse as string | undefined,
    simNodes: raw.simNodes as number | undefined,
    simRate: raw.simRate as number | undefined,
    simSeed: raw.simSeed as number | undefined,
    readyTimeoutMs: ((raw.readyTimeout as number | undefined) ?? 120) * 1000,
    stopTimeoutMs: ((raw.stopTimeout as number | undefined) ?? 15) * 1000,
    reconfigure: raw.reconfigure === true,
    logLevel: (raw.logLevel as string | undefined) ?? 'info',
  };
}
