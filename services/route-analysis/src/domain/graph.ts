import type { Link } from '@mmm/schemas';
import { hopDistances } from './hops.js';
import { linkQuality, snrStats } from './quality.js';
import { relayCandidates } from './relay.js';
import type { AgentState, GraphState, LinkState } from './state.js';
import {
  agentId,
  EVIDENCE_ORDER,
  type Evidence,
  type GraphSettings,
  type LinkObservation,
  linkId,
  type Observation,
} from './types.js';

/** Direct receptions held per agent while its radio's node number is unknown. */
export const MAX_PENDING_DIRECT = 500;

export interface AgentHops {
  readonly site: string;
  readonly agent: string;
  readonly agentNode: number;
  readonly distances: Record<string, number>;
  readonly observed: Record<string, number>;
}

export interface RelayEntry {
  readonly relayByte: number;
  readonly candidates: number[];
  readonly narrowed: boolean;
  readonly lastSeen: number;
}

export interface AgentRelays {
  readonly site: string;
  readonly agent: string;
  readonly relays: RelayEntry[];
}

/** What changed since the previous flush: the public view and the persisted state. */
export interface GraphChanges {
  readonly links: Link[];
  readonly removedLinks: { from: number; to: number }[];
  readonly hops: AgentHops[];
  readonly relays: AgentRelays[];
  readonly state: {
    readonly links: LinkState[];
    readonly removedLinks: string[];
    readonly agents: AgentState[];
    readonly nodes?: [number, number][];
  };
}

/**
 * The topology graph: directed links with per-direction SNR, per-agent hop distances and relay candidates.
 * Pure and synchronous: observations in, changes out; the clock is passed in, so tests and rebuilds are deterministic.
 */
export class TopologyGraph {
  private readonly links = new Map<string, LinkState>();
  private readonly agents = new Map<string, AgentState>();
  private readonly nodes = new Map<number, number>();
  private readonly byLowByte = new Map<number, Set<number>>();
  private readonly dirtyLinks = new Set<string>();
  private readonly dirtyAgents = new Set<string>();
  private nodesDirty = false;
  private topologyChanged = false;
  private readonly publishedHops = new Map<string, string>();
  private readonly publishedRelays = new Map<string, string>();
  /** Public form of each clean link: medians are not recomputed for links that did not change. */
  private readonly linkCache = new Map<string, Link>();

  constructor(readonly settings: GraphSettings) {}

  static fromState(settings: GraphSettings, state: GraphState): TopologyGraph {
    const g = new TopologyGraph(settings);
    for (const l of state.links) g.links.set(linkId(l.from, l.to), l);
    for (const a of state.agents) g.agents.set(agentId(a.site, a.agent), a);
    for (const [n, t] of state.nodes) g.touchNode(n, t);
    // What was persisted was also published: only differences from here on are news.
    for (const h of g.hops()) g.publishedHops.set(agentId(h.site, h.agent), JSON.stringify(h));
    for (const r of g.relays()) g.publishedRelays.set(agentId(r.site, r.agent), JSON.stringify(r));
    g.nodesDirty = false;
    return g;
  }

  apply(o: Observation): void {
    switch (o.kind) {
      case 'link':
        this.applyLink(o);
        break;
      case 'node':
        this.touchNode(o.node, o.t);
        break;
      case 'agent-node': {
        const a = this.agent(o.site, o.agent);
        if (o.t < a.nodeAt || a.node === o.node) {
          a.nodeAt = Math.max(a.nodeAt, o.t);
          break;
        }
        a.node = o.node;
        a.nodeAt = o.t;
        this.touchNode(o.node, o.t);
        for (const p of a.pending.splice(0)) this.applyDirect(o.node, p);
        this.markAgent(a);
        this.topologyChanged = true;
        break;
      }
      case 'direct-to-agent': {
        const a = this.agent(o.site, o.agent);
        if (a.node !== undefined) this.applyDirect(a.node, o);
        else {
          if (a.pending.some((p) => p.key === o.key)) break;
          a.pending.push({ from: o.from, snr: o.snr, t: o.t, key: o.key });
          if (a.pending.length > MAX_PENDING_DIRECT) a.pending.shift();
          this.markAgent(a);
        }
        break;
      }
      case 'hops': {
        const a = this.agent(o.site, o.agent);
        const prev = a.observed[o.node];
        if (prev && prev.t >= o.t) break;
        a.observed[o.node] = { hops: o.hops, t: o.t };
        this.markAgent(a);
        break;
      }
      case 'relay': {
        const a = this.agent(o.site, o.agent);
        const k = String(o.relayByte);
        if ((a.relays[k] ?? -1) >= o.t) break;
        a.relays[k] = o.t;
        this.markAgent(a);
        break;
      }
    }
  }

