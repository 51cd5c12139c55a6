import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { ReceptionDbRow } from '../rest/rows.js';
import { receptionWhere, scanSqlite } from './projection.js';
import {
  type History,
  HistoryUnavailableError,
  type PositionPoint,
  type ReceptionQuery,
  type ReceptionScan,
  type TelemetryPoint,
} from './types.js';

/** Columns of ingest's `receptions` (schemas/ddl/sqlite) under the names the rows use. */
const RX_COLS = `msg_id AS id, site, agent, from_node AS from_num, to_node AS to_num, packet_id, port, channel,
  CASE WHEN rx_time > 0 THEN rx_time * 1000 END AS rx_time, received_at, rx_snr AS snr, rx_rssi AS rssi, hop_start, hop_limit,
  relay_node, via_mqtt, source, payload`;

export interface TelemetryRow {
  packet_id: number;
  received_at: number;
  agent: string;
  field: string;
  value: number;
}

/** Long-form rows (one per field) back into one point per packet, newest first. */
export function groupTelemetry(rows: TelemetryRow[], limit: number): TelemetryPoint[] {
  const out: TelemetryPoint[] = [];
  const byPacket = new Map<number, TelemetryPoint>();
  for (const r of rows) {
    let p = byPacket.get(Number(r.packet_id));
    if (!p) {
      if (out.length >= limit) continue;
      p = { received_at: Number(r.received_at), agent: r.agent, values: {} };
      byPacket.set(Number(r.packet_id), p);
      out.push(p);
    }
    p.values[r.field] = Number(r.value);
  }
  return out;
}

/** ingest's SQLite history DB, opened read-only (WAL lets it read while ingest writes). */
export class SqliteHistory implements History {
  readonly kind = 'sqlite' as const;
  private db: Database.Database | undefined;

  constructor(private readonly path: string) {}

  /** Opens on first use, so the API may start before ingest created the file. */
  available(): boolean {
    if (this.db) return true;
    if (!existsSync(this.path)) return false;
    try {
      this.db = new Database(this.path, { readonly: true, fileMustExist: true });
      this.db.pragma('busy_timeout = 5000');
      return true;
    } catch {
      return false;
    }
  }

  private all<T>(sql: string, ...args: unknown[]): T[] {
    if (!this.available())
      throw new HistoryUnavailableError(
        `the history database ${this.path} does not exist yet (is mmm ingest running?)`,
      );
    try {
      return this.db!.prepare(sql).all(...args) as T[];
    } catch (err) {
      throw new HistoryUnavailableError(`history query failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async receptions(q: ReceptionQuery): Promise<ReceptionDbRow[]> {
    const w = receptionWhere(q, { from: 'from_node', to: 'to_node' });
    return this.all<ReceptionDbRow>(
      `SELECT ${RX_COLS} FROM receptions WHERE ${w.sql} ORDER BY received_at DESC LIMIT ? OFFSET ?`,
      ...w.args,
      q.limit,
      q.offset,
    );
  }

  scanReceptions(q: ReceptionScan): AsyncIterable<ReceptionDbRow[]> {
    if (!this.available())
      throw new HistoryUnavailableError(
        `the history database ${this.path} does not exist yet (is mmm ingest running?)`,
      );
    const w = receptionWhere(q, { from: 'from_node', to: 'to_node' });
    return scanSqlite(this.path, `SELECT ${RX_COLS} FROM receptions WHERE ${w.sql} ORDER BY received_at DESC`, w.args);
  }

  async receptionsOf(from: number, packetId: number): Promise<ReceptionDbRow[]> {
    return this.all<ReceptionDbRow>(
      `SELECT ${RX_COLS} FROM receptions WHERE from_node = ? AND packet_id = ? ORDER BY received_at ASC`,
      from,
      packetId,
    );
  }

  async positions(node: number, since: number, limit: number): Promise<PositionPoint[]> {
    return this.all<PositionPoint>(
      'SELECT received_at, agent, latitude, longitude, altitude FROM positions WHERE from_node = ? AND received_at >= ? AND NOT (latitude_i = 0 AND longitude_i = 0) ORDER BY received_at DESC LIMIT ?',
      node,
      since,
      limit,
    );
  }

  async telemetry(
    node: number,
    variant: string,
    field: string | undefined,
    since: number,
    limit: number,
  ): Promise<TelemetryPoint[]> {
    const rows = field
      ? this.all<TelemetryRow>(
          'SELECT packet_id, received_at, agent, field, value FROM telemetry WHERE from_node = ? AND variant = ? AND field = ? AND received_at >= ? ORDER BY received_at DESC LIMIT ?',
          node,
          variant,
          field,
          since,
          limit,
        )
      : this.all<TelemetryRow>(
          'SELECT packet_id, received_at, agent, field, value FROM telemetry WHERE from_node = ? AND variant = ? AND received_at >= ? ORDER BY received_at DESC LIMIT ?',
          node,
          variant,
          since,
          limit * 64,
        );
    return groupTelemetry(rows, limit);
  }

  async close(): Promise<void> {
    this.db?.close();
  }
}
