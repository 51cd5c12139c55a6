import type { ScanRange, StoredReception } from '../scan.js';
import type { RederiveInput } from './plan.js';

/** Where a re-derive run stands in its range: receptions are visited in (received_at, msg_id) order. */
export interface RederiveCursor {
  readonly received_at: number;
  readonly msg_id: string;
}

export interface RederiveResult {
  /** Receptions rewritten at this version. */
  readonly rewritten: number;
  readonly unchanged: number;
  /** Left alone because a run with a higher version wrote them. */
  readonly newer: number;
}

/** A history store as `mmm rederive` writes it: pages of stored receptions, and batches rewritten in place. */
export interface Rederiver {
  /** Receptions in the range (for the progress total). */
  count(range: ScanRange): Promise<number>;
  /** Up to `limit` receptions of the range after the cursor, in (received_at, msg_id) order. */
  page(range: ScanRange, after: RederiveCursor | undefined, limit: number): Promise<StoredReception[]>;
  /**
   * Rewrites the receptions whose decode changed, with their per-packet rows and the aggregates that depend on their
   * port; idempotent, so a batch interrupted at any point is simply applied again.
   */
  apply(inputs: readonly RederiveInput[], version: number, now: number): Promise<RederiveResult>;
  close(): Promise<void>;
}

/** The store could not be read or written; names the store and carries the driver's error as `cause`. */
export class RederiveError extends Error {
  override readonly name = 'RederiveError';
}

/** The cursor before everything. */
export const START: RederiveCursor = { received_at: -1, msg_id: '' };