  /** Drops evidence, links, observations and nodes older than their maximum age at `now`. */
  sweep(now: number): void {
    const linkCutoff = now - this.settings.linkMaxAgeMs;
    for (const [id, l] of this.links) {
      let changed = false;
      for (const ev of EVIDENCE_ORDER) {
        const t = l.evidence[ev];
        if (t !== undefined && t < linkCutoff) {
          delete l.evidence[ev];
          l.samples = l.samples.filter((s) => s.evidence !== ev);
          changed = true;
        }
      }
      if (!changed) continue;
      if (Object.keys(l.evidence).length === 0) {
        this.links.delete(id);
        this.linkCache.delete(id);
        this.topologyChanged = true;
      }
      this.dirtyLinks.add(id);
    }
    for (const a of this.agents.values()) {
      const before = JSON.stringify([a.observed, a.relays, a.pending.length]);
      for (const [n, o] of Object.entries(a.observed)) if (o.t < linkCutoff) delete a.observed[n];
      for (const [b, t] of Object.entries(a.relays)) if (t < linkCutoff) delete a.relays[b];
      a.pending = a.pending.filter((p) => p.t >= linkCutoff);
      if (JSON.stringify([a.observed, a.relays, a.pending.length]) !== before) this.markAgent(a);
    }
    const nodeCutoff = now - this.settings.nodeMaxAgeMs;
    for (const [n, t] of this.nodes) {
      if (t >= nodeCutoff) continue;
      this.nodes.delete(n);
      this.byLowByte.get(n & 0xff)?.delete(n);
      this.nodesDirty = true;
    }
  }

  /** Sweeps at `now`, then returns everything that changed since the previous flush. */
  flush(now: number): GraphChanges {
    this.sweep(now);
    const links: Link[] = [];
    const removedLinks: { from: number; to: number }[] = [];
    const stateLinks: LinkState[] = [];
    const stateRemoved: string[] = [];
    for (const id of [...this.dirtyLinks].sort()) {
      const l = this.links.get(id);
      this.linkCache.delete(id);
      if (l) {
        const pub = toLink(l);
        this.linkCache.set(id, pub);
        links.push(pub);
        stateLinks.push(l);
      } else {
        const [from, to] = id.split('.').map((h) => Number.parseInt(h, 16)) as [number, number];
        removedLinks.push({ from, to });
        stateRemoved.push(id);
      }
    }
    // Distances only move when links come or go or an agent changes; relay candidates also when nodes do.
    const agentsChanged = this.dirtyAgents.size > 0;
    const hops = this.topologyChanged || agentsChanged ? this.changed(this.hops(), this.publishedHops) : [];
    const relays =
      this.topologyChanged || agentsChanged || this.nodesDirty ? this.changed(this.relays(), this.publishedRelays) : [];
    const changes: GraphChanges = {
      links,
      removedLinks,
      hops,
      relays,
      state: {
        links: stateLinks,
        removedLinks: stateRemoved,
        agents: [...this.dirtyAgents].sort().map((k) => this.agents.get(k)!),
        ...(this.nodesDirty ? { nodes: this.nodeList() } : {}),
      },
    };
    this.dirtyLinks.clear();
    this.dirtyAgents.clear();
    this.nodesDirty = false;
    this.topologyChanged = false;
    return changes;
  }

  /** Every current link, ordered by (from, to). */
  allLinks(): Link[] {
    return [...this.links.entries()]
      .sort((a, b) => a[1].from - b[1].from || a[1].to - b[1].to)
      .map(([id, l]) => {
        if (this.dirtyLinks.has(id)) return toLink(l);
        let pub = this.linkCache.get(id);
        if (!pub) {
          pub = toLink(l);
          this.linkCache.set(id, pub);
        }
        return pub;
      });
  }

  get linkCount(): number {
    return this.links.size;
  }

  get agentCount(): number {
    return this.agents.size;
  }

  /** Hop distances of every agent whose radio's node number is known. */
  hops(): AgentHops[] {
    const incoming = new Map<number, number[]>();
    for (const l of this.links.values()) {
      const list = incoming.get(l.to);
      if (list) list.push(l.from);
      else incoming.set(l.to, [l.from]);
    }
    for (const list of incoming.values()) list.sort((a, b) => a - b);
    const out: AgentHops[] = [];
    for (const a of this.sortedAgents()) {
      if (a.node === undefined) continue;
      const distances: Record<string, number> = {};
      // Meshtastic counts hops as relays in between (hopStart - hopLimit, hopsAway): a neighbour is 0 hops away.
      for (const [n, d] of [...hopDistances(a.node, incoming)].sort((x, y) => x[0] - y[0]))
        if (n !== a.node) distances[n] = d - 1;
      const observed: Record<string, number> = {};
      for (const n of Object.keys(a.observed).sort((x, y) => Number(x) - Number(y))) observed[n] = a.observed[n]!.hops;
      out.push({ site: a.site, agent: a.agent, agentNode: a.node, distances, observed });
    }
    return out;
  }

