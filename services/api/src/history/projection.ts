import Database from 'better-sqlite3';
import type { ReceptionDbRow } from '../rest/rows.js';
import type { Db } from '../store/db.js';
import {
  type History,
  HistoryUnavailableError,
  type PositionPoint,
  type ReceptionQuery,
  type ReceptionScan,
  SCAN_BATCH,
  type TelemetryPoint,
} from './types.js';

interface PayloadRow {
  packet_id: number;
  agent: string;
  received_at: number;
  payload: string;
}

/** One row per packet: a broadcast heard by three agents is one point of a track, not three. */
export function firstPerPacket<T extends { packet_id: number }>(rows: T[]): T[] {
  const seen = new Set<number>();
  return rows.filter((r) => {
    if (seen.has(r.packet_id)) return false;
    seen.add(r.packet_id);
    return true;
  });
}

/** The WHERE clause shared by the SQLite stores (bare columns, so the indexes apply). */
export function receptionWhere(q: ReceptionScan, col: { from: string; to: string }): { sql: string; args: unknown[] } {
  const where = ['received_at >= ?'];
  const args: unknown[] = [q.since];
  const add = (sql: string, v: unknown) => {
    where.push(sql);
    args.push(v);
  };
  if (q.ports) {
    where.push(q.ports.length ? `port IN (${q.ports.map(() => '?').join(',')})` : '0');
    args.push(...q.ports);
  }
  if (q.agent !== undefined) add('agent = ?', q.agent);
  if (q.site !== undefined) add('site = ?', q.site);
  if (q.from !== undefined) add(`${col.from} = ?`, q.from);
  if (q.to !== undefined) add(`${col.to} = ?`, q.to);
  if (q.channel !== undefined) add('channel = ?', q.channel);
  if (q.until !== undefined) add('received_at < ?', q.until);
  return { sql: where.join(' AND '), args };
}

/**
 * Iterates a query on a connection of its own: an open better-sqlite3 iterator makes its connection refuse every
 * other statement, and the shared one serves other requests (and, for the projection, its writer) meanwhile. WAL
 * lets this reader run beside the writer. An in-memory database (tests) has only the one connection.
 */
export async function* scanSqlite(
  path: string,
  sql: string,
  args: readonly unknown[],
  shared?: Database.Database,
): AsyncGenerator<ReceptionDbRow[]> {
  let db: Database.Database;
  try {
    db = shared ?? new Database(path, { readonly: true, fileMustExist: true });
    if (!shared) db.pragma('busy_timeout = 5000');
  } catch (err) {
    throw new HistoryUnavailableError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    let batch: ReceptionDbRow[] = [];
    if (shared) {
      // One statement at a time on a shared connection: page by offset instead of holding an iterator open.
      for (let offset = 0; ; offset += SCAN_BATCH) {
        batch = db.prepare(`${sql} LIMIT ? OFFSET ?`).all(...args, SCAN_BATCH, offset) as ReceptionDbRow[];
        if (batch.length) yield batch;
        if (batch.length < SCAN_BATCH) return;
      }
    }
    for (const row of db.prepare(sql).iterate(...args) as IterableIterator<ReceptionDbRow>) {
      batch.push(row);
      if (batch.length >= SCAN_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  } finally {
    if (!shared) db.close();
  }
}

/** The projection's own recent receptions (`[database] keep_hours`). */
export class ProjectionHistory implements History {
  readonly kind = 'projection' as const;
  constructor(private readonly db: Db) {}

  async receptions(q: ReceptionQuery): Promise<ReceptionDbRow[]> {
    const w = receptionWhere(q, { from: 'from_num', to: 'to_num' });
    return this.db
      .prepare(`SELECT * FROM receptions WHERE ${w.sql} ORDER BY received_at DESC LIMIT ? OFFSET ?`)
      .all(...w.args, q.limit, q.offset) as ReceptionDbRow[];
  }

  async receptionsOf(from: number, packetId: number): Promise<ReceptionDbRow[]> {
    return this.db
      .prepare('SELECT * FROM receptions WHERE from_num = ? AND packet_id = ? ORDER BY received_at ASC')
      .all(from, packetId) as ReceptionDbRow[];
  }

  scanReceptions(q: ReceptionScan): AsyncIterable<ReceptionDbRow[]> {
    const w = receptionWhere(q, { from: 'from_num', to: 'to_num' });
    return scanSqlite(
      this.db.name,
      `SELECT * FROM receptions WHERE ${w.sql} ORDER BY received_at DESC`,
      w.args,
      this.db.memory ? this.db : undefined,
    );
  }

  private payloads(node: number, port: string, since: number, limit: number): PayloadRow[] {
    return firstPerPacket(
      this.db
        .prepare(
          'SELECT packet_id, agent, received_at, payload FROM receptions WHERE from_num = ? AND port = ? AND received_at >= ? ORDER BY received_at DESC LIMIT ?',
        )
        .all(node, port, since, limit * 4) as PayloadRow[],
    );
  }

  async positions(node: number, since: number, limit: number): Promise<PositionPoint[]> {
    const out: PositionPoint[] = [];
    for (const r of this.payloads(node, 'position', since, limit)) {
      const p = JSON.parse(r.payload) as {
        latitudeI?: number;
        longitudeI?: number;
        latitude?: number;
        longitude?: number;
        altitude?: number;
      };
      const lat = p.latitude ?? (p.latitudeI !== undefined ? p.latitudeI / 1e7 : undefined);
      const lon = p.longitude ?? (p.longitudeI !== undefined ? p.longitudeI / 1e7 : undefined);
      if (lat === undefined || lon === undefined || (lat === 0 && lon === 0)) continue;
      out.push({
        received_at: r.received_at,
        agent: r.agent,
        latitude: lat,
        longitude: lon,
        altitude: p.altitude ?? null,
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  async telemetry(
    node: number,
    variant: string,
    field: string | undefined,
    since: number,
    limit: number,
  ): Promise<TelemetryPoint[]> {
    const out: TelemetryPoint[] = [];
    for (const r of this.payloads(node, 'telemetry', since, limit)) {
      const v = (JSON.parse(r.payload) as Record<string, Record<string, unknown> | undefined>)[variant];
      if (!v) continue;
      const values: Record<string, number> = {};
      for (const [k, x] of Object.entries(v)) {
        if (field && k !== field) continue;
        if (typeof x === 'number') values[k] = x;
        else if (typeof x === 'boolean') values[k] = x ? 1 : 0;
      }
      if (!Object.keys(values).length) continue;
      out.push({ received_at: r.received_at, agent: r.agent, values });
      if (out.length >= limit) break;
    }
    return out;
  }

  async close(): Promise<void> {}
}
