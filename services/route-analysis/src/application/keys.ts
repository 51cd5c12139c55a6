import { topologyLinkKey } from '@mmm/schemas';

/**
 * Keys of the public snapshot bucket (TOPOLOGY_BUCKET), documented in docs/route-analysis.md:
 *   links                     every current link, one JSON array
 *   link.<from>.<to>          one link (8 hex digits each), deleted when it ages out
 *   hops.<site>.<agent>       hop distances of one agent's radio
 *   relays.<site>.<agent>     relay-byte candidates of one agent
 *   meta                      { updatedAt, links, lastSeq }
 */
export const publicKeys = {
  links: 'links',
  link: topologyLinkKey,
  hops: (site: string, agent: string) => `hops.${site}.${agent}`,
  relays: (site: string, agent: string) => `relays.${site}.${agent}`,
  meta: 'meta',
} as const;

/** Keys of the checkpoint bucket: the analyser's own state, not a public interface. */
export const stateKeys = {
  link: (id: string) => `link.${id}`,
  agent: (site: string, agent: string) => `agent.${site}.${agent}`,
  nodes: 'nodes',
  /** Written last in every flush: the stream sequence everything before it is reflected in. */
  meta: 'meta',
} as const;

export interface StateMeta {
  readonly v: 1;
  readonly lastSeq: number;
  readonly at: number;
}
