/**
 * What the evaluator knows of the mesh: per node and per agent, the last readings the rules look at, and per rule
 * the condition it is in. Plain data, so a checkpoint is its JSON.
 */

/** A condition of one rule on one subject: true since `since`; event conditions end at `until`. */
export interface Cond {
  since: number;
  until?: number;
  /** The reading that set it (battery %, utilisation %, metres moved), for the summary. */
  value?: number;
  detail?: string;
}

export interface NodeState {
  num: number;
  firstHeard: number;
  lastHeard: number;
  /** Who heard it last. */
  site: string;
  agent: string;
  role?: number;
  name?: string;
  battery?: number;
  chUtil?: number;
  lat?: number;
  lon?: number;
  /** Where node_moved measures from: the first position, then the position of each move. */
  anchor?: { lat: number; lon: number };
  conds: Record<string, Cond>;
}

export interface AgentState {
  site: string;
  agent: string;
  lastStatusAt: number;
  radioState: string;
  radioSince: number;
  hubConnected?: boolean;
  hubSince?: number;
  conds: Record<string, Cond>;
}

export interface World {
  nodes: Map<number, NodeState>;
  agents: Map<string, AgentState>;
}

export const agentKey = (site: string, agent: string) => `${site}/${agent}`;

export function emptyWorld(): World {
  return { nodes: new Map(), agents: new Map() };
}

const EARTH_RADIUS_M = 6_371_000;

/** Great-circle distance in metres (haversine): metres matter here, not the ellipsoid. */
export function distanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}
