import { Progress, type ProgressSink, readStreamRange } from '@mmm/common';
import { decodeEvent } from '@mmm/schemas';
import type { JetStreamClient, JetStreamManager } from 'nats';
import type { Item } from '../plan/planner.js';
import type { HistoryStore } from '../store.js';
import { type RebuildState, saveRebuildState } from './state.js';

export const DEFAULT_REBUILD_BATCH = 1000;

export interface RebuildOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** The new store, initialised. */
  store: HistoryStore;
  state: RebuildState;
  statePath: string;
  batch?: number;
  signal?: AbortSignal;
  progress?: ProgressSink;
}

/** Thrown from the message callback to end the read when the signal aborts. */
class Stopped extends Error {}

/**
 * Fills a store from what the hub stream holds since a time, up to the sequence the stream had reached when the
 * rebuild began, through a consumer of its own (readStreamRange: no acks, deleted afterwards), so the live ingest's
 * durable consumer and its store are untouched. Batches are written as live ingest writes them (the same planner and
 * store code) and the state moves past a batch only after the store committed it; a rerun after a kill starts after
 * the last committed batch and marks its first batch suspect, so rows of a half-written batch are not written twice.
 */
export async function rebuildFromStream(o: RebuildOptions): Promise<{ stopped: boolean }> {
  const { state } = o;
  if (state.finished) return { stopped: false };
  const size = o.batch ?? DEFAULT_REBUILD_BATCH;
  let suspect = state.lastSeq > 0;
  let items: Item[] = [];
  let progress: Progress | undefined;
  const flush = async (lastSeq: number, read: number) => {
    if (items.length > 0) {
      await o.store.write(items, Date.now(), suspect);
      suspect = false;
    }
    items = [];
    state.lastSeq = lastSeq;
    state.read += read;
    saveRebuildState(o.statePath, state);
    progress?.add(read);
  };
  let unsaved = 0;
  let seq = state.lastSeq;
  try {
    await readStreamRange(
      o.js,
      o.jsm,
      {
        stream: state.stream,
        from: state.lastSeq > 0 ? { seq: state.lastSeq + 1 } : { timeMs: state.since },
        untilSeq: state.untilSeq,
        batch: size,
        onStart: (pending) => {
          const total = state.read + Math.min(pending, Math.max(0, state.untilSeq - state.lastSeq));
          progress = new Progress({
            label: 'ingest --rebuild',
            unit: 'messages',
            total,
            initial: state.read,
            sink: o.progress,
          });
        },
      },
      async (m) => {
        if (m.seq > state.untilSeq) return;
        const res = decodeEvent(m.subject, m.data);
        if (res.ok) items.push({ seq: m.seq, subject: m.subject, event: res.value, redelivered: false });
        else state.invalid++;
        seq = m.seq;
        unsaved++;
        if (unsaved >= size) {
          await flush(seq, unsaved);
          unsaved = 0;
          if (o.signal?.aborted) throw new Stopped();
        }
      },
    );
    await flush(seq, unsaved);
  } catch (err) {
    if (!(err instanceof Stopped)) throw err;
    return { stopped: true };
  } finally {
    progress?.finish();
  }
  state.finished = true;
  saveRebuildState(o.statePath, state);
  return { stopped: false };
}
