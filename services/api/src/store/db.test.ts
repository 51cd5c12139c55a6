import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDb } from './db.js';

describe('projection database', () => {
  it('adds the columns of later releases to a file an older release wrote, keeping its rows, and drops the indexes it no longer keeps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmm-api-db-'));
    const path = join(dir, 'api.db');
    try {
      // The agents table as releases before the `source` column wrote it.
      const old = new Database(path);
      old.exec(`CREATE TABLE agents (
        site TEXT NOT NULL, agent TEXT NOT NULL, location_name TEXT, lat REAL, lon REAL,
        first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, packet_count INTEGER NOT NULL DEFAULT 0,
        version TEXT, radio_state TEXT, my_node_num INTEGER, status_json TEXT, status_at INTEGER,
        PRIMARY KEY (site, agent))`);
      old.exec(`CREATE TABLE receptions (id TEXT PRIMARY KEY, from_num INTEGER, to_num INTEGER, port TEXT, agent TEXT,
        packet_id INTEGER, received_at INTEGER);
        CREATE INDEX rx_time ON receptions(received_at); CREATE INDEX rx_to_time ON receptions(to_num, received_at);
        CREATE INDEX rx_from_time ON receptions(from_num, received_at);`);
      old
        .prepare('INSERT INTO agents (site, agent, first_seen, last_seen, packet_count) VALUES (?, ?, ?, ?, ?)')
        .run('s1', 'gw-1', 1, 2, 3);
      old.close();
      const db = openDb(path);
      expect(db.prepare('SELECT agent, packet_count, source FROM agents').all()).toEqual([
        { agent: 'gw-1', packet_count: 3, source: null },
      ]);
      // Indexes that older releases made and this one does not keep are dropped.
      const indexes = (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'receptions'").all() as {
          name: string;
        }[]
      )
        .map((r) => r.name)
        .filter((n) => !n.startsWith('sqlite_'))
        .sort();
      expect(indexes).toEqual(['rx_packet', 'rx_time']);
      db.close();
      // Opening it again changes nothing.
      const again = openDb(path);
      expect(
        (again.pragma('table_info(agents)') as { name: string }[]).filter((c) => c.name === 'source'),
      ).toHaveLength(1);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
