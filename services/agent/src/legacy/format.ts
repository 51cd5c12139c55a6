import type { Reception, TraceOutcome } from '@mmm/schemas';
import { legacyTypeOfPort } from '@mmm/schemas/legacy';
import type { LegacyDestination } from '../config/settings.js';

// What a `[server_*]` destination is sent; the bodies themselves are `@mmm/schemas/legacy`'s.

/** Node filters of a destination; they apply to packets, node DB entries and routes alike. */
export function nodeAllowed(dest: Pick<LegacyDestination, 'filterNodes' | 'excludeNodes'>, num: number): boolean {
  if (dest.excludeNodes.has(num)) return false;
  return dest.filterNodes.size === 0 || dest.filterNodes.has(num);
}

export function wantsPacket(dest: LegacyDestination, r: Reception): boolean {
  if (dest.packetTypes && !dest.packetTypes.has(legacyTypeOfPort(r.port))) return false;
  return nodeAllowed(dest, r.packet.from);
}

export function routeAllowed(dest: LegacyDestination, t: TraceOutcome): boolean {
  return t.outcome === 'success' && nodeAllowed(dest, t.to);
}
