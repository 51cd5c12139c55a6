import { type ChannelKeyring, decodeMeshPacketBytes } from '@mmm/agent/decode';
import type { StoredReception } from '@mmm/ingest';
import type { Reception } from '@mmm/schemas';

const SOURCES = new Set(['radio', 'mqtt', 'replay', 'legacy-http']);

/** What a re-decode would change: receptions by port as stored and as today's decoder and keys make them. */
export interface RederivePlan {
  scanned: number;
  before: Record<string, number>;
  after: Record<string, number>;
  /** Receptions whose port would change (e.g. encrypted → position). */
  changed: number;
  /** Receptions stored without raw bytes (the original's HTTP agents sent none): kept as they are. */
  noRaw: number;
  /** Raw bytes that no longer parse as a MeshPacket: kept as they are. */
  undecodable: number;
}

export function emptyPlan(): RederivePlan {
  return { scanned: 0, before: {}, after: {}, changed: 0, noRaw: 0, undecodable: 0 };
}

const bump = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

/** What today's decoder and keys make of one stored reception's raw bytes (with its site, agent and time). */
export function decodeStored(
  r: StoredReception,
  keys: ChannelKeyring,
): { fresh: Reception } | { skip: 'noRaw' | 'undecodable' } {
  if (!r.raw) return { skip: 'noRaw' };
  const decoded = decodeMeshPacketBytes(Buffer.from(r.raw, 'base64'), {
    site: r.site,
    agent: r.agent,
    receivedAt: Number(r.received_at),
    source: (SOURCES.has(r.source) ? r.source : 'replay') as 'radio',
    keys,
  });
  return decoded.ok ? { fresh: decoded.value } : { skip: 'undecodable' };
}

/** Counts one reception and its decode into the plan. */
export function countOne(plan: RederivePlan, r: StoredReception, d: ReturnType<typeof decodeStored>): void {
  plan.scanned++;
  bump(plan.before, r.port);
  if ('skip' in d) {
    plan[d.skip]++;
    bump(plan.after, r.port);
    return;
  }
  bump(plan.after, d.fresh.port);
  if (d.fresh.port !== r.port) plan.changed++;
}

/** Adds one batch to the plan (the dry run's counts). */
export function addToPlan(plan: RederivePlan, rows: readonly StoredReception[], keys: ChannelKeyring): void {
  for (const r of rows) countOne(plan, r, decodeStored(r, keys));
}
