import { isPermissionError, NotProvisionedError } from '@mmm/common';
import type { JetStreamClient, KV } from 'nats';
import type { KvWrites } from '../application/analyzer.js';
import { type StateMeta, stateKeys } from '../application/keys.js';
import type { GraphState } from '../domain/state.js';

/** KV operations in flight at once: enough to pipeline, few enough not to time out (environment notes). */
export const KV_WINDOW = 256;

export class SnapshotTooLargeError extends Error {
  override readonly name = 'SnapshotTooLargeError';
}

export async function openBucket(js: JetStreamClient, name: string, replicas = 1): Promise<KV> {
  // history 1: only the current value matters; the stream is the history.
  return js.views.kv(name, { history: 1, replicas }).catch((err: unknown) => {
    if (!isPermissionError(err)) throw err;
    throw new NotProvisionedError(
      `KV bucket ${name} does not exist and this NATS user may not create it: provision it with \`mmm streams provision\` as admin`,
      { cause: err },
    );
  });
}

export async function listKeys(kv: KV): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  return keys.sort();
}

async function windowed<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += KV_WINDOW) await Promise.all(items.slice(i, i + KV_WINDOW).map(fn));
}

/**
 * Writes puts (in order of their windows) then deletes. A value larger than `maxPayload` is skipped and reported:
 * the `links` array of a very large mesh may not fit one message, while its per-link keys always do.
 */
export async function applyWrites(kv: KV, w: KvWrites, maxPayload: number): Promise<{ skipped: string[] }> {
  const skipped: string[] = [];
  const encoded = w.puts.flatMap(([k, v]): [string, Uint8Array][] => {
    const bytes = new TextEncoder().encode(JSON.stringify(v));
    if (bytes.length > maxPayload - 1024) {
      skipped.push(k);
      return [];
    }
    return [[k, bytes]];
  });
  // The checkpoint's meta key must land after everything it vouches for.
  const last = encoded.length > 0 && encoded[encoded.length - 1]![0] === stateKeys.meta ? encoded.pop() : undefined;
  await windowed(encoded, ([k, v]) => kv.put(k, v));
  await windowed(w.deletes, (k) => kv.delete(k));
  if (last) await kv.put(last[0], last[1]);
  return { skipped };
}

/** The checkpoint, or undefined when the bucket has none (first start, or wiped). */
export async function loadCheckpoint(kv: KV): Promise<{ meta: StateMeta; state: GraphState } | undefined> {
  const metaEntry = await kv.get(stateKeys.meta);
  if (metaEntry?.operation !== 'PUT') return undefined;
  const meta = metaEntry.json<StateMeta>();
  const state: GraphState = { links: [], agents: [], nodes: [] };
  const keys = await listKeys(kv);
  await windowed(keys, async (k) => {
    const e = await kv.get(k);
    if (e?.operation !== 'PUT') return;
    if (k.startsWith('link.')) state.links.push(e.json());
    else if (k.startsWith('agent.')) state.agents.push(e.json());
    else if (k === stateKeys.nodes) state.nodes = e.json();
  });
  return { meta, state };
}
