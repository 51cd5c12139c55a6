import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { OriginalDbError, TABLE_ORDER, type Table } from './original.js';

export interface TableCounts {
  /** Rows read from the original. */
  rows: number;
  /** Events the hub stored. */
  published: number;
  /** Events the hub already had (same Msg-Id within its duplicate window). */
  duplicates: number;
  /** Rows that could not become an event (a bad node id, a broken timestamp): reported, not published. */
  rejected: number;
}

/** Where an import stands: written after every batch the hub acknowledged, so a rerun goes on from there. */
export interface ImportState {
  fingerprint: string;
  site: string;
  /** The last rowid of each table whose event (or rejection) is settled. */
  lastRowid: Record<Table, number>;
  counts: Record<Table, TableCounts>;
  updatedAt: string;
}

export function freshState(fingerprint: string, site: string): ImportState {
  return {
    fingerprint,
    site,
    lastRowid: Object.fromEntries(TABLE_ORDER.map((t) => [t, 0])) as Record<Table, number>,
    counts: Object.fromEntries(
      TABLE_ORDER.map((t) => [t, { rows: 0, published: 0, duplicates: 0, rejected: 0 }]),
    ) as Record<Table, TableCounts>,
    updatedAt: new Date().toISOString(),
  };
}

/** The state of this database and site, or a fresh one; a state file of another database is refused, not overwritten. */
export function loadState(path: string, fingerprint: string, site: string): ImportState {
  if (!existsSync(path)) return freshState(fingerprint, site);
  let s: ImportState;
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as ImportState;
  } catch (err) {
    throw new OriginalDbError(`${path}: unreadable import state (${(err as Error).message}); remove it to start over`, {
      cause: err,
    });
  }
  if (s.fingerprint !== fingerprint || s.site !== site)
    throw new OriginalDbError(
      `${path} is the import state of another database or site (${s.site}); pass --state with another file`,
    );
  const fresh = freshState(fingerprint, site);
  return { ...s, lastRowid: { ...fresh.lastRowid, ...s.lastRowid }, counts: { ...fresh.counts, ...s.counts } };
}

/** Written beside and renamed over: a crash leaves the old state or the new one, never half of one. */
export function saveState(path: string, s: ImportState): void {
  s.updatedAt = new Date().toISOString();
  writeFileSync(`${path}.tmp`, JSON.stringify(s, null, 2));
  renameSync(`${path}.tmp`, path);
}
