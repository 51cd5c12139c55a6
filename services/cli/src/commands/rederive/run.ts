import type { ChannelKeyring } from '@mmm/agent/decode';
import { Progress, type ProgressSink } from '@mmm/common';
import type { RederiveInput, Rederiver } from '@mmm/ingest';
import { countOne, decodeStored } from './count.js';
import { type RederiveState, saveState } from './state.js';

export const DEFAULT_REDERIVE_BATCH = 1000;

export interface RunOptions {
  store: Rederiver;
  state: RederiveState;
  statePath: string;
  keys: ChannelKeyring;
  batch?: number;
  signal?: AbortSignal;
  progress?: ProgressSink;
}

/**
 * Re-derives the state's range a batch at a time: page after the cursor, decode, apply, then save the state with the
 * new cursor and counts. Killed between an apply and its save, the rerun applies that batch again, which the stores
 * make a no-op; stopped by the signal, it ends after the batch in hand.
 */
export async function runRederive(o: RunOptions): Promise<{ stopped: boolean }> {
  const { state, store } = o;
  const range = { since: state.since, until: state.until };
  const progress = new Progress({
    label: 'rederive',
    unit: 'receptions',
    // Done before a resume counts in `initial`: the range's receptions are the whole job.
    total: await store.count(range),
    initial: state.counts.scanned,
    sink: o.progress,
  });
  try {
    for (;;) {
      if (o.signal?.aborted) return { stopped: true };
      const rows = await store.page(range, state.cursor ?? undefined, o.batch ?? DEFAULT_REDERIVE_BATCH);
      if (rows.length === 0) break;
      const inputs: RederiveInput[] = [];
      const c = { ...state.counts, before: { ...state.counts.before }, after: { ...state.counts.after } };
      for (const r of rows) {
        const d = decodeStored(r, o.keys);
        countOne(c, r, d);
        if ('fresh' in d) inputs.push({ stored: r, fresh: d.fresh });
      }
      const res = await store.apply(inputs, state.version, Date.now());
      c.rewritten += res.rewritten;
      c.unchanged += res.unchanged;
      c.newer += res.newer;
      const last = rows[rows.length - 1]!;
      state.counts = c;
      state.cursor = { received_at: Number(last.received_at), msg_id: last.msg_id };
      saveState(o.statePath, state);
      progress.add(rows.length);
    }
    state.finished = true;
    saveState(o.statePath, state);
    return { stopped: false };
  } finally {
    progress.finish();
  }
}
