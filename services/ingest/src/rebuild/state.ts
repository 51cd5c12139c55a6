import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** Where a rebuild stands: saved after every committed batch, so a stopped or killed rebuild goes on from there. */
export interface RebuildState {
  /** The target store (SQLite path or ClickHouse URL and database): a state is never applied to another one. */
  store: string;
  stream: string;
  since: number;
  /** The stream's last sequence when the rebuild began: it stops there while live ingest goes on past it. */
  untilSeq: number;
  /** Stream sequence of the last message in a committed batch (0: none yet). */
  lastSeq: number;
  read: number;
  /** Messages that are no valid event (live ingest dead-lettered them): skipped. */
  invalid: number;
  finished: boolean;
  updatedAt: string;
}

/** A state file of another rebuild, or an unreadable one. */
export class RebuildStateError extends Error {
  override readonly name = 'RebuildStateError';
}

export function loadRebuildState(path: string, fresh: Omit<RebuildState, 'updatedAt'>): RebuildState {
  const now = { ...fresh, updatedAt: new Date().toISOString() };
  if (!existsSync(path)) return now;
  let s: RebuildState;
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as RebuildState;
  } catch (cause) {
    throw new RebuildStateError(`${path}: unreadable state (${(cause as Error).message}); remove it to start over`, {
      cause,
    });
  }
  if (s.store !== fresh.store || s.stream !== fresh.stream || s.since !== fresh.since)
    throw new RebuildStateError(
      `${path} is the state of a rebuild of ${s.store} from ${s.stream} since ${new Date(s.since).toISOString()}; pass --state with another file`,
    );
  return s;
}

/** Written beside and renamed over: a crash leaves the old state or the new one, never half of one. */
export function saveRebuildState(path: string, s: RebuildState): void {
  s.updatedAt = new Date().toISOString();
  writeFileSync(`${path}.tmp`, JSON.stringify(s, null, 2));
  renameSync(`${path}.tmp`, path);
}
