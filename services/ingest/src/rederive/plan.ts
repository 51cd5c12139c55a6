import type { PayloadOf, Reception } from '@mmm/schemas';
import type { IdentityEvidence } from '../plan/node-info.js';
import { emptyPacketRows, type PacketRows, packetRows, receptionRow } from '../plan/rows.js';
import type { Row } from '../plan/tables.js';
import type { StoredReception } from '../scan.js';

/**
 * The reception columns a decode fills in (everything else comes from the packet's clear header or from who heard it
 * when, and a re-decode cannot change it). These are what `mmm rederive` rewrites.
 */
export const DECODED_COLUMNS = [
  'port',
  'portnum',
  'channel_name',
  'encryption',
  'request_id',
  'reply_id',
  'payload',
] as const;

/** A stored reception and what today's decoder made of its raw bytes (decoded with its site, agent and time). */
export interface RederiveInput {
  readonly stored: StoredReception;
  readonly fresh: Reception;
}

/** One reception to rewrite. */
export interface RederiveChange {
  readonly stored: StoredReception;
  /** msg_id and the DECODED_COLUMNS as today's decoder has them. */
  readonly decoded: Row;
  /** Per-packet rows of the new decode; only for the packet's first stored reception (as ingest does). */
  readonly derived: PacketRows;
  /** The NODEINFO packet's identity, for node_info (first reception only). */
  readonly identity?: IdentityEvidence;
}

export interface RederivePlan {
  readonly changes: RederiveChange[];
  /** Decoded as stored already. */
  readonly unchanged: number;
  /** Rewritten by a run with a higher version: left alone (the newest wins). */
  readonly newer: number;
}

/**
 * Which receptions of a batch to rewrite at `version`: those whose decoded columns differ from today's decode and
 * that no newer run wrote. A reception already at this very version is planned again whatever its columns say: a run
 * killed midway recorded the version first and may not have finished the rest, and every step is idempotent.
 */
export function planRederive(
  inputs: readonly RederiveInput[],
  versions: ReadonlyMap<string, number>,
  version: number,
  now: number,
): RederivePlan {
  const changes: RederiveChange[] = [];
  let unchanged = 0;
  let newer = 0;
  for (const { stored, fresh } of inputs) {
    const was = versions.get(stored.msg_id) ?? 0;
    if (was > version) {
      newer++;
      continue;
    }
    const row = receptionRow(fresh, stored.msg_id, stored.is_first === 1, 0, now);
    const decoded: Row = { msg_id: stored.msg_id };
    for (const c of DECODED_COLUMNS) decoded[c] = row[c]!;
    if (was < version && sameDecode(stored, decoded)) {
      unchanged++;
      continue;
    }
    const first = stored.is_first === 1;
    changes.push({
      stored,
      decoded,
      derived: first ? packetRows(fresh, now) : emptyPacketRows(),
      identity:
        first && fresh.port === 'nodeinfo'
          ? {
              node: fresh.packet.from,
              user: fresh.payload as PayloadOf<'nodeinfo'>,
              at: fresh.receivedAt,
              source: 'nodeinfo',
              site: fresh.site,
              agent: fresh.agent,
              packetId: fresh.packet.id,
            }
          : undefined,
    });
  }
  return { changes, unchanged, newer };
}

function sameDecode(stored: StoredReception, decoded: Row): boolean {
  // Stores hand numbers back as numbers (ClickHouse with 64-bit quoting off), so a strict compare is exact.
  return DECODED_COLUMNS.every((c) => String(stored[c]) === String(decoded[c]));
}
