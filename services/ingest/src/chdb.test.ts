import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ddlStatements } from '@mmm/schemas/ddl';
import { Session } from 'chdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlLiteral } from './clickhouse/literal.js';
import {
  createDatabaseSql,
  dropPartitionSql,
  latestIdentitiesSql,
  partitionsSql,
  storedKeysSql,
  storedReceptionsSql,
} from './clickhouse/queries.js';
import { planBatch } from './plan/planner.js';
import { DERIVED_TABLES, type Row, TABLES, type TableName } from './plan/tables.js';
import { SqliteStore } from './sqlite/store.js';
import { askSqlite, itemsOf } from './testing/compare.js';
import { ANSWER_QUESTIONS, COUNT_QUESTIONS, normalise } from './testing/questions.js';
import { simulateHour } from './testing/sim-hour.js';

// The same DDL and the same query text as on Debian's ClickHouse 18.16, run on a current ClickHouse engine (chdb,
// in-process): it must create every table and give the answers SQLite gives.

describe('DDL and queries on current ClickHouse (chdb)', () => {
  let dir: string;
  let session: Session;
  let lite: SqliteStore;
  const hour = simulateHour(42);
  const DB = 'hist';

  const q = (sql: string): Record<string, unknown>[] => {
    const text = session.query(sql, 'JSONEachRow');
    return text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
  };

  function insert(table: TableName, rows: readonly Row[]): void {
    const cols = TABLES[table];
    for (let i = 0; i < rows.length; i += 500) {
      const values = rows
        .slice(i, i + 500)
        .map((r) => `(${cols.map((c) => sqlLiteral(r[c] ?? null)).join(', ')})`)
        .join(', ');
      session.query(`INSERT INTO ${DB}.${table} (${cols.join(', ')}) VALUES ${values}`);
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmm-chdb-'));
    session = new Session(join(dir, 'chdb'));
    session.query(createDatabaseSql(DB));
    session.query(`USE ${DB}`);
    for (const stmt of ddlStatements('clickhouse')) session.query(stmt);
    const plan = planBatch(
      itemsOf(hour.events),
      { msgIds: new Set(), packets: new Set(), nodeInfo: new Map() },
      Date.now(),
    );
    for (const t of DERIVED_TABLES) insert(t, plan.rows[t]);
    insert('receptions', plan.rows.receptions);
    lite = new SqliteStore(join(dir, 'history.db'));
    await lite.init();
    await lite.write(itemsOf(hour.events), Date.now());
  });
  afterAll(async () => {
    await lite?.close();
    session?.cleanup?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs on a modern engine', () => {
    const [v] = q('SELECT version() AS v');
    expect(Number(String(v?.v).split('.')[0])).toBeGreaterThanOrEqual(24);
    const tables = q(`SELECT name FROM system.tables WHERE database = '${DB}' ORDER BY name`).map((r) => r.name);
    expect(tables).toEqual(
      expect.arrayContaining([...Object.keys(TABLES), 'packets', 'packets_hourly', 'telemetry_hourly', 'packets_mv']),
    );
  });

  it('gives the same counts and answers as SQLite (materialized views included)', () => {
    for (const question of [...COUNT_QUESTIONS, ...ANSWER_QUESTIONS]) {
      const sql = question.clickhouse.replace(/\bFROM (\w+)/g, (m, t: string) =>
        t in TABLES || t.startsWith('packets') || t.startsWith('telemetry') ? `FROM ${DB}.${t}` : m,
      );
      expect(normalise(q(sql)), question.name).toEqual(askSqlite(lite, question));
    }
  });

  it('runs the lookups ingest uses before inserting', () => {
    const anyRx = q(`SELECT from_node, packet_id, msg_id FROM ${DB}.receptions LIMIT 1`)[0]!;
    const found = q(storedReceptionsSql([Number(anyRx.from_node)], [Number(anyRx.packet_id)]));
    expect(found.map((r) => r.msg_id)).toContain(anyRx.msg_id);
    const ids = q(latestIdentitiesSql([0x10000001, 0x10000004]));
    expect(ids).toHaveLength(2);
    expect(ids.every((r) => typeof r.latest === 'number' || typeof r.latest === 'string')).toBe(true);
    expect(q(storedKeysSql('telemetry', [0x10000001])).length).toBeGreaterThan(0);
    expect(q(storedKeysSql('agent_status', [hour.base])).length).toBeGreaterThanOrEqual(0);
  });

  it('drops day partitions for retention', () => {
    const parts = q(partitionsSql(DB, 'receptions'));
    expect(parts.length).toBeGreaterThan(0);
    const p = Number(parts[0]!.partition);
    // The session's current database is hist (USE above), as the store's client has its database.
    session.query(dropPartitionSql('receptions', p));
    expect(Number(q(`SELECT count() AS n FROM ${DB}.receptions`)[0]?.n)).toBe(0);
  });
});
