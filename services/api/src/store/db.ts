import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_SQL } from './schema.js';

export type Db = Database.Database;

/** A projection file that cannot be opened or migrated. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

/** Opens (creating) the projection: WAL so readers never wait for the consumer's write transactions. */
export function openDb(path: string): Db {
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // The node list and its per-agent rows are read on every map refresh: keep them in memory.
    db.pragma('cache_size = -65536');
    db.pragma('mmap_size = 268435456');
    db.exec(SCHEMA_SQL);
    addMissingColumns(db);
    for (const index of DROPPED_INDEXES) db.exec(`DROP INDEX IF EXISTS ${index}`);
    return db;
  } catch (cause) {
    throw new StoreError(`cannot open the projection database ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Indexes older releases made that cost more per reception than they served (schema.ts). */
const DROPPED_INDEXES = ['rx_port_time', 'rx_to_time', 'rx_agent_time', 'rx_from_time'] as const;

/** Columns added after a release: a projection file written by an older version gets them, empty. */
const ADDED_COLUMNS: readonly [table: string, column: string, type: string][] = [['agents', 'source', 'TEXT']];

function addMissingColumns(db: Db): void {
  for (const [table, column, type] of ADDED_COLUMNS) {
    const have = (db.pragma(`table_info(${table})`) as { name: string }[]).some((c) => c.name === column);
    if (!have) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}