  /** Relay candidates per agent for every relay byte it saw within the link age. */
  relays(): AgentRelays[] {
    const out: AgentRelays[] = [];
    for (const a of this.sortedAgents()) {
      // Agents with no relays left are listed too, so a table that emptied out is published as empty.
      const bytes = Object.keys(a.relays)
        .map(Number)
        .sort((x, y) => x - y);
      const neighbours = new Set<number>();
      if (a.node !== undefined) for (const l of this.links.values()) if (l.to === a.node) neighbours.add(l.from);
      const relays = bytes.map((relayByte) => ({
        relayByte,
        ...relayCandidates(relayByte, this.byLowByte, neighbours),
        lastSeen: a.relays[String(relayByte)]!,
      }));
      out.push({ site: a.site, agent: a.agent, relays });
    }
    return out;
  }

  exportState(): GraphState {
    return {
      links: [...this.links.values()].sort((a, b) => a.from - b.from || a.to - b.to),
      agents: this.sortedAgents(),
      nodes: this.nodeList(),
    };
  }

  private changed<T extends { site: string; agent: string }>(current: T[], published: Map<string, string>): T[] {
    const out: T[] = [];
    for (const v of current) {
      const k = agentId(v.site, v.agent);
      const json = JSON.stringify(v);
      if (published.get(k) === json) continue;
      published.set(k, json);
      out.push(v);
    }
    return out;
  }

  private sortedAgents(): AgentState[] {
    return [...this.agents.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, a]) => a);
  }

  private nodeList(): [number, number][] {
    return [...this.nodes.entries()].sort((a, b) => a[0] - b[0]);
  }

  private agent(site: string, agent: string): AgentState {
    const k = agentId(site, agent);
    let a = this.agents.get(k);
    if (!a) {
      a = { site, agent, nodeAt: 0, observed: {}, relays: {}, pending: [] };
      this.agents.set(k, a);
      this.dirtyAgents.add(k);
    }
    return a;
  }

  private markAgent(a: AgentState): void {
    this.dirtyAgents.add(agentId(a.site, a.agent));
  }

  private touchNode(node: number, t: number): void {
    const prev = this.nodes.get(node);
    if (prev !== undefined && prev >= t) return;
    this.nodes.set(node, t);
    this.nodesDirty = true;
    if (prev !== undefined) return;
    const b = node & 0xff;
    let set = this.byLowByte.get(b);
    if (!set) {
      set = new Set();
      this.byLowByte.set(b, set);
    }
    set.add(node);
  }

  private applyDirect(to: number, p: { from: number; snr: number | null; t: number; key: string }): void {
    this.applyLink({ kind: 'link', from: p.from, to, snr: p.snr, t: p.t, evidence: 'direct', key: `${p.key}:${to}` });
  }

  private applyLink(o: LinkObservation): void {
    if (o.from === o.to) return;
    const id = linkId(o.from, o.to);
    let l = this.links.get(id);
    if (!l) {
      l = { from: o.from, to: o.to, firstSeen: o.t, lastSeen: o.t, samples: [], evidence: {} };
      this.links.set(id, l);
      this.topologyChanged = true;
      this.dirtyLinks.add(id);
    }
    this.touchNode(o.from, o.t);
    this.touchNode(o.to, o.t);
    if (o.t < l.firstSeen) {
      l.firstSeen = o.t;
      this.dirtyLinks.add(id);
    }
    if (o.t > l.lastSeen) {
      l.lastSeen = o.t;
      this.dirtyLinks.add(id);
    }
    if ((l.evidence[o.evidence] ?? -1) < o.t) {
      l.evidence[o.evidence] = o.t;
      this.dirtyLinks.add(id);
    }
    if (this.addSample(l, o)) this.dirtyLinks.add(id);
  }

  /** Adds a sample unless its measurement is already counted or it falls outside the window; true if added. */
  private addSample(l: LinkState, o: LinkObservation): boolean {
    const { snrWindowMs, maxSamples } = this.settings;
    if (o.t < l.lastSeen - snrWindowMs) return false;
    if (l.samples.some((s) => s.key === o.key)) return false;
    if (l.samples.length >= maxSamples && o.t < l.samples[0]!.t) return false;
    let i = l.samples.length;
    while (i > 0 && l.samples[i - 1]!.t > o.t) i--;
    // -0 would not survive the JSON round trip of the persisted state.
    l.samples.splice(i, 0, { t: o.t, snr: o.snr === null ? null : o.snr + 0, key: o.key, evidence: o.evidence });
    const cutoff = l.lastSeen - snrWindowMs;
    let drop = 0;
    while (drop < l.samples.length && (l.samples[drop]!.t < cutoff || l.samples.length - drop > maxSamples)) drop++;
    if (drop > 0) l.samples.splice(0, drop);
    return true;
  }
}

export function toLink(l: LinkState): Link {
  const { latest, median } = snrStats(l.samples);
  const evidence = EVIDENCE_ORDER.filter((e): e is Evidence => l.evidence[e] !== undefined);
  return {
    from: l.from,
    to: l.to,
    snrLatest: latest,
    snrMedian: median,
    samples: l.samples.length,
    firstSeen: l.firstSeen,
    lastSeen: l.lastSeen,
    evidence,
    quality: linkQuality(median, latest, l.samples.length),
  };
}
