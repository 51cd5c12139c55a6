// Test support (not shipped in the public entry): a real nats-server with the hub streams, and the API started on it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, parseConfig } from '@mmm/common';
import {
  type AgentStatus,
  msgIdOf as contractMsgId,
  type MeshEvent,
  msgIds,
  type NodeDbSnapshot,
  type Port,
  type Reception,
  SCHEMA_VERSION,
  subjectOf,
  type TopologyUpdate,
  type TraceOutcome,
} from '@mmm/schemas';
import { type NatsServer, startNatsServer } from '@mmm/testkit';
import { connect, type JetStreamClient, type NatsConnection, RetentionPolicy, StorageType } from 'nats';
import { apiConfigSpec } from './config.js';
import { type ApiService, startApi } from './main.js';

export const SITE = 'berlin';
export const KEYS = {
  'gw-legacy': 'key-legacy-0123456789',
  'gw-other': 'key-other-0123456789',
  'load-1': 'key-load1-0123456789',
} as const;

export interface Stack {
  nats: NatsServer;
  nc: NatsConnection;
  js: JetStreamClient;
  api: ApiService;
  url: string;
  dir: string;
  publish(ev: MeshEvent): Promise<void>;
  dispose(): Promise<void>;
}

/** Creates the hub streams as `mmm streams provision` would: MESH also captures the legacy site's subjects. */
export async function provisionStreams(nc: NatsConnection, sites: string[] = [SITE, 'legacy']): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({
    name: 'MESH',
    subjects: sites.map((s) => `mesh.v1.${s}.>`),
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: 120_000_000_000,
  });
  await jsm.streams.add({
    name: 'MESH_DERIVED',
    subjects: ['mesh.v1.derived.>'],
    storage: StorageType.File,
    duplicate_window: 120_000_000_000,
  });
}

