import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ddlStatements } from '@mmm/schemas/ddl';
import { startZooKeeper, type ZooKeeperServer } from '@mmm/testkit';
import { Session } from 'chdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseSql } from './clickhouse/queries.js';

// The replicated DDL on a current ClickHouse engine (chdb, in-process) against a real ZooKeeper: every table is
// created as a registered replica, with {shard}/{replica} from the config and {database} expanded by the engine
// itself (ingest only fills it in for 18.16). Inserts cannot be checked here: an in-process engine has no
// interserver endpoint, so its replicas stay read-only. Data on replicas is tested against 18.16
// (clickhouse-replicas.test.ts); columns are compared with the single-server tables, whose data and queries
// chdb.test.ts checks. chdb's engine is one per process, configured by its first session, hence a file of its own.

describe('replicated DDL on current ClickHouse (chdb) with ZooKeeper', () => {
  let dir: string;
  let zk: ZooKeeperServer;
  let session: Session;
  const SINGLE = 'hist_single';
  const REPL = 'hist_repl';

  const q = (sql: string): Record<string, unknown>[] =>
    session
      .query(sql, 'JSONEachRow')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmm-chdb-repl-'));
    zk = await startZooKeeper();
    writeFileSync(
      join(dir, 'config.xml'),
      `<clickhouse>
  <zookeeper><node><host>${zk.host}</host><port>${zk.port}</port></node></zookeeper>
  <macros><shard>s1</shard><replica>r1</replica></macros>
</clickhouse>
`,
    );
    session = new Session(join(dir, 'chdb'), { connectionArgs: [`--config-file=${join(dir, 'config.xml')}`] });
    for (const [db, set] of [
      [SINGLE, 'clickhouse'],
      [REPL, 'clickhouse-replicated'],
    ] as const) {
      session.query(createDatabaseSql(db));
      session.query(`USE ${db}`);
      for (const stmt of ddlStatements(set)) session.query(stmt);
    }
  }, 120_000);
  afterAll(async () => {
    // Replicated tables keep background threads on ZooKeeper; dropped first, the session closes at once.
    if (session) {
      session.query(`DROP DATABASE IF EXISTS ${REPL} SYNC`);
      session.cleanup();
    }
    await zk?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('registers every table as a replica under its shard, database and table', () => {
    const tables = q(`SELECT name FROM system.tables WHERE database = '${REPL}' AND engine LIKE '%MergeTree'`).map(
      (r) => r.name as string,
    );
    expect(tables.length).toBeGreaterThanOrEqual(13);
    const replicas = q(
      `SELECT table, zookeeper_path, replica_name FROM system.replicas WHERE database = '${REPL}' ORDER BY table`,
    );
    expect(replicas).toEqual(
      [...tables]
        .sort()
        .map((t) => ({ table: t, zookeeper_path: `/clickhouse/tables/s1/${REPL}/${t}`, replica_name: 'r1' })),
    );
  });

  it('has the columns, keys, partitions and views of the single-server layout', () => {
    const shape = (db: string) => ({
      columns: q(
        `SELECT table, name, type, position FROM system.columns WHERE database = '${db}' ORDER BY table, position`,
      ),
      keys: q(
        `SELECT name, engine, sorting_key, partition_key FROM system.tables WHERE database = '${db}' ORDER BY name`,
      ).map((r) => ({ ...r, engine: String(r.engine).replace(/^Replicated/, '') })),
    });
    const single = shape(SINGLE);
    expect(single.keys.length).toBeGreaterThanOrEqual(16);
    expect(shape(REPL)).toEqual(single);
  });
});
