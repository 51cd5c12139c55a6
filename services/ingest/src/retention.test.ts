import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseServer, startClickHouse } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from './clickhouse/store.js';
import { SqliteStore } from './sqlite/store.js';
import { DAY_MS } from './store.js';
import { itemsOf } from './testing/compare.js';
import { simulateHour } from './testing/sim-hour.js';

describe('retention: 30 days raw, a year of rollups', () => {
  let server: ClickHouseServer;
  let ch: ClickHouseStore;
  let lite: SqliteStore;
  let dir: string;
  const now = Date.now();
  // Two hours of traffic: one 40 days old (beyond raw retention), one from yesterday.
  const old = simulateHour(1, Math.floor((now - 40 * DAY_MS) / 3_600_000) * 3_600_000, 5);
  const recent = simulateHour(2, Math.floor((now - DAY_MS) / 3_600_000) * 3_600_000, 5);

  beforeAll(async () => {
    server = await startClickHouse();
    dir = mkdtempSync(join(tmpdir(), 'mmm-ingest-retention-'));
    ch = new ClickHouseStore({ url: server.url, database: 'retention' });
    lite = new SqliteStore(join(dir, 'h.db'));
    await Promise.all([ch.init(), lite.init()]);
    // Different packet ids per hour: the generator numbers packets from the same start.
    const shift = (h: typeof old, by: number) =>
      h.events.map((e) =>
        e.event.kind === 'reception'
          ? { ...e, event: { ...e.event, packet: { ...e.event.packet, id: e.event.packet.id + by } } }
          : e,
      );
    const items = itemsOf([...shift(old, 0), ...shift(recent, 1_000_000)]);
    await ch.write(items, now, false);
    await lite.write(items, now);
  });
  afterAll(async () => {
    await ch?.close();
    await lite?.close();
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const chCount = async (t: string) => (await ch.query<{ n: number }>(`SELECT count() AS n FROM ${t}`))[0]!.n;
  const liteCount = (t: string) => (lite.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;

  it('drops raw history older than raw_days and keeps rollups and recent rows', async () => {
    const policy = { rawDays: 30, rollupDays: 365 };
    const rollupsBefore = [await chCount('packets_hourly'), liteCount('packets_hourly')];
    const dropped = await ch.retention(now, policy);
    const deleted = await lite.retention(now, policy);
    expect(dropped.receptions).toBe(1);
    expect(deleted.receptions).toBe(old.expected.receptions);
    for (const [table, n] of [
      ['receptions', recent.expected.receptions],
      ['telemetry', recent.expected.telemetry],
      ['agent_status', recent.expected.agent_status],
    ] as const) {
      expect(await chCount(`${table} FINAL`), table).toBe(n);
      expect(liteCount(table), table).toBe(n);
    }
    expect([await chCount('packets_hourly'), liteCount('packets_hourly')]).toEqual(rollupsBefore);
    // The hour 40 days ago recorded every node's first identity; those rows are gone, later changes stay.
    const cutoff = now - 30 * DAY_MS;
    expect(await chCount(`node_info WHERE changed_at < ${cutoff}`)).toBe(0);
    expect(liteCount(`node_info WHERE changed_at < ${cutoff}`)).toBe(0);
    expect(await chCount('node_info FINAL')).toBe(liteCount('node_info'));
  });

  it('drops rollups older than rollup_days by month partition', async () => {
    // A cutoff of yesterday: 39 days after the old hour, so always in a later month; yesterday's hour stays.
    await ch.retention(now, { rawDays: 30, rollupDays: 1 });
    await lite.retention(now, { rawDays: 30, rollupDays: 1 });
    const oldHour = Math.floor((now - 40 * DAY_MS) / 3_600_000) * 3_600_000;
    const chOld = (await ch.query<{ n: number }>(`SELECT count() AS n FROM packets_hourly WHERE hour = ${oldHour}`))[0]!
      .n;
    const liteOld = (
      lite.db.prepare('SELECT count(*) AS n FROM packets_hourly WHERE hour = ?').get(oldHour) as { n: number }
    ).n;
    expect(liteOld).toBe(0);
    // ClickHouse drops whole months (partitions wholly before the cutoff's month); SQLite deletes rows.
    expect(chOld).toBe(0);
    const recentHours = await ch.query<{ n: number }>(
      `SELECT count() AS n FROM packets_hourly WHERE hour >= ${oldHour + DAY_MS}`,
    );
    expect(recentHours[0]!.n).toBeGreaterThan(0);
    expect(await chCount('packets_hourly')).toBe(recentHours[0]!.n);
  });
});
