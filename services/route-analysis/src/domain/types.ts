/** Which kind of measurement saw a link. Wire names of the TopologyUpdate contract. */
export type Evidence = 'traceroute' | 'neighborinfo' | 'direct';

export const EVIDENCE_ORDER: readonly Evidence[] = ['traceroute', 'neighborinfo', 'direct'];

/** Meshtastic's "unknown node" in traceroute routes, and the broadcast address: never a link endpoint. */
export const UNKNOWN_NODE = 0xffffffff;

/**
 * One measurement of a directed link: `to` heard `from`, with `snr` (dB) measured at `to`.
 * `key` names the physical measurement (not the event carrying it), so the same measurement reported twice —
 * a redelivered message, two agents hearing the same neighbour report, a traceroute seen both as the agent's
 * outcome and as a reception — counts once.
 */
export interface LinkObservation {
  readonly kind: 'link';
  readonly from: number;
  readonly to: number;
  readonly snr: number | null;
  readonly t: number;
  readonly evidence: Evidence;
  readonly key: string;
}

/** A packet the agent's own radio heard with zero hops: a link sender -> the agent's node (resolved later). */
export interface DirectToAgentObservation {
  readonly kind: 'direct-to-agent';
  readonly site: string;
  readonly agent: string;
  readonly from: number;
  readonly snr: number | null;
  readonly t: number;
  readonly key: string;
}

/** The node number of the radio an agent is attached to. */
export interface AgentNodeObservation {
  readonly kind: 'agent-node';
  readonly site: string;
  readonly agent: string;
  readonly node: number;
  readonly t: number;
}

/** How many hops a node's packets took to reach the agent's radio (reception header or node DB). */
export interface HopObservation {
  readonly kind: 'hops';
  readonly site: string;
  readonly agent: string;
  readonly node: number;
  readonly hops: number;
  readonly t: number;
}

/** A node number seen on the mesh (sender, route member, node DB entry): a relay-byte candidate. */
export interface NodeObservation {
  readonly kind: 'node';
  readonly node: number;
  readonly t: number;
}

/** A multi-hop packet reached the agent's radio through a relay whose number ends in `relayByte`. */
export interface RelayObservation {
  readonly kind: 'relay';
  readonly site: string;
  readonly agent: string;
  readonly relayByte: number;
  readonly t: number;
}

export type Observation =
  | LinkObservation
  | DirectToAgentObservation
  | AgentNodeObservation
  | HopObservation
  | NodeObservation
  | RelayObservation;

export interface Sample {
  readonly t: number;
  readonly snr: number | null;
  readonly key: string;
  readonly evidence: Evidence;
}

/** Tunables of the graph; times in milliseconds. */
export interface GraphSettings {
  /** A link (and each evidence kind on it) disappears this long after it was last measured. */
  readonly linkMaxAgeMs: number;
  /** Nodes are remembered as relay candidates for this long after last seen. */
  readonly nodeMaxAgeMs: number;
  /** SNR median over samples no older than this, counted back from the link's newest sample. */
  readonly snrWindowMs: number;
  /** Samples kept per link (the newest win). */
  readonly maxSamples: number;
}

export function linkId(from: number, to: number): string {
  return `${hex(from)}.${hex(to)}`;
}

export function hex(node: number): string {
  return node.toString(16).padStart(8, '0');
}

export function agentId(site: string, agent: string): string {
  return `${site}.${agent}`;
}
