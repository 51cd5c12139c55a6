import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { type ClickHouseServer, type NatsServer, startClickHouse, startNatsServer, waitFor } from '@mmm/testkit';
import { getIssues } from '@placemarkio/check-geojson';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyClickHouseDdl,
  applySqliteDdl,
  insertClickHouse,
  insertSqlite,
  positionRow,
  receptionRow,
  type SeedReception,
} from '../history/seed.js';
import { getJson, links, nodedb, provisionStreams, type Stack, startStack } from '../testing.js';
import { cell, NODE_COLUMNS, PACKET_COLUMNS } from './columns.js';

const NOW = Date.now();
const NODES = 12;
const ROWS = 1500;
const num = (i: number) => 0x10000 + i;
// Text that CSV quoting must survive: separators, quotes, line breaks, non-ASCII.
const TEXTS = ['plain', 'a, b', 'say "hi"', 'two\nlines', 'crlf\r\nend', 'ümlaut ✓ 📡', '', '=1+1'];
const PORTS = ['text', 'position', 'telemetry', 'nodeinfo'] as const;

/** A simulated hour as ingest would have stored it: receptions of 12 nodes by 3 agents, one per 2.4 s. */
function hour() {
  const rx: SeedReception[] = [];
  for (let i = 0; i < ROWS; i++) {
    const port = PORTS[i % PORTS.length]!;
    const from = num(i % NODES);
    const payload =
      port === 'text'
        ? { text: TEXTS[i % TEXTS.length] }
        : port === 'position'
          ? { latitudeI: 525000000 + i * 100, longitudeI: 134000000 + i * 100, altitude: 30 + (i % 7) }
          : port === 'telemetry'
            ? { deviceMetrics: { batteryLevel: i % 101, voltage: 3.7 } }
            : { id: `!${from.toString(16).padStart(8, '0')}`, shortName: `N${i % NODES}`, longName: 'Node, "long"' };
    rx.push({
      site: i % 5 === 0 ? 'hamburg' : 'berlin',
      agent: `gw-${i % 3}`,
      from,
      to: i % 9 === 0 ? num((i + 1) % NODES) : 0xffffffff,
      id: 1000 + i,
      port,
      receivedAt: NOW - 3_600_000 + i * 2400,
      snr: (i % 40) / 4 - 5,
      rssi: -60 - (i % 50),
      hopStart: 3,
      hopLimit: i % 4,
      relay: i % 256,
      payload,
      isFirst: true,
    });
  }
  return {
    receptions: rx.map((r, i) => receptionRow(r, i + 1)),
    positions: rx
      .filter((r) => r.port === 'position' && r.from === num(1))
      .map((r) => {
        const p = r.payload as { latitudeI: number; longitudeI: number; altitude: number };
        return positionRow(r, p.latitudeI / 1e7, p.longitudeI / 1e7, p.altitude);
      }),
  };
}

