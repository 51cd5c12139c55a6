import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { RederiveCursor } from '@mmm/ingest';
import { emptyPlan, type RederivePlan } from './count.js';

/** Counts of a write run: the dry run's plan plus what the stores did. */
export interface RederiveCounts extends RederivePlan {
  rewritten: number;
  unchanged: number;
  /** Left alone: a run with a higher version rewrote them. */
  newer: number;
}

/** Where a run stands: saved after every applied batch, so a stopped or killed run goes on from there. */
export interface RederiveState {
  /** Which store (the SQLite path, or the ClickHouse URL and database). */
  store: string;
  since: number;
  until: number;
  /** The run's decoder version: its start time (ms); a resumed run keeps it, so its rows are recognised as its own. */
  version: number;
  /** The last reception of the last applied batch. */
  cursor: RederiveCursor | null;
  counts: RederiveCounts;
  finished: boolean;
  updatedAt: string;
}

/** A state file that does not belong to this run. */
export class RederiveStateError extends Error {
  override readonly name = 'RederiveStateError';
}

export function emptyCounts(): RederiveCounts {
  return { ...emptyPlan(), rewritten: 0, unchanged: 0, newer: 0 };
}

/**
 * The unfinished run of this store and start time, or a new one (after a finished run too: a second run gets a newer
 * version and finds nothing left to change). `until` undefined takes the unfinished run's own end.
 */
export function loadState(
  path: string,
  store: string,
  since: number,
  until: number | undefined,
  now: number,
): { state: RederiveState; resumed: boolean } {
  const fresh = (): RederiveState => ({
    store,
    since,
    until: until ?? now,
    version: now,
    cursor: null,
    counts: emptyCounts(),
    finished: false,
    updatedAt: new Date(now).toISOString(),
  });
  if (!existsSync(path)) return { state: fresh(), resumed: false };
  let s: RederiveState;
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as RederiveState;
  } catch (cause) {
    throw new RederiveStateError(`${path}: unreadable state (${(cause as Error).message}); remove it to start over`, {
      cause,
    });
  }
  if (s.store !== store)
    throw new RederiveStateError(`${path} is the state of a run on ${s.store}; pass --state with another file`);
  if (s.finished) return { state: fresh(), resumed: false };
  if (s.since !== since || (until !== undefined && s.until !== until))
    throw new RederiveStateError(
      `${path} holds an unfinished run over ${new Date(s.since).toISOString()} .. ${new Date(s.until).toISOString()}; run that range again to finish it, or remove the file`,
    );
  return { state: { ...s, counts: { ...emptyCounts(), ...s.counts } }, resumed: true };
}

/** Written beside and renamed over: a crash leaves the old state or the new one, never half of one. */
export function saveState(path: string, s: RederiveState): void {
  s.updatedAt = new Date().toISOString();
  writeFileSync(`${path}.tmp`, JSON.stringify(s, null, 2));
  renameSync(`${path}.tmp`, path);
}