export async function startStack(
  extraIni = '',
  opts: { nats?: NatsServer; webDir?: string; historyPath?: string } = {},
): Promise<Stack> {
  const nats = opts.nats ?? (await startNatsServer({ name: 'api-test' }));
  const dir = mkdtempSync(join(tmpdir(), 'mmm-api-test-'));
  const nc = await connect({ servers: nats.url });
  if (!opts.nats) await provisionStreams(nc);
  const ini = `[server]\nport = 0\ninstance_id = t${Math.floor(Math.random() * 1e6)}\n[nats]\nurl = ${nats.url}\n[database]\npath = ${join(dir, 'api.db')}\n[web]\ndir = ${opts.webDir ?? join(dir, 'no-web')}\n[history]\nsqlite_path = ${opts.historyPath ?? join(dir, 'history.db')}\n[api_keys]\n${Object.entries(
    KEYS,
  )
    .map(([a, k]) => `${a} = ${k}`)
    .join('\n')}\n${extraIni}`;
  const cfg = parseConfig(apiConfigSpec, ini, 'test.ini', { env: {} });
  const api = await startApi(cfg, createLogger({ name: 'api', level: 'silent' }));
  const js = nc.jetstream();
  return {
    nats,
    nc,
    js,
    api,
    dir,
    url: `http://127.0.0.1:${api.port}`,
    publish: async (ev) => {
      await js.publish(subjectOf(ev), JSON.stringify(ev), { msgID: msgIdOf(ev) });
    },
    dispose: async () => {
      await api.close();
      await nc.close();
      if (!opts.nats) await nats.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { subjectOf };

/** The contract Msg-Id; topology events get a test key. */
export function msgIdOf(ev: MeshEvent): string {
  if (ev.kind === 'topology') return msgIds.topology(ev.type, 'test', ev.at);
  if (!('site' in ev)) throw new Error(`no msg id for ${ev.kind}`);
  return contractMsgId(ev);
}

let nextId = 1;
export function rx<P extends Port>(
  port: P,
  payload: Record<string, unknown>,
  o: {
    from: number;
    to?: number;
    agent?: string;
    site?: string;
    at?: number;
    id?: number;
    snr?: number;
    rssi?: number;
    hopStart?: number;
    hopLimit?: number;
    relay?: number;
  },
): Reception {
  const at = o.at ?? Date.now();
  return {
    v: SCHEMA_VERSION,
    kind: 'reception',
    site: o.site ?? SITE,
    agent: o.agent ?? 'gw-1',
    receivedAt: at,
    source: 'radio',
    port,
    packet: {
      from: o.from,
      to: o.to ?? 0xffffffff,
      id: o.id ?? nextId++,
      channel: 0,
      rxTime: Math.floor(at / 1000),
      rxSnr: o.snr ?? 6.25,
      rxRssi: o.rssi ?? -92,
      hopStart: o.hopStart ?? 3,
      hopLimit: o.hopLimit ?? 2,
      relayNode: o.relay ?? 0,
      nextHop: 0,
      wantAck: false,
      viaMqtt: false,
      priority: 0,
      pkiEncrypted: false,
    },
    encryption: 'none',
    payload,
  } as Reception;
}

export function status(
  agent: string,
  o: { at?: number; name?: string; lat?: number | null; lon?: number | null; myNodeNum?: number; site?: string } = {},
): AgentStatus {
  const at = o.at ?? Date.now();
  return {
    v: SCHEMA_VERSION,
    kind: 'status',
    site: o.site ?? SITE,
    agent,
    at,
    startedAt: at - 60_000,
    version: '0.1.0',
    location: {
      name: o.name ?? `Site ${agent}`,
      lat: o.lat === undefined ? 52.52 : o.lat,
      lon: o.lon === undefined ? 13.4 : o.lon,
    },
    radio: {
      state: 'connected',
      transport: 'tcp',
      address: '127.0.0.1:4403',
      since: at - 60_000,
      lastFrameAt: at,
      reconnects: 0,
      ...(o.myNodeNum ? { myNodeNum: o.myNodeNum, firmwareVersion: '2.7.15' } : {}),
    },
    buffer: { inFlight: 0, streamMessages: 12, streamBytes: 3400, hubConnected: true },
    counters: { receptions: 42 },
  };
}

export function nodedb(agent: string, nodes: NodeDbSnapshot['nodes'], at = Date.now()): NodeDbSnapshot {
  return { v: SCHEMA_VERSION, kind: 'nodedb', site: SITE, agent, takenAt: at, reason: 'interval', nodes };
}

export function trace(
  agent: string,
  from: number,
  to: number,
  route: number[],
  o: { at?: number; outcome?: TraceOutcome['outcome']; requestId?: number } = {},
): TraceOutcome {
  const at = o.at ?? Date.now();
  const ok = (o.outcome ?? 'success') === 'success';
  return {
    v: SCHEMA_VERSION,
    kind: 'trace',
    site: SITE,
    agent,
    requestId: o.requestId ?? nextId++,
    from,
    to,
    startedAt: at - 3000,
    finishedAt: at,
    outcome: o.outcome ?? 'success',
    trigger: 'sweep',
    ...(ok
      ? {
          towards: { route, snr: route.slice(1).map(() => 6) },
          back: { route: [...route].reverse(), snr: route.slice(1).map(() => 5) },
        }
      : {}),
  };
}

export function links(
  l: { from: number; to: number; snr?: number; quality?: number }[],
  at = Date.now(),
): TopologyUpdate {
  return {
    v: SCHEMA_VERSION,
    kind: 'topology',
    type: 'link',
    at,
    links: l.map((x) => ({
      from: x.from,
      to: x.to,
      snrLatest: x.snr ?? 5,
      snrMedian: x.snr ?? 5,
      samples: 3,
      firstSeen: at - 60_000,
      lastSeen: at,
      evidence: ['traceroute'],
      quality: x.quality ?? 0.8,
    })),
  };
}

export async function getJson(
  url: string,
  init?: RequestInit,
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: returned as text
  }
  return { status: res.status, body, headers: res.headers };
}
