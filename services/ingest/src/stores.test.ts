import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reception } from '@mmm/schemas';
import { type ClickHouseServer, startClickHouse } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from './clickhouse/store.js';
import { TABLES } from './plan/tables.js';
import { SqliteStore } from './sqlite/store.js';
import { bulkReceptions } from './testing/bulk.js';
import { decodeCapture } from './testing/captures.js';
import { askClickHouse, askSqlite, itemsOf, writeInBatches } from './testing/compare.js';
import { ANSWER_QUESTIONS, COUNT_QUESTIONS, type Question } from './testing/questions.js';
import { simulateHour } from './testing/sim-hour.js';

describe('history stores: a simulated hour in ClickHouse and SQLite', () => {
  let server: ClickHouseServer;
  let ch: ClickHouseStore;
  let lite: SqliteStore;
  let dir: string;
  const hour = simulateHour(42);
  const items = itemsOf(hour.events);

  beforeAll(async () => {
    server = await startClickHouse();
    dir = mkdtempSync(join(tmpdir(), 'mmm-ingest-stores-'));
    ch = new ClickHouseStore({ url: server.url, database: 'hist_test' });
    lite = new SqliteStore(join(dir, 'history.db'));
    await Promise.all([ch.init(), lite.init()]);
    await writeInBatches(ch, items, 700);
    await writeInBatches(lite, items, 700);
  });
  afterAll(async () => {
    await ch?.close();
    await lite?.close();
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const counts = async () => ({
    ch: Object.fromEntries(await Promise.all(COUNT_QUESTIONS.map(async (q) => [q.name, await askClickHouse(ch, q)]))),
    lite: Object.fromEntries(COUNT_QUESTIONS.map((q) => [q.name, askSqlite(lite, q)])),
  });

  it('has exactly the rows the hour implies, in both stores', async () => {
    const e = hour.expected;
    const want: Record<string, unknown> = {
      'count receptions': [{ n: e.receptions }],
      'count packets': [{ n: e.packets }],
      'count positions': [{ n: e.positions }],
      'count telemetry': [{ n: e.telemetry }],
      'count text_messages': [{ n: e.text_messages }],
      'count node_info': [{ n: e.node_info }],
      'count traceroutes': [{ n: e.traceroutes }],
      'count traceroute_hops': [{ n: e.traceroute_hops }],
      'count neighbor_edges': [{ n: e.neighbor_edges }],
      'count agent_status': [{ n: e.agent_status }],
      'count nodedb': [{ n: e.nodedb }],
      'telemetry zeros': [{ n: e.telemetry_zero_values }],
      'hourly receptions': [{ r: e.receptions, p: e.packets }],
      'device rollup samples': [{ n: e.device_rollup_samples }],
    };
    const got = await counts();
    expect(got.lite).toEqual(want);
    expect(got.ch).toEqual(want);
    expect(e.receptions).toBeGreaterThan(e.packets);
    expect(e.telemetry_zero_values).toBeGreaterThan(0);
  });

  it('answers every question identically from both stores', async () => {
    for (const q of ANSWER_QUESTIONS) {
      const [a, b] = [await askClickHouse(ch, q), askSqlite(lite, q)];
      expect(a.length, q.name).toBeGreaterThan(0);
      expect(a, q.name).toEqual(b);
    }
  });

  it('keeps the table definitions in code and DDL in step', async () => {
    for (const [table, cols] of Object.entries(TABLES)) {
      const liteCols = (lite.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
      const chCols = (
        await ch.query<{ name: string }>(
          `SELECT name FROM system.columns WHERE database = 'hist_test' AND table = '${table}'`,
        )
      ).map((c) => c.name);
      expect(liteCols, table).toEqual([...cols]);
      expect(chCols, table).toEqual([...cols]);
    }
  });

  it('changes nothing when every batch is delivered again, in other batch boundaries and marked or not', async () => {
    const before = await counts();
    const answersBefore = await Promise.all(ANSWER_QUESTIONS.map((q) => askClickHouse(ch, q)));
    await writeInBatches(ch, itemsOf(hour.events, 1, true), 1_300, true);
    await writeInBatches(ch, itemsOf(hour.events.slice(100, 900), 101), 333, false);
    await writeInBatches(lite, itemsOf(hour.events, 1, true), 1_300, true);
    await writeInBatches(lite, itemsOf(hour.events.slice(100, 900), 101), 333, false);
    expect(await counts()).toEqual(before);
    expect(await Promise.all(ANSWER_QUESTIONS.map((q) => askClickHouse(ch, q)))).toEqual(answersBefore);
    // Nothing relied on merges: the same counts without FINAL.
    const raw = await ch.query<{ n: number }>('SELECT count() AS n FROM receptions');
    expect(raw[0]?.n).toBe(hour.expected.receptions);
  });

  it('stores one packet heard by several agents once per packet table, and counts its agents', async () => {
    const multi = askSqlite(lite, { name: 'x', sqlite: 'SELECT max(agents) AS m FROM packets', clickhouse: '' });
    expect(multi[0]?.m).toBeGreaterThan(1);
    const heardBy = await ch.query<{ n: number }>(
      "SELECT count() AS n FROM receptions WHERE port = 'position' AND is_first = 1",
    );
    expect(heardBy[0]?.n).toBe(hour.expected.positions);
  });

  it('stores the real captures (decoded by mmm decode) with equal answers from both stores', {
    timeout: 180_000,
  }, async () => {
    const at = hour.base + 3_700_000;
    const [mqtt, udp, perPort] = await Promise.all([
      decodeCapture('friendlydev_mqtt_serviceenvelopes.b64.txt', 'envelope', 'mqtt', at),
      decodeCapture('potato-mesh_mesh_udp_capture.jsonl', 'packet', 'udp', at + 100_000),
      decodeCapture('friendlydev_per_portnum_envelopes.jsonl', 'envelope', 'labels', at + 200_000),
    ]);
    // SOURCES.md: 337 envelope lines of which 14 are the same malformed envelope; 32 UDP packets; 11 labelled envelopes.
    expect([mqtt.events.length, mqtt.errors, udp.events.length, perPort.events.length]).toEqual([323, 14, 32, 11]);
    const events = [...mqtt.events, ...udp.events, ...perPort.events];
    const capCh = new ClickHouseStore({ url: server.url, database: 'captures' });
    const capLite = new SqliteStore(join(dir, 'captures.db'));
    try {
      await Promise.all([capCh.init(), capLite.init()]);
      await writeInBatches(capCh, itemsOf(events), 100);
      await writeInBatches(capLite, itemsOf(events), 100);
      // Expected rows from the events themselves: one reception per Msg-Id (MQTT gateways relaying the same packet at
      // the same second are one reception of the replaying agent), one canonical packet per (from, id).
      const rx = events.map((e) => e.event).filter((e): e is Reception => e.kind === 'reception');
      const msg = new Set(
        rx.map((r) => `${r.agent}:${r.packet.from}:${r.packet.id}:${r.packet.rxTime || `a${r.receivedAt}`}`),
      );
      const packets = new Set(rx.map((r) => `${r.packet.from}:${r.packet.id}`));
      const byPort = (port: string) =>
        new Set(rx.filter((r) => r.port === port).map((r) => `${r.packet.from}:${r.packet.id}`)).size;
      const want = {
        receptions: msg.size,
        packets: packets.size,
        text: byPort('text'),
        encrypted: rx.filter((r) => r.port === 'encrypted').length,
      };
      const got = async (store: 'ch' | 'lite') => {
        const ask = (q: Question) =>
          store === 'ch' ? askClickHouse(capCh, q) : Promise.resolve(askSqlite(capLite, q));
        const one = async (name: string) => (await ask(COUNT_QUESTIONS.find((q) => q.name === name)!))[0]?.n;
        return {
          receptions: await one('count receptions'),
          packets: await one('count packets'),
          text: await one('count text_messages'),
          encrypted: (
            await ask({
              name: 'enc',
              sqlite: "SELECT count(*) AS n FROM receptions WHERE port = 'encrypted'",
              clickhouse: "SELECT count() AS n FROM receptions FINAL WHERE port = 'encrypted'",
            })
          )[0]?.n,
        };
      };
      expect(await got('lite')).toEqual(want);
      expect(await got('ch')).toEqual(want);
      expect(want.encrypted).toBe(11);
      for (const q of [...COUNT_QUESTIONS, ...ANSWER_QUESTIONS]) {
        expect(await askClickHouse(capCh, q), q.name).toEqual(askSqlite(capLite, q));
      }
      const telemetry = askSqlite(capLite, {
        name: 't',
        sqlite: 'SELECT count(*) AS n FROM telemetry',
        clickhouse: '',
      });
      const positions = askSqlite(capLite, {
        name: 'p',
        sqlite: 'SELECT count(*) AS n FROM positions',
        clickhouse: '',
      });
      expect(telemetry[0]?.n).toBeGreaterThan(100);
      expect(positions[0]?.n).toBeGreaterThan(50);
    } finally {
      await capCh.close();
      await capLite.close();
    }
  });
});

describe('SQLite packets.agents', () => {
  it('counts the distinct agents that heard each packet, within a batch and across batches', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmm-ingest-agents-'));
    const lite = new SqliteStore(join(dir, 'history.db'));
    try {
      await lite.init();
      const events = bulkReceptions(3_000, Date.UTC(2026, 0, 1), 7);
      // Some packets heard again by the same agent a second later (a rebroadcast: another msg_id), not a new agent.
      const again = events
        .filter((_, i) => i % 5 === 0)
        .map((e) => {
          const ev = e.event as Reception;
          return { ...e, event: { ...ev, packet: { ...ev.packet, rxTime: ev.packet.rxTime + 1 } } };
        });
      // Odd batch sizes split many two-agent packets across batches; the repeats arrive in later batches.
      await writeInBatches(lite, itemsOf([...events, ...again]), 7);
      const wrong = lite.db
        .prepare(
          `SELECT p.from_node, p.packet_id, p.agents, t.n FROM packets p JOIN (
             SELECT from_node, packet_id, count(*) AS n FROM (SELECT DISTINCT from_node, packet_id, site, agent FROM receptions)
             GROUP BY from_node, packet_id) t USING (from_node, packet_id)
           WHERE p.agents != t.n`,
        )
        .all();
      expect(wrong).toEqual([]);
      const multi = lite.db.prepare('SELECT count(*) AS n FROM packets WHERE agents = 2').get() as { n: number };
      expect(multi.n).toBeGreaterThan(500);
      const rx = lite.db.prepare('SELECT count(*) AS n FROM receptions').get() as { n: number };
      expect(rx.n).toBe(events.length + again.length);
    } finally {
      await lite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
