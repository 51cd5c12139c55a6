import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

/** The original's file cannot be read as one: damaged, foreign, or missing. The message says which and why. */
export class OriginalDbError extends Error {
  override readonly name = 'OriginalDbError';
}

/**
 * The tables imported, in import order (agents and names first, so the packets that follow find them), with the
 * columns read from each (reference/original-inventory.md §2.4). node_name_history came later in the original's
 * life: a file without it has no name history.
 */
export const TABLES = {
  agents: ['agent_id', 'location_name', 'location_lat', 'location_lon', 'last_seen'],
  user_info: [
    'node_id',
    'short_name',
    'long_name',
    'macaddr',
    'hw_model',
    'role',
    'battery_level',
    'voltage',
    'channel_utilization',
    'air_util_tx',
    'uptime_seconds',
    'hops_away',
    'last_heard',
    'is_licensed',
    'last_updated',
    'first_seen_by_agent',
  ],
  nodes: ['node_id', 'agent_id', 'last_seen', 'battery_level', 'position_lat', 'position_lon', 'snr', 'updated_at'],
  node_name_history: ['node_id', 'short_name', 'long_name', 'changed_at', 'changed_by_agent'],
  network_routes: [
    'discovery_id',
    'source_node_id',
    'target_node_id',
    'agent_id',
    'route_path',
    'discovery_timestamp',
    'response_timestamp',
    'success',
  ],
  packets: [
    'agent_id',
    'timestamp',
    'from_node',
    'to_node',
    'packet_id',
    'channel',
    'type',
    'payload',
    'rssi',
    'snr',
    'hop_limit',
    'want_ack',
  ],
} as const;
export type Table = keyof typeof TABLES;
export const TABLE_ORDER = Object.keys(TABLES) as Table[];
const OPTIONAL: ReadonlySet<Table> = new Set(['node_name_history']);

export type Row = Record<string, unknown> & { _rowid: number };

export interface OriginalDb {
  readonly path: string;
  /** Identifies this database (schema, first packet, agents): the key of the resume state. */
  readonly fingerprint: string;
  /** Rows per table (0 for an absent optional table). */
  readonly counts: Readonly<Record<Table, number>>;
  /** Rows after `afterRowid`, in rowid order, at most `limit`. */
  rows(table: Table, afterRowid: number, limit: number): Row[];
  close(): void;
}

/**
 * Opens the original server's SQLite file read-only and refuses anything else: a missing file, a file that is not
 * SQLite, a damaged one (PRAGMA quick_check), or a SQLite database without the original's tables and columns.
 */
export function openOriginal(path: string): OriginalDb {
  if (!existsSync(path)) throw new OriginalDbError(`${path}: no such file`);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new OriginalDbError(`${path}: cannot open it: ${(err as Error).message}`, { cause: err });
  }
  try {
    return check(db, path);
  } catch (err) {
    db.close();
    if (err instanceof OriginalDbError) throw err;
    throw new OriginalDbError(`${path}: not a readable SQLite database: ${(err as Error).message}`, { cause: err });
  }
}

function check(db: Database.Database, path: string): OriginalDb {
  // Reading the schema is the first read of the file: "file is not a database" surfaces here.
  const schema = db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY type, name').all() as {
    name: string;
    sql: string | null;
  }[];
  const problems = (db.pragma('quick_check(10)') as { quick_check: string }[]).map((r) => r.quick_check);
  if (problems.length !== 1 || problems[0] !== 'ok')
    throw new OriginalDbError(`${path}: the database is damaged (PRAGMA quick_check: ${problems.join('; ')})`);
  const names = new Set(schema.map((s) => s.name));
  const missingTables = TABLE_ORDER.filter((t) => !names.has(t) && !OPTIONAL.has(t));
  if (missingTables.length)
    throw new OriginalDbError(
      `${path}: not a database of the original server (no table ${missingTables.join(', ')}; it has ${[...names].filter((n) => !n.startsWith('sqlite_')).join(', ') || 'no tables'})`,
    );
  const present = new Set<Table>();
  for (const t of TABLE_ORDER) {
    if (!names.has(t)) continue;
    const cols = new Set((db.pragma(`table_info(${t})`) as { name: string }[]).map((c) => c.name));
    const missing = TABLES[t].filter((c) => !cols.has(c));
    if (missing.length)
      throw new OriginalDbError(
        `${path}: not a database of the original server (table ${t} lacks ${missing.join(', ')})`,
      );
    present.add(t);
  }
  const counts = Object.fromEntries(
    TABLE_ORDER.map((t) => [
      t,
      present.has(t) ? (db.prepare(`SELECT count(*) AS c FROM ${t}`).get() as { c: number }).c : 0,
    ]),
  ) as Record<Table, number>;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify(schema))
    .update(JSON.stringify(db.prepare('SELECT * FROM packets ORDER BY rowid LIMIT 1').get() ?? null))
    .update(JSON.stringify(db.prepare('SELECT * FROM agents ORDER BY rowid').all()))
    .digest('hex')
    .slice(0, 32);
  const stmts = new Map(
    [...present].map((t) => [
      t,
      db.prepare(`SELECT rowid AS _rowid, ${TABLES[t].join(', ')} FROM ${t} WHERE rowid > ? ORDER BY rowid LIMIT ?`),
    ]),
  );
  return {
    path,
    fingerprint,
    counts,
    rows(table, afterRowid, limit) {
      const stmt = stmts.get(table);
      if (!stmt) return [];
      try {
        return stmt.all(afterRowid, limit) as Row[];
      } catch (err) {
        throw new OriginalDbError(`${path}: reading ${table} failed: ${(err as Error).message}`, { cause: err });
      }
    },
    close: () => db.close(),
  };
}
