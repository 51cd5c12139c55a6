import { PORTS } from '@mmm/schemas/names';
import { payloadView } from './payload.js';
import type { PacketRow } from './types.js';

// Client-side parts of the packets page's filtering: free-text search (the API has none) and the check that a
// live reception belongs in the current view.

export interface PacketFilter {
  readonly hours: number;
  readonly type: string;
  readonly agent: string;
  readonly from: string;
  readonly to: string;
  readonly channel: string;
  readonly text: string;
  readonly limit: number;
}

/** Packet types are the contract's port names. */
export const PACKET_TYPES = PORTS;

export function searchText(p: PacketRow): string {
  const v = payloadView(p.type, p.payload);
  return [p.from, p.to, p.fromName, p.toName, p.agent, p.agentName, p.type, v.text, ...v.fields.map((f) => f.value)]
    .filter(Boolean)
    .join('\u0000')
    .toLowerCase();
}

export function matchesText(p: PacketRow, text: string): boolean {
  const q = text.trim().toLowerCase();
  return q === '' || searchText(p).includes(q);
}

function sameNode(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().toLowerCase().replace(/^!/, '');
  return norm(a) === norm(b);
}

/** Whether a live reception belongs in the list the server returned for this filter. */
export function liveMatches(p: PacketRow, f: PacketFilter): boolean {
  if (f.type && p.type !== f.type) return false;
  if (f.agent && p.agent !== f.agent) return false;
  if (f.from && !sameNode(p.from, f.from)) return false;
  if (f.to && !sameNode(p.to, f.to)) return false;
  if (f.channel !== '' && String(p.channel) !== f.channel) return false;
  return matchesText(p, f.text);
}