async function text(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** The projection's nodes (names with separators, positions) and links between them. */
async function seedProjection(s: Stack) {
  await s.publish(
    nodedb(
      'gw-0',
      Array.from({ length: NODES }, (_, i) => ({
        num: num(i),
        user: { shortName: `N${i}`, longName: i % 2 ? `Node ${i}, "quoted"` : `Node ${i}` },
        ...(i < NODES - 2 ? { position: { latitudeI: 525000000 + i * 10000, longitudeI: 134000000 + i * 10000 } } : {}),
        lastHeard: Math.floor(NOW / 1000) - i * 60,
      })),
    ),
  );
  await s.publish(
    links([
      { from: num(0), to: num(1), snr: 6.5, quality: 0.9 },
      { from: num(1), to: num(0), snr: -3, quality: 0.4 },
      // An end without a position: left out of the GeoJSON.
      { from: num(2), to: num(NODES - 1), snr: 1, quality: 0.5 },
    ]),
  );
  await waitFor(
    'projection has the nodes and links',
    async () => {
      const g = (await getJson(`${s.url}/api/topology/graph`)).body;
      const n = (await getJson(`${s.url}/api/nodes/detailed`)).body;
      return g.links?.length === 3 && n.nodes?.length === NODES;
    },
    60_000,
  );
}

/** CSV cells as csv-stringify would have to write the API's row, compared after an independent CSV parser read it. */
function asCells(row: Record<string, unknown>, columns: readonly string[]) {
  return Object.fromEntries(columns.map((c) => [c, cell(row[c])]));
}

/** Every export, read back with independent readers, checked against the API's own JSON answers. */
async function checkExports(s: Stack) {
  const api = (await getJson(`${s.url}/api/packets?hours=2&limit=5000`)).body.packets as Record<string, unknown>[];
  expect(api).toHaveLength(ROWS);

  const csv = await text(`${s.url}/api/export/packets.csv?hours=2`);
  expect(csv.status).toBe(200);
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="packets-\d{8}T\d{6}Z\.csv"$/);
  const rows = parse(csv.body, { columns: true }) as Record<string, string>[];
  expect(Object.keys(rows[0]!)).toEqual([...PACKET_COLUMNS]);
  // The payload column is JSON text equal to the API's payload; every other cell is the API's value.
  expect(rows.map((r) => (r.payload ? JSON.parse(r.payload) : null))).toEqual(api.map((r) => r.payload));
  expect(rows.map(({ payload: _, ...r }) => r)).toEqual(
    api.map(({ payload: _, ...r }) =>
      asCells(
        r,
        PACKET_COLUMNS.filter((c) => c !== 'payload'),
      ),
    ),
  );

  const nd = await text(`${s.url}/api/export/packets.ndjson?hours=2`);
  expect(nd.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  const lines = nd.body.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines.map((l) => JSON.parse(l))).toEqual(api);

  // The same filters as /api/packets.
  for (const f of [
    'type=text_message',
    'type=position&agent_id=gw-1',
    'site=hamburg',
    `from_node=!${num(3).toString(16).padStart(8, '0')}`,
    `to_node=!${num(1).toString(16).padStart(8, '0')}`,
  ]) {
    const want = (await getJson(`${s.url}/api/packets?hours=2&limit=5000&${f}`)).body.packets;
    const got = (await text(`${s.url}/api/export/packets.ndjson?hours=2&${f}`)).body;
    expect(want.length).toBeGreaterThan(0);
    expect(
      got
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(want);
  }
  // A time range: the half-open interval [since, until).
  const since = new Date(NOW - 3_600_000 + 100 * 2400).toISOString();
  const until = new Date(NOW - 3_600_000 + 200 * 2400).toISOString();
  const ranged = (await text(`${s.url}/api/export/packets.ndjson?since=${since}&until=${until}`)).body;
  expect(
    ranged
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).packet_id),
  ).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + 199 - i));
  // Nothing matches: a header-only CSV, an empty NDJSON.
  expect((await text(`${s.url}/api/export/packets.csv?hours=2&site=nowhere`)).body).toBe(
    `${PACKET_COLUMNS.join(',')}\n`,
  );
  expect((await text(`${s.url}/api/export/packets.ndjson?hours=2&site=nowhere`)).body).toBe('');

  const nodes = (await getJson(`${s.url}/api/nodes/detailed?limit=10000`)).body.nodes as Record<string, unknown>[];
  const ncsv = parse((await text(`${s.url}/api/export/nodes.csv`)).body, { columns: true }) as Record<string, string>[];
  expect(ncsv.map((r) => r.node_id)).toEqual(nodes.map((n) => n.node_id));
  for (const [i, n] of nodes.entries()) {
    const pos = n.position as number[] | null;
    expect(ncsv[i]).toMatchObject({
      short_name: cell(n.short_name),
      long_name: cell(n.long_name),
      latitude: cell(pos?.[0]),
      longitude: cell(pos?.[1]),
      last_heard: cell(n.last_heard),
      active: cell(n.active),
      seeing_agent_ids: (n.seeing_agent_ids as string[]).join(';'),
    });
  }
  expect(Object.keys(ncsv[0]!)).toEqual([...NODE_COLUMNS]);

  const ngeo = await text(`${s.url}/api/export/nodes.geojson`);
  expect(ngeo.headers.get('content-type')).toMatch(/^application\/geo\+json/);
  expect(getIssues(ngeo.body)).toEqual([]);
  const fc = JSON.parse(ngeo.body);
  const placed = nodes.filter((n) => n.position);
  expect(placed).toHaveLength(NODES - 2);
  expect(fc.features.map((f: { id: string }) => f.id)).toEqual(placed.map((n) => n.node_id));
  for (const [i, f] of fc.features.entries()) {
    const pos = placed[i]!.position as number[];
    expect(f.geometry).toEqual({ type: 'Point', coordinates: [pos[1], pos[0]] });
    expect(f.properties.long_name).toBe(placed[i]!.long_name);
  }

  const graph = (await getJson(`${s.url}/api/topology/graph`)).body;
  const lgeo = await text(`${s.url}/api/export/links.geojson`);
  expect(getIssues(lgeo.body)).toEqual([]);
  const lfc = JSON.parse(lgeo.body);
  const pos = new Map(graph.nodes.map((n: { node_id: string; position: number[] }) => [n.node_id, n.position]));
  const drawn = graph.links.filter(
    (l: { from_node_id: string; to_node_id: string }) => pos.get(l.from_node_id) && pos.get(l.to_node_id),
  );
  expect(drawn).toHaveLength(2);
  expect(lfc.features).toHaveLength(2);
  for (const [i, f] of lfc.features.entries()) {
    const l = drawn[i];
    const a = pos.get(l.from_node_id) as number[];
    const b = pos.get(l.to_node_id) as number[];
    expect(f.geometry).toEqual({
      type: 'LineString',
      coordinates: [
        [a[1], a[0]],
        [b[1], b[0]],
      ],
    });
    expect(f.properties).toMatchObject({ snr_latest: l.snr_latest, quality: l.quality, from_node_id: l.from_node_id });
  }

  const node0 = `!${num(1).toString(16).padStart(8, '0')}`;
  const track = (await getJson(`${s.url}/api/nodes/${node0}/positions?limit=10000`)).body.positions as {
    latitude: number;
    longitude: number;
    altitude: number;
    timestamp: string;
  }[];
  const tgeo = await text(`${s.url}/api/export/nodes/${node0}/track.geojson`);
  expect(getIssues(tgeo.body)).toEqual([]);
  const tfc = JSON.parse(tgeo.body);
  expect(track.length).toBeGreaterThan(10);
  expect(tfc.features[0].geometry).toEqual({
    type: 'LineString',
    coordinates: track.map((p) => [p.longitude, p.latitude, p.altitude]),
  });
  expect(tfc.features[0].properties.times).toEqual(track.map((p) => p.timestamp));
  expect(tfc.features.slice(1).map((f: { properties: { timestamp: string } }) => f.properties.timestamp)).toEqual(
    track.map((p) => p.timestamp),
  );
  return { csv: csv.body, ndjson: nd.body };
}

