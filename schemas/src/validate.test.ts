import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Mesh } from '@mmm/meshtastic';
import { fixturePath } from '@mmm/testkit';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS } from './catalog.js';
import type { NodeDbEntry, NodeDbSnapshot } from './events/nodedb.js';
import type { Reception } from './events/reception.js';
import { nodeNumFromId, ROLE_NAMES } from './nodes.js';
import { renderSchema } from './render.js';
import { subjects } from './subjects.js';
import { decodeEvent, validateEvent } from './validate.js';

const jsonDir = fileURLToPath(new URL('../json/', import.meta.url));
const ajv = new Ajv2020({ strict: false, allErrors: false });
const jsonValidators = Object.fromEntries(
  EVENT_SCHEMAS.map(({ kind, file }) => [kind, ajv.compile(JSON.parse(readFileSync(jsonDir + file, 'utf8')))]),
);

/** Checks an event with both our validator and an independent JSON Schema validator on the committed files. */
function expectValid(event: unknown) {
  const ours = validateEvent(event);
  expect(ours.ok ? 'ok' : ours.error).toBe('ok');
  const kind = (event as { kind: string }).kind;
  const v = jsonValidators[kind]!;
  expect(v(event) ? 'ok' : JSON.stringify(v.errors?.slice(0, 2))).toBe('ok');
}

type PotatoNode = {
  node_id: string;
  short_name?: string;
  long_name?: string;
  hw_model?: string;
  role?: string | number;
  snr?: number | null;
  last_heard?: number;
  battery_level?: number | null;
  voltage?: number | null;
  uptime_seconds?: number | null;
  channel_utilization?: number | null;
  air_util_tx?: number | null;
  latitude?: number | null;
  longitude?: number | null;
  altitude?: number | null;
};

/** The potato-mesh node DB (1,000 real nodes) as the NodeInfo entries a radio reports. */
function potatoNodeDb(): NodeDbEntry[] {
  const nodes = JSON.parse(readFileSync(fixturePath('potato-mesh_nodes.json'), 'utf8')) as PotatoNode[];
  const hw = Mesh.HardwareModel as unknown as Record<string, number>;
  return nodes.map((n) => {
    // The file mixes enum names and raw numbers ("12", "110") for roles and hardware models.
    const enumValue = (v: string | number | undefined, names: Record<string, number>) =>
      v === undefined || v === '' ? 0 : /^[0-9]+$/.test(String(v)) ? Number(v) : (names[String(v)] ?? 0);
    const role = enumValue(n.role, Object.fromEntries(ROLE_NAMES.map((r, i) => [r, i])));
    const num = nodeNumFromId(n.node_id);
    const entry: Record<string, unknown> = {
      num,
      user: {
        id: n.node_id,
        longName: n.long_name ?? '',
        shortName: n.short_name ?? '',
        hwModel: enumValue(n.hw_model, hw),
        role,
      },
    };
    if (typeof n.snr === 'number') entry.snr = n.snr;
    if (n.last_heard) entry.lastHeard = n.last_heard;
    if (typeof n.latitude === 'number' && typeof n.longitude === 'number') {
      entry.position = {
        latitudeI: Math.round(n.latitude * 1e7),
        longitudeI: Math.round(n.longitude * 1e7),
        altitude: Math.round(n.altitude ?? 0),
        latitude: n.latitude,
        longitude: n.longitude,
      };
    }
    const metrics = {
      batteryLevel: n.battery_level,
      voltage: n.voltage,
      channelUtilization: n.channel_utilization,
      airUtilTx: n.air_util_tx,
      uptimeSeconds: n.uptime_seconds,
    };
    entry.deviceMetrics = Object.fromEntries(Object.entries(metrics).filter(([, v]) => typeof v === 'number'));
    return entry as NodeDbEntry;
  });
}

function neighborReceptions(): Reception[] {
  const edges = JSON.parse(readFileSync(fixturePath('potato-mesh_neighbors.json'), 'utf8')) as {
    node_id: string;
    neighbor_id: string;
    snr: number;
    rx_time: number;
  }[];
  const byNode = new Map<string, typeof edges>();
  for (const e of edges) byNode.set(e.node_id, [...(byNode.get(e.node_id) ?? []), e]);
  return [...byNode.entries()].map(([node, list], i) => ({
    v: 1,
    kind: 'reception',
    site: 'berlin',
    agent: 'gw-1',
    receivedAt: list[0]!.rx_time * 1000,
    source: 'radio',
    port: 'neighborinfo',
    packet: {
      from: nodeNumFromId(node),
      to: 0xffffffff,
      id: 1000 + i,
      channel: 0,
      rxTime: list[0]!.rx_time,
      rxSnr: 6.25,
      rxRssi: -92,
      hopStart: 3,
      hopLimit: 3,
      relayNode: 0,
      nextHop: 0,
      wantAck: false,
      viaMqtt: false,
      priority: 0,
      pkiEncrypted: false,
    },
    encryption: 'decrypted',
    data: { portnum: 71, wantResponse: false, dest: 0, source: 0, requestId: 0, replyId: 0, emoji: 0 },
    payload: {
      nodeId: nodeNumFromId(node),
      nodeBroadcastIntervalSecs: 900,
      neighbors: list.map((e) => ({ nodeId: nodeNumFromId(e.neighbor_id), snr: e.snr, lastRxTime: e.rx_time })),
    },
  }));
}

