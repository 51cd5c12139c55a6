import { createClient } from '@clickhouse/client';
import Database from 'better-sqlite3';
import { sqlLiteral } from './clickhouse/literal.js';

/**
 * One stored reception as a re-decode needs it: who heard it when, its raw bytes, and the columns a decode wrote
 * (compared with what today's decoder makes of the bytes).
 */
export interface StoredReception {
  msg_id: string;
  site: string;
  agent: string;
  from_node: number;
  packet_id: number;
  port: string;
  portnum: number;
  channel_name: string;
  encryption: string;
  request_id: number;
  reply_id: number;
  payload: string;
  source: string;
  received_at: number;
  is_first: number;
  /** The MeshPacket as received, base64 ('' when the event carried none). */
  raw: string;
}

export type ScanSource =
  | { kind: 'sqlite'; path: string }
  | { kind: 'clickhouse'; url: string; database: string; user?: string; password?: string };

export interface ScanRange {
  since: number;
  until: number;
}

export const STORED_RECEPTION_COLS =
  'msg_id, site, agent, from_node, packet_id, port, portnum, channel_name, encryption, request_id, reply_id, payload, source, received_at, is_first, raw';
const COLS = STORED_RECEPTION_COLS;
const BATCH = 1000;

/**
 * Every stored reception received in [since, until), oldest first, in batches read as the consumer asks (the whole
 * history may be scanned). SQLite is opened read-only beside a running ingest (WAL).
 */
export async function* scanReceptions(src: ScanSource, r: ScanRange): AsyncGenerator<StoredReception[]> {
  if (src.kind === 'sqlite') {
    const db = new Database(src.path, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      let batch: StoredReception[] = [];
      const rows = db
        .prepare(`SELECT ${COLS} FROM receptions WHERE received_at >= ? AND received_at < ? ORDER BY received_at`)
        .iterate(r.since, r.until) as IterableIterator<StoredReception>;
      for (const row of rows) {
        batch.push(row);
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    } finally {
      db.close();
    }
    return;
  }
  const ch = createClient({
    url: src.url,
    database: src.database,
    username: src.user ?? 'default',
    password: src.password ?? '',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  try {
    const rs = await ch.query({
      query: `SELECT ${COLS} FROM receptions WHERE received_at >= ${sqlLiteral(r.since)} AND received_at < ${sqlLiteral(r.until)} ORDER BY received_at`,
      format: 'JSONEachRow',
    });
    let batch: StoredReception[] = [];
    for await (const rows of rs.stream<StoredReception>()) {
      for (const row of rows) batch.push(row.json());
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  } finally {
    await ch.close();
  }
}