describe('exports equal the API answers, read back with independent parsers', () => {
  let nats: NatsServer;
  let ch: ClickHouseServer | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'mmm-api-export-'));
  const data = hour();
  let fromSqlite: { csv: string; ndjson: string } | undefined;

  beforeAll(async () => {
    nats = await startNatsServer({ name: 'api-export' });
    const nc = await connect({ servers: nats.url });
    await provisionStreams(nc, ['berlin', 'hamburg', 'legacy']);
    await nc.close();
  });
  afterAll(async () => {
    await ch?.dispose();
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("from ingest's SQLite store", { timeout: 120_000 }, async () => {
    const path = join(dir, 'history.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    applySqliteDdl(db);
    insertSqlite(db, 'receptions', data.receptions);
    insertSqlite(db, 'positions', data.positions);
    db.close();
    const s = await startStack('', { nats, historyPath: path });
    try {
      await seedProjection(s);
      fromSqlite = await checkExports(s);
    } finally {
      await s.dispose();
    }
  });

  it('from ClickHouse: the same files byte for byte', { timeout: 180_000 }, async () => {
    ch = await startClickHouse();
    const admin = createClient({ url: ch.url });
    await admin.command({ query: 'CREATE DATABASE IF NOT EXISTS mmm' });
    await admin.close();
    const db = createClient({ url: ch.url, database: 'mmm' });
    await applyClickHouseDdl(db);
    await insertClickHouse(db, 'receptions', data.receptions);
    await insertClickHouse(db, 'positions', data.positions);
    await db.close();
    const s = await startStack(`[clickhouse]\nurl = ${ch.url}\ndatabase = mmm\n`, { nats });
    try {
      await seedProjection(s);
      const got = await checkExports(s);
      expect(got.csv).toBe(fromSqlite?.csv);
      expect(got.ndjson).toBe(fromSqlite?.ndjson);
      // A store that fails before the first row answers 503 with a JSON error, not a broken 200.
      await ch.dispose();
      ch = undefined;
      const r = await getJson(`${s.url}/api/export/packets.csv`);
      expect(r.status).toBe(503);
      expect(r.body.error).toBe('Service Unavailable');
    } finally {
      await s.dispose();
    }
  });

  it('needs a read token like every other read', { timeout: 60_000 }, async () => {
    const s = await startStack('[auth]\nread_tokens = export-read-token-0123456789\n', { nats });
    try {
      for (const p of [
        'packets.csv',
        'packets.ndjson',
        'nodes.csv',
        'nodes.geojson',
        'links.geojson',
        'nodes/!00010000/track.geojson',
      ]) {
        expect((await text(`${s.url}/api/export/${p}`)).status).toBe(401);
        const ok = await text(`${s.url}/api/export/${p}`, {
          headers: { authorization: 'Bearer export-read-token-0123456789' },
        });
        expect(ok.status, p).toBe(200);
      }
      expect(
        (
          await getJson(
            `${s.url}/api/export/packets.csv?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z&token=export-read-token-0123456789`,
          )
        ).status,
      ).toBe(400);
    } finally {
      await s.dispose();
    }
  });
});
