import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { type ClickHouseServer, type NatsServer, startClickHouse, startNatsServer, waitFor } from '@mmm/testkit';
import Database from 'better-sqlite3';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, nodedb, provisionStreams, type Stack, startStack } from '../testing.js';
import { chString } from './clickhouse.js';
import {
  applyClickHouseDdl,
  applySqliteDdl,
  insertClickHouse,
  insertSqlite,
  positionRow,
  receptionRow,
  type SeedReception,
  telemetryRows,
} from './seed.js';

const BOB = 0x0000beef;
const CAROL = 0x00c0ffee;
const now = Date.now();

/** A small history as ingest would have written it: 2 positions, 1 telemetry heard twice, 1 text. */
function dataset() {
  const base = { site: 'berlin', to: 0xffffffff, snr: 5, rssi: -90, hopStart: 3, hopLimit: 2, relay: 0, isFirst: true };
  const rx: SeedReception[] = [
    {
      ...base,
      agent: 'gw-1',
      from: BOB,
      id: 11,
      port: 'position',
      receivedAt: now - 40_000,
      payload: { latitudeI: 525310000, longitudeI: 134120000, altitude: 40 },
    },
    {
      ...base,
      agent: 'gw-1',
      from: BOB,
      id: 12,
      port: 'position',
      receivedAt: now - 30_000,
      payload: { latitudeI: 525320000, longitudeI: 134130000, altitude: 41 },
    },
    {
      ...base,
      agent: 'gw-1',
      from: BOB,
      id: 13,
      port: 'telemetry',
      receivedAt: now - 20_000,
      payload: { deviceMetrics: { batteryLevel: 0, voltage: 3.9 } },
    },
    {
      ...base,
      agent: 'gw-2',
      from: BOB,
      id: 13,
      port: 'telemetry',
      receivedAt: now - 19_000,
      snr: -2,
      rssi: -115,
      hopLimit: 0,
      relay: 0xee,
      isFirst: false,
      payload: { deviceMetrics: { batteryLevel: 0, voltage: 3.9 } },
    },
    {
      ...base,
      agent: 'gw-2',
      from: CAROL,
      to: BOB,
      id: 14,
      port: 'text',
      receivedAt: now - 10_000,
      payload: { text: "it's <b>bold</b>" },
    },
  ];
  return {
    receptions: rx.map((r, i) => receptionRow(r, i + 1)),
    positions: [positionRow(rx[0]!, 52.531, 13.412, 40), positionRow(rx[1]!, 52.532, 13.413, 41)],
    telemetry: telemetryRows(rx[2]!, 'deviceMetrics', { batteryLevel: 0, voltage: 3.9 }),
  };
}

async function answers(s: Stack) {
  const q = async (p: string) => (await getJson(`${s.url}${p}`)).body;
  // Node routes need the node in the projection (a NodeDB entry); the series come from the history store.
  await s.publish(nodedb('gw-1', [{ num: BOB, user: { shortName: 'BOB', longName: 'Bob' } }]));
  await waitFor('node known', async () => (await getJson(`${s.url}/api/nodes/!0000beef/positions`)).status === 200);
  return {
    positions: await q('/api/nodes/!0000beef/positions'),
    telemetry: await q('/api/nodes/!0000beef/telemetry?variant=deviceMetrics'),
    battery: await q('/api/nodes/!0000beef/telemetry?variant=deviceMetrics&field=batteryLevel'),
    packets: await q('/api/packets'),
    text: await q('/api/packets?type=text&from_node=!00c0ffee&to_node=!0000beef'),
    agent: await q('/api/packets?agent_id=gw-2'),
    receptions: await q('/api/packets/!0000beef/13/receptions'),
  };
}

describe("history from ingest's stores (SQLite and ClickHouse) gives the same answers", () => {
  let nats: NatsServer;
  let ch: ClickHouseServer;
  const dir = mkdtempSync(join(tmpdir(), 'mmm-api-hist-'));
  const results: Record<string, Awaited<ReturnType<typeof answers>>> = {};

  beforeAll(async () => {
    nats = await startNatsServer({ name: 'api-hist' });
    const nc = await connect({ servers: nats.url });
    await provisionStreams(nc);
    await nc.close();
    ch = await startClickHouse();
  });
  afterAll(async () => {
    await ch?.dispose();
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads ingest's SQLite history DB", async () => {
    const path = join(dir, 'history.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    applySqliteDdl(db);
    const d = dataset();
    insertSqlite(db, 'receptions', d.receptions);
    insertSqlite(db, 'positions', d.positions);
    insertSqlite(db, 'telemetry', d.telemetry);
    db.close();
    // The nodes must be known to the projection for the node routes; a NodeDB-less check of the packet routes suffices.
    const s = await startStack('', { nats, historyPath: path });
    try {
      results.sqlite = await answers(s);
      expect(results.sqlite.positions.positions.map((p: { latitude: number }) => p.latitude)).toEqual([52.531, 52.532]);
      expect(results.sqlite.telemetry.points).toEqual([
        expect.objectContaining({ agent_id: 'gw-1', values: { batteryLevel: 0, voltage: 3.9 } }),
      ]);
      expect(results.sqlite.battery.points[0].values).toEqual({ batteryLevel: 0 });
      expect(results.sqlite.packets.packets).toHaveLength(5);
      expect(results.sqlite.text.packets).toEqual([
        expect.objectContaining({ type: 'text_message', payload: "it's <b>bold</b>", to_node: '!0000beef' }),
      ]);
      expect(results.sqlite.agent.packets.map((p: { agent_id: string }) => p.agent_id)).toEqual(['gw-2', 'gw-2']);
      expect(results.sqlite.receptions.receptions).toEqual([
        expect.objectContaining({ agent_id: 'gw-1', hops: 1 }),
        expect.objectContaining({ agent_id: 'gw-2', hops: 3, snr: -2, rssi: -115, relay_node: 0xee }),
      ]);
    } finally {
      await s.dispose();
    }
  });

  it('reads ClickHouse with the same DDL and returns the same answers', async () => {
    const client = createClient({ url: ch.url });
    await client.command({ query: 'CREATE DATABASE IF NOT EXISTS mmm' });
    const db = createClient({ url: ch.url, database: 'mmm' });
    await applyClickHouseDdl(db);
    const d = dataset();
    await insertClickHouse(db, 'positions', d.positions);
    await insertClickHouse(db, 'telemetry', d.telemetry);
    await insertClickHouse(db, 'receptions', d.receptions);
    await db.close();
    await client.close();
    const s = await startStack(`[clickhouse]\nurl = ${ch.url}\ndatabase = mmm\n`, { nats });
    try {
      const got = await answers(s);
      // Ids of rows differ by nothing; timestamps and every field must match what SQLite answered.
      expect(got).toEqual(results.sqlite);
    } finally {
      await s.dispose();
    }
  });

  it('escapes strings for ClickHouse literals', () => {
    expect(chString("a'b\\c")).toBe("'a\\'b\\\\c'");
  });
});
