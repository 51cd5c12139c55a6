import type { PayloadOf } from '@mmm/schemas';
import type { Row } from './tables.js';

/** What makes a node-info change: names, role and hardware. */
export interface NodeIdentity {
  readonly long_name: string;
  readonly short_name: string;
  readonly hw_model: number;
  readonly role: number;
  readonly changed_at: number;
}

export interface IdentityEvidence {
  readonly node: number;
  readonly user: PayloadOf<'nodeinfo'>;
  /** When the evidence was true: a packet's receive time, or a node-DB entry's lastHeard. */
  readonly at: number;
  readonly source: 'nodeinfo' | 'nodedb';
  readonly site: string;
  readonly agent: string;
  readonly packetId: number;
}

export function identityOf(user: PayloadOf<'nodeinfo'>, at: number): NodeIdentity {
  return {
    long_name: user.longName ?? '',
    short_name: user.shortName ?? '',
    hw_model: user.hwModel ?? 0,
    // CLIENT (0) is the protobuf default and is absent on the wire.
    role: user.role ?? 0,
    changed_at: at,
  };
}

function same(a: NodeIdentity, b: NodeIdentity): boolean {
  return a.long_name === b.long_name && a.short_name === b.short_name && a.hw_model === b.hw_model && a.role === b.role;
}

/**
 * Decides whether evidence is a change: a row only when the identity differs from the latest recorded one and the
 * evidence is newer than it, so a lagging node-DB snapshot of another agent cannot flip a name back and forth.
 * `latest` is updated in place.
 */
export function nodeInfoChange(latest: Map<number, NodeIdentity>, e: IdentityEvidence, now: number): Row | undefined {
  const next = identityOf(e.user, e.at);
  const prev = latest.get(e.node);
  if (prev && (e.at <= prev.changed_at || same(prev, next))) return undefined;
  latest.set(e.node, next);
  return {
    node: e.node,
    changed_at: e.at,
    long_name: next.long_name,
    short_name: next.short_name,
    hw_model: next.hw_model,
    role: next.role,
    is_licensed: e.user.isLicensed ? 1 : 0,
    public_key: e.user.publicKey ?? '',
    source: e.source,
    site: e.site,
    agent: e.agent,
    packet_id: e.packetId,
    ingested_at: now,
  };
}