describe('JSON Schema files', () => {
  it('are committed for every event kind and match the TypeBox source', () => {
    for (const { file, schema } of EVENT_SCHEMAS) {
      expect(readFileSync(jsonDir + file, 'utf8'), `${file} is stale: run npm run gen -w @mmm/schemas`).toBe(
        renderSchema(schema),
      );
    }
  });
});

describe('events built from real captures', () => {
  it('a node-DB snapshot of the 1,000 potato-mesh nodes validates, names and roles intact', () => {
    const nodes = potatoNodeDb();
    expect(nodes).toHaveLength(1000);
    const snap: NodeDbSnapshot = {
      v: 1,
      kind: 'nodedb',
      site: 'berlin',
      agent: 'gw-1',
      takenAt: 1_764_108_222_000,
      reason: 'interval',
      nodes,
    };
    expectValid(snap);
    expect(nodes.filter((n) => n.position).length).toBe(631);
    expect(nodes.filter((n) => n.user?.role === 12).length).toBe(28); // 25 CLIENT_BASE by name + 3 raw 12
    expect(nodes.some((n) => [...(n.user?.longName ?? '')].some((c) => c.codePointAt(0)! > 127))).toBe(true);
  });

  it('neighbor-info receptions rebuilt from the 110 real edges validate', () => {
    const events = neighborReceptions();
    expect(events.reduce((s, e) => s + (e.payload as { neighbors: unknown[] }).neighbors.length, 0)).toBe(110);
    expect(events).toHaveLength(18);
    for (const e of events) {
      expectValid(e);
      expect(decodeEvent(subjects.rx(e.site, e.agent, e.port), JSON.stringify(e)).ok).toBe(true);
    }
  });
});

// Tests poke arbitrary paths of an event to break it.
// biome-ignore lint/suspicious/noExplicitAny: deliberately untyped to build invalid events
type Loose = Record<string, any>;

describe('broken events are rejected with a message naming the field', () => {
  const good = () => structuredClone(neighborReceptions()[0]!) as unknown as Loose;

  it('missing and mistyped envelope fields', () => {
    const a = good();
    delete a.packet.rxSnr;
    expect(validateEvent(a)).toEqual({ ok: false, error: expect.stringMatching(/^\/packet\/rxSnr: /) });
    const b = good();
    b.packet.from = -5;
    expect(validateEvent(b)).toEqual({ ok: false, error: expect.stringMatching(/^\/packet\/from: /) });
    const c = good();
    c.site = 'a.b';
    expect(validateEvent(c)).toEqual({ ok: false, error: expect.stringMatching(/^\/site: /) });
    const d = good();
    d.surprise = 1;
    expect(validateEvent(d)).toEqual({ ok: false, error: expect.stringMatching(/surprise/) });
  });

  it('payload errors point into the payload', () => {
    const a = good();
    a.payload.neighbors[0].snr = 'loud';
    expect(validateEvent(a)).toEqual({ ok: false, error: expect.stringMatching(/^\/payload\/neighbors\/0\/snr: /) });
  });

  it('non-objects, unknown kinds, bad JSON and mis-routed events', () => {
    expect(validateEvent(null)).toEqual({ ok: false, error: '/: expected a JSON object' });
    expect(validateEvent({ kind: 'weird' })).toEqual({ ok: false, error: expect.stringMatching(/^\/kind: /) });
    expect(decodeEvent('mesh.v1.berlin.gw-1.rx.text', '{nope')).toEqual({
      ok: false,
      error: expect.stringMatching(/not JSON/),
    });
    const e = good();
    expect(decodeEvent('mesh.v1.berlin.gw-1.rx.text', JSON.stringify(e))).toEqual({
      ok: false,
      error: expect.stringMatching(/^\/port: /),
    });
    expect(decodeEvent('mesh.v1.paris.gw-1.rx.neighborinfo', JSON.stringify(e))).toEqual({
      ok: false,
      error: expect.stringMatching(/^\/site: /),
    });
    expect(decodeEvent('mesh.v1.berlin.gw-1.trace', JSON.stringify(e))).toEqual({
      ok: false,
      error: expect.stringMatching(/^\/kind: /),
    });
  });
});
