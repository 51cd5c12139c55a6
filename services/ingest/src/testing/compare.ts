import type { ClickHouseStore } from '../clickhouse/store.js';
import type { Item } from '../plan/planner.js';
import type { SqliteStore } from '../sqlite/store.js';
import { normalise, type Question } from './questions.js';
import type { SimEvent } from './sim-hour.js';

export function itemsOf(events: readonly SimEvent[], firstSeq = 1, redelivered = false): Item[] {
  return events.map((e, i) => ({ seq: firstSeq + i, subject: e.subject, event: e.event, redelivered }));
}

export async function askClickHouse(store: ClickHouseStore, q: Question): Promise<Record<string, unknown>[]> {
  return normalise(await store.query<Record<string, unknown>>(q.clickhouse));
}

export function askSqlite(store: SqliteStore, q: Question): Record<string, unknown>[] {
  return normalise(store.db.prepare(q.sqlite).all() as Record<string, unknown>[]);
}

export async function writeInBatches(
  store: { write: (items: readonly Item[], now: number, suspect: boolean) => Promise<unknown> },
  items: readonly Item[],
  size: number,
  suspect = false,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await store.write(items.slice(i, i + size), Date.now(), suspect);
}
