import type { Item } from './plan/planner.js';

export interface RetentionPolicy {
  readonly rawDays: number;
  readonly rollupDays: number;
}

export interface WriteResult {
  /** Rows written per table (ClickHouse: rows sent; SQLite: rows that were new). */
  readonly rows: Readonly<Record<string, number>>;
  /** Receptions that were stored already or repeated within the batch. */
  readonly duplicates: number;
}

/** A history store: ClickHouse or SQLite, same tables (schemas/ddl). */
export interface HistoryStore {
  readonly kind: 'clickhouse' | 'sqlite';
  /** Creates the tables (idempotent). */
  init(): Promise<void>;
  /**
   * Stores a batch so that writing it again changes nothing. `suspect` says an earlier attempt may have stored part
   * of it (a redelivery or a retry), so every table's keys are checked, not only the receptions'.
   * `commitBy` (epoch ms) is the last moment this copy may still store the batch: past it the store throws
   * `HoldExpiredError` before writing the receptions (see BatchLoop for why).
   */
  write(items: readonly Item[], now: number, suspect: boolean, commitBy?: number): Promise<WriteResult>;
  /** Drops history older than the policy; returns what went, per table (partitions or rows). */
  retention(now: number, policy: RetentionPolicy): Promise<Record<string, number>>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The batch was held past its deadline: another ingest copy may receive its messages again, so this one must not
 * write them (the receptions were not written; derived rows written before are skipped on the suspect retry).
 */
export class HoldExpiredError extends Error {
  override readonly name = 'HoldExpiredError';
}

/** Throws HoldExpiredError when `commitBy` has passed. */
export function assertHeld(commitBy: number | undefined, what: string): void {
  if (commitBy !== undefined && Date.now() > commitBy)
    throw new HoldExpiredError(`batch held ${Date.now() - commitBy} ms past its deadline; not writing ${what}`);
}

/** The store failed; the batch was not (fully) stored and must not be acked. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

export const DAY_MS = 86_400_000;
