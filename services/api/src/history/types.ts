import type { Port } from '@mmm/schemas';
import type { ReceptionDbRow } from '../rest/rows.js';

export interface ReceptionQuery {
  since: number;
  ports?: readonly Port[];
  agent?: string;
  site?: string;
  from?: number;
  to?: number;
  channel?: number;
  limit: number;
  offset: number;
}

/** A whole result for an export: every matching reception, received before `until` when given. */
export type ReceptionScan = Omit<ReceptionQuery, 'limit' | 'offset'> & { until?: number };

/** Rows per batch of a scan: large enough to amortise the per-batch name lookups, small enough to stay flat. */
export const SCAN_BATCH = 1000;

export interface PositionPoint {
  received_at: number;
  agent: string;
  latitude: number;
  longitude: number;
  altitude: number | null;
}

export interface TelemetryPoint {
  received_at: number;
  agent: string;
  values: Record<string, number>;
}

/**
 * Where packets, position tracks and telemetry series are read from: ingest's history store (ClickHouse or SQLite)
 * when configured, else the projection's own recent receptions. Every implementation answers the same questions.
 */
export interface History {
  readonly kind: 'projection' | 'sqlite' | 'clickhouse';
  receptions(q: ReceptionQuery): Promise<ReceptionDbRow[]>;
  receptionsOf(from: number, packetId: number): Promise<ReceptionDbRow[]>;
  /**
   * Every matching reception, newest first, in batches of about SCAN_BATCH, read as the consumer asks for them
   * (exports: never the whole result in memory). Returning early releases the read.
   */
  scanReceptions(q: ReceptionScan): AsyncIterable<ReceptionDbRow[]>;
  /** Newest first, one point per packet. */
  positions(node: number, since: number, limit: number): Promise<PositionPoint[]>;
  /** Newest first, one point per packet; values of one variant (one field when given). */
  telemetry(
    node: number,
    variant: string,
    field: string | undefined,
    since: number,
    limit: number,
  ): Promise<TelemetryPoint[]>;
  close(): Promise<void>;
}

/** The history store failed; the route answers 503 instead of a bare 500. */
export class HistoryUnavailableError extends Error {
  override readonly name = 'HistoryUnavailableError';
}
