import { JetStreamPublisher, Progress, type ProgressSink } from '@mmm/common';
import { ContractError } from '@mmm/schemas';
import type { JetStreamClient } from 'nats';
import { LegacyBodyError } from '../legacy/convert.js';
import { eventOf, type Out } from './events.js';
import { type OriginalDb, TABLE_ORDER, type Table } from './original.js';
import { type ImportState, loadState, saveState } from './state.js';

export const DEFAULT_IMPORT_BATCH = 1000;

export interface ImportOptions {
  db: OriginalDb;
  js: JetStreamClient;
  site: string;
  statePath: string;
  batch?: number;
  progress?: ProgressSink;
  /** Rejected rows are reported here (table, rowid, why). */
  onReject?: (table: Table, rowid: number, why: string) => void;
  signal?: AbortSignal;
}

export interface ImportResult {
  state: ImportState;
  /** Rows read in this run (0 when everything was imported before). */
  newRows: number;
  stopped: boolean;
}

/**
 * Publishes every row of the original's database, table by table in rowid order, through the hub: a batch at a
 * time, each acknowledged before the state moves past it. Killed at any point, a rerun starts at the first batch
 * not acknowledged; the events it sends again carry the same Msg-Ids, so the hub (within its duplicate window) and
 * the stores (by Msg-Id, forever) keep them once. A rerun after the end reads nothing.
 */
export async function importOriginal(o: ImportOptions): Promise<ImportResult> {
  const state = loadState(o.statePath, o.db.fingerprint, o.site);
  const total = TABLE_ORDER.reduce((n, t) => n + o.db.counts[t], 0);
  const progress = new Progress({
    label: 'import-original',
    total,
    unit: 'rows',
    sink: o.progress,
    initial: TABLE_ORDER.reduce((n, t) => n + state.counts[t].rows, 0),
  });
  const publisher = new JetStreamPublisher(o.js);
  const size = o.batch ?? DEFAULT_IMPORT_BATCH;
  let newRows = 0;
  try {
    for (const table of TABLE_ORDER) {
      for (;;) {
        if (o.signal?.aborted) return { state, newRows, stopped: true };
        const rows = o.db.rows(table, state.lastRowid[table], size);
        if (!rows.length) break;
        const c = state.counts[table];
        const outs: Out[] = [];
        for (const r of rows) {
          try {
            outs.push(eventOf(table, o.site, r));
          } catch (err) {
            if (!(err instanceof LegacyBodyError || err instanceof ContractError)) throw err;
            c.rejected++;
            o.onReject?.(table, r._rowid, err.message);
          }
        }
        const acks = await Promise.all(
          outs.map((x) => publisher.publish(x.subject, new TextEncoder().encode(JSON.stringify(x.ev)), x.msgId)),
        );
        for (const a of acks) {
          if (a.duplicate) c.duplicates++;
          else c.published++;
        }
        c.rows += rows.length;
        newRows += rows.length;
        state.lastRowid[table] = rows[rows.length - 1]!._rowid;
        saveState(o.statePath, state);
        progress.add(rows.length);
      }
    }
  } finally {
    publisher.close();
    progress.finish();
  }
  return { state, newRows, stopped: false };
}
