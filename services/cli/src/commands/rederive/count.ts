import { type ChannelKeyring, decodeMeshPacketBytes } from '@mmm/agent/decode';
import type { StoredReception } from '@mmm/ingest';

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

/** The port one stored reception would have today, or undefined when it cannot be re-decoded. */
export function portToday(
  r: StoredReception,
  keys: ChannelKeyring,
): { port: string } | { skip: 'noRaw' | 'undecodable' } {
  if (!r.raw) return { skip: 'noRaw' };
  const decoded = decodeMeshPacketBytes(Buffer.from(r.raw, 'base64'), {
    site: r.site,
    agent: r.agent,
    receivedAt: Number(r.received_at),
    source: (SOURCES.has(r.source) ? r.source : 'replay') as 'radio',
    keys,
  });
  return decoded.ok ? { port: decoded.value.port } : { skip: 'undecodable' };
}

/** Adds one batch to the plan (the dry run's counts). */
export function addToPlan(plan: RederivePlan, rows: readonly StoredReception[], keys: ChannelKeyring): void {
  for (const r of rows) {
    plan.scanned++;
    bump(plan.before, r.port);
    const t = portToday(r, keys);
    if ('skip' in t) {
      plan[t.skip]++;
      bump(plan.after, r.port);
      continue;
    }
    bump(plan.after, t.port);
    if (t.port !== r.port) plan.changed++;
  }
}
