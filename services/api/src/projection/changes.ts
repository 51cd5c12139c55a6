import type { TopologyUpdate } from '@mmm/schemas';

/** What one applied batch changed, for the live feed: ids only, rows are read after the commit. */
export interface Changes {
  receptions: string[];
  nodes: Set<number>;
  agents: Set<string>; // `${site}\u0000${agent}`
  traces: string[];
  links: { from: number; to: number }[];
  removedLinks: { from: number; to: number }[];
}

export function emptyChanges(): Changes {
  return { receptions: [], nodes: new Set(), agents: new Set(), traces: [], links: [], removedLinks: [] };
}

export function agentKey(site: string, agent: string): string {
  return `${site}\u0000${agent}`;
}

export type LinkEvent = NonNullable<TopologyUpdate['links']>[number];
