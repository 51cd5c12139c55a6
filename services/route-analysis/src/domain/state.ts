import type { Evidence, Sample } from './types.js';

/** Everything the graph knows about one directed link; persisted as JSON, so plain data only. */
export interface LinkState {
  readonly from: number;
  readonly to: number;
  firstSeen: number;
  lastSeen: number;
  /** Sorted by time, oldest first; only samples within the SNR window of lastSeen. */
  samples: Sample[];
  /** Evidence kind -> when it last saw the link. */
  evidence: Partial<Record<Evidence, number>>;
}

export interface PendingDirect {
  readonly from: number;
  readonly snr: number | null;
  readonly t: number;
  readonly key: string;
}

/** What the graph knows about one agent and its radio. */
export interface AgentState {
  readonly site: string;
  readonly agent: string;
  node?: number;
  nodeAt: number;
  /** node -> hops its packets last took to reach this agent's radio, and when. */
  observed: Record<string, { hops: number; t: number }>;
  /** relay byte -> last time a packet reached the radio through a relay ending in it. */
  relays: Record<string, number>;
  /** Direct receptions heard before the agent's node number was known. */
  pending: PendingDirect[];
}

/** The whole graph, as persisted in the state bucket and restored at start. */
export interface GraphState {
  links: LinkState[];
  agents: AgentState[];
  /** [node, last seen] */
  nodes: [number, number][];
}
