// Rows in ingest's history tables (schemas/ddl), for tests and benchmarks that seed a store by direct inserts.

import type { ClickHouseClient } from '@clickhouse/client';
import { ddlStatements } from '@mmm/schemas/ddl';
import type Database from 'better-sqlite3';

export function applySqliteDdl(db: Database.Database): void {
  for (const s of ddlStatements('sqlite')) db.exec(s);
}

export async function applyClickHouseDdl(ch: ClickHouseClient): Promise<void> {
  for (const s of ddlStatements('clickhouse')) await ch.command({ query: s });
}

export interface SeedReception {
  site: string;
  agent: string;
  from: number;
  to: number;
  id: number;
  port: string;
  receivedAt: number;
  snr: number;
  rssi: number;
  hopStart: number;
  hopLimit: number;
  relay: number;
  payload: unknown;
  isFirst: boolean;
}

export function receptionRow(r: SeedReception, seq: number): Record<string, unknown> {
  return {
    msg_id: `rx:${r.site}:${r.agent}:${r.from.toString(16)}:${r.id.toString(16)}:${Math.floor(r.receivedAt / 1000)}`,
    site: r.site,
    agent: r.agent,
    from_node: r.from,
    to_node: r.to,
    packet_id: r.id,
    port: r.port,
    portnum: r.port === 'text' ? 1 : r.port === 'position' ? 3 : r.port === 'telemetry' ? 67 : 0,
    channel: 0,
    channel_name: '',
    rx_time: Math.floor(r.receivedAt / 1000),
    received_at: r.receivedAt,
    rx_snr: r.snr,
    rx_rssi: r.rssi,
    hop_start: r.hopStart,
    hop_limit: r.hopLimit,
    hops: r.hopStart > 0 ? r.hopStart - r.hopLimit : null,
    relay_node: r.relay,
    next_hop: 0,
    via_mqtt: 0,
    want_ack: 0,
    priority: 0,
    pki_encrypted: 0,
    encryption: 'none',
    source: 'radio',
    gateway_id: '',
    request_id: 0,
    reply_id: 0,
    payload: JSON.stringify(r.payload),
    raw: '',
    is_first: r.isFirst ? 1 : 0,
    stream_seq: seq,
    ingested_at: r.receivedAt,
  };
}

export function positionRow(r: SeedReception, lat: number, lon: number, alt: number | null): Record<string, unknown> {
  return {
    from_node: r.from,
    packet_id: r.id,
    received_at: r.receivedAt,
    site: r.site,
    agent: r.agent,
    latitude_i: Math.round(lat * 1e7),
    longitude_i: Math.round(lon * 1e7),
    latitude: lat,
    longitude: lon,
    altitude: alt,
    time: Math.floor(r.receivedAt / 1000),
    precision_bits: 32,
    location_source: 0,
    altitude_source: 0,
    ground_speed: null,
    ground_track: null,
    sats_in_view: null,
    pdop: null,
    hdop: null,
    ingested_at: r.receivedAt,
  };
}

export function telemetryRows(
  r: SeedReception,
  variant: string,
  values: Record<string, number>,
): Record<string, unknown>[] {
  return Object.entries(values).map(([field, value]) => ({
    from_node: r.from,
    packet_id: r.id,
    received_at: r.receivedAt,
    time: Math.floor(r.receivedAt / 1000),
    variant,
    field,
    value,
    site: r.site,
    agent: r.agent,
    ingested_at: r.receivedAt,
  }));
}

/** INSERT of plain row objects into a SQLite table in one transaction. */
export function insertSqlite(db: Database.Database, table: string, rows: Record<string, unknown>[]): void {
  if (!rows.length) return;
  const cols = Object.keys(rows[0]!);
  const stmt = db.prepare(
    `INSERT OR IGNORE INTO ${table} (${cols.join(',')}) VALUES (${cols.map((c) => `@${c}`).join(',')})`,
  );
  db.transaction(() => {
    for (const r of rows) stmt.run(r);
  })();
}

export async function insertClickHouse(
  ch: ClickHouseClient,
  table: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  if (rows.length) await ch.insert({ table, values: rows, format: 'JSONEachRow' });
}
