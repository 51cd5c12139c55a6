import { type ClickHouseClient, createClient } from '@clickhouse/client';
import type { ReceptionDbRow } from '../rest/rows.js';
import { groupTelemetry, type TelemetryRow } from './sqlite.js';
import {
  type History,
  HistoryUnavailableError,
  type PositionPoint,
  type ReceptionQuery,
  type ReceptionScan,
  SCAN_BATCH,
  type TelemetryPoint,
} from './types.js';

/** ClickHouse 18.16 has no query parameters: every value goes through these two. */
export function chString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
export function chInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new TypeError(`not an integer: ${n}`);
  return String(n);
}

/** The WHERE of a reception query (bare columns: the sort key and the skip indexes apply). */
function chReceptionWhere(q: ReceptionScan): string {
  const where = [`received_at >= ${chInt(q.since)}`];
  if (q.until !== undefined) where.push(`received_at < ${chInt(q.until)}`);
  if (q.ports) where.push(q.ports.length ? `port IN (${q.ports.map(chString).join(',')})` : '0');
  if (q.agent !== undefined) where.push(`agent = ${chString(q.agent)}`);
  if (q.site !== undefined) where.push(`site = ${chString(q.site)}`);
  if (q.from !== undefined) where.push(`from_node = ${chInt(q.from)}`);
  if (q.to !== undefined) where.push(`to_node = ${chInt(q.to)}`);
  if (q.channel !== undefined) where.push(`channel = ${chInt(q.channel)}`);
  return where.join(' AND ');
}

const RX_COLS = `msg_id AS id, site, agent, from_node AS from_num, to_node AS to_num, packet_id, port, channel,
  if(rx_time > 0, toUInt64(rx_time) * 1000, NULL) AS rx_time, received_at, rx_snr AS snr, rx_rssi AS rssi, hop_start, hop_limit,
  relay_node, via_mqtt, source, payload`;

/** ingest's ClickHouse history (schemas/ddl/clickhouse); plain reads, duplicates are removed by ingest before insert. */
export class ClickHouseHistory implements History {
  readonly kind = 'clickhouse' as const;
  private readonly client: ClickHouseClient;

  constructor(opts: { url: string; database: string; user?: string; password?: string }) {
    this.client = createClient({
      url: opts.url,
      database: opts.database,
      username: opts.user ?? 'default',
      password: opts.password ?? '',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      request_timeout: 30_000,
    });
  }

  private async rows<T>(query: string): Promise<T[]> {
    try {
      const rs = await this.client.query({ query, format: 'JSONEachRow' });
      return (await rs.json()) as T[];
    } catch (err) {
      throw new HistoryUnavailableError(`ClickHouse query failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async receptions(q: ReceptionQuery): Promise<ReceptionDbRow[]> {
    const filter = chReceptionWhere(q);
    const order = `ORDER BY received_at DESC LIMIT ${chInt(q.offset)}, ${chInt(q.limit)}`;
    // A node filter hits the primary key (from_node, packet_id) directly.
    if (q.from !== undefined) return this.rows(`SELECT ${RX_COLS} FROM receptions WHERE ${filter} ${order}`);
    // Otherwise pick the page on narrow columns first, then read the wide ones (payload, raw) for those rows only,
    // found through the primary key: ClickHouse would read every matching row's payload before cutting the page.
    const page = `SELECT from_node, packet_id, msg_id FROM receptions WHERE ${filter} ${order}`;
    return this.rows(
      `SELECT ${RX_COLS} FROM receptions WHERE (from_node, packet_id) IN (SELECT from_node, packet_id FROM (${page}))
         AND msg_id IN (SELECT msg_id FROM (${page})) ORDER BY received_at DESC, msg_id`,
    );
  }

  async *scanReceptions(q: ReceptionScan): AsyncGenerator<ReceptionDbRow[]> {
    let rs: Awaited<ReturnType<ClickHouseClient['query']>>;
    try {
      rs = await this.client.query({
        query: `SELECT ${RX_COLS} FROM receptions WHERE ${chReceptionWhere(q)} ORDER BY received_at DESC`,
        format: 'JSONEachRow',
      });
    } catch (err) {
      throw new HistoryUnavailableError(`ClickHouse query failed: ${(err as Error).message}`, { cause: err });
    }
    // The client hands over rows as the HTTP response arrives; the response pauses while the consumer is slow.
    const stream = rs.stream<ReceptionDbRow>();
    try {
      let batch: ReceptionDbRow[] = [];
      for await (const rows of stream) {
        for (const r of rows) batch.push(r.json());
        if (batch.length >= SCAN_BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    } finally {
      rs.close();
    }
  }

  async receptionsOf(from: number, packetId: number): Promise<ReceptionDbRow[]> {
    return this.rows(
      `SELECT ${RX_COLS} FROM receptions WHERE from_node = ${chInt(from)} AND packet_id = ${chInt(packetId)} ORDER BY received_at ASC`,
    );
  }

  async positions(node: number, since: number, limit: number): Promise<PositionPoint[]> {
    return this.rows(
      `SELECT received_at, agent, latitude, longitude, altitude FROM positions WHERE from_node = ${chInt(node)} AND received_at >= ${chInt(since)} AND NOT (latitude_i = 0 AND longitude_i = 0) ORDER BY received_at DESC LIMIT ${chInt(limit)}`,
    );
  }

  async telemetry(
    node: number,
    variant: string,
    field: string | undefined,
    since: number,
    limit: number,
  ): Promise<TelemetryPoint[]> {
    const rows = await this.rows<TelemetryRow>(
      `SELECT packet_id, received_at, agent, field, value FROM telemetry WHERE from_node = ${chInt(node)} AND variant = ${chString(variant)}${field ? ` AND field = ${chString(field)}` : ''} AND received_at >= ${chInt(since)} ORDER BY received_at DESC LIMIT ${chInt(field ? limit : limit * 64)}`,
    );
    return groupTelemetry(rows, limit);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
