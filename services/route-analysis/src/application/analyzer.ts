import {
  assertEvent,
  decodeEvent,
  msgIds,
  SCHEMA_VERSION,
  subjects,
  type TopologyKind,
  type TopologyUpdate,
} from '@mmm/schemas';
import type { GraphChanges } from '../domain/graph.js';
import { TopologyGraph } from '../domain/graph.js';
import { observe } from '../domain/observe.js';
import type { GraphState } from '../domain/state.js';
import { type GraphSettings, linkId } from '../domain/types.js';
import { publicKeys, type StateMeta, stateKeys } from './keys.js';

/** Links per published 'link' update, so one message stays far below the 1 MB default max payload. */
export const LINKS_PER_UPDATE = 200;

export type HandleResult =
  | { readonly status: 'applied'; readonly observations: number }
  | { readonly status: 'duplicate' }
  | { readonly status: 'invalid'; readonly reason: string };

export interface Outgoing {
  readonly subject: string;
  readonly msgId: string;
  readonly event: TopologyUpdate;
}

export interface KvWrites {
  readonly puts: [string, unknown][];
  readonly deletes: string[];
}

/** Everything one flush has to do, in order: publish updates, write the snapshot, write the checkpoint, then ack. */
export interface FlushPlan {
  readonly updates: Outgoing[];
  readonly snapshot: KvWrites;
  readonly state: KvWrites;
  readonly lastSeq: number;
  readonly changed: boolean;
}

/**
 * Turns hub-stream messages into graph changes and flush plans. No IO: the infrastructure layer fetches, then
 * carries out the plan. Messages at or below the checkpointed stream sequence were already counted and are skipped,
 * which makes a redelivery after a crash a no-op; sample keys inside the graph catch the same measurement arriving
 * under another sequence (a duplicate from stream sourcing, a second agent).
 */
export class Analyzer {
  private pendingLinksIndex = false;
  private linksIndexWrittenAt = Number.NEGATIVE_INFINITY;
  /**
   * The `links` array is rewritten at most this often (ms): on a large mesh it is most of a megabyte, while the
   * per-link keys carry every change at once.
   */
  linksIndexIntervalMs = 0;

  constructor(
    readonly graph: TopologyGraph,
    private seq = 0,
  ) {}

  static fresh(settings: GraphSettings): Analyzer {
    return new Analyzer(new TopologyGraph(settings));
  }

  static restore(settings: GraphSettings, state: GraphState, meta: StateMeta): Analyzer {
    return new Analyzer(TopologyGraph.fromState(settings, state), meta.lastSeq);
  }

  get lastSeq(): number {
    return this.seq;
  }

  handle(seq: number, subject: string, data: Uint8Array): HandleResult {
    if (seq <= this.seq) return { status: 'duplicate' };
    this.seq = seq;
    const res = decodeEvent(subject, data);
    if (!res.ok) return { status: 'invalid', reason: res.error };
    const obs = observe(res.value);
    for (const o of obs) this.graph.apply(o);
    return { status: 'applied', observations: obs.length };
  }

  /** True while a rewrite of the `links` array is held back by linksIndexIntervalMs. */
  get snapshotPending(): boolean {
    return this.pendingLinksIndex;
  }

  /**
   * Changes since the last flush as updates, snapshot writes and checkpoint writes. `now` dates them (wall clock);
   * `mono` (a monotonic clock in ms) paces the `links` array rewrites.
   */
  flush(now: number, mono = performance.now()): FlushPlan {
    const ch = this.graph.flush(now);
    const changed = ch.links.length + ch.removedLinks.length + ch.hops.length + ch.relays.length > 0;
    const dirty = ch.links.length + ch.removedLinks.length > 0 || this.pendingLinksIndex;
    const linksChanged = dirty && mono - this.linksIndexWrittenAt >= this.linksIndexIntervalMs;
    this.pendingLinksIndex = dirty && !linksChanged;
    if (linksChanged) this.linksIndexWrittenAt = mono;
    return {
      updates: this.updates(ch, now),
      snapshot: this.snapshotWrites(ch, now, linksChanged),
      state: this.stateWrites(ch, now),
      lastSeq: this.seq,
      changed,
    };
  }

  /**
   * After a rebuild: the whole graph as updates and writes, plus deletes for every key of the previous snapshot and
   * checkpoint that the rebuilt graph no longer has.
   */
  fullPlan(now: number, previous: { snapshotKeys: readonly string[]; stateKeys: readonly string[] }): FlushPlan {
    this.graph.flush(now);
    const state = this.graph.exportState();
    const links = this.graph.allLinks();
    const present = new Set(links.map((l) => publicKeys.link(l.from, l.to)));
    const removedLinks = previous.snapshotKeys
      .filter((k) => k.startsWith('link.') && !present.has(k))
      .map((k) => {
        const [, f, t] = k.split('.');
        return { from: Number.parseInt(f!, 16), to: Number.parseInt(t!, 16) };
      });
    const ch: GraphChanges = {
      links,
      removedLinks,
      hops: this.graph.hops(),
      relays: this.graph.relays(),
      state: { links: state.links, removedLinks: [], agents: state.agents, nodes: state.nodes },
    };
    const snapshot = this.snapshotWrites(ch, now, true);
    const stateW = this.stateWrites(ch, now);
    const keep = (w: KvWrites) => new Set(w.puts.map(([k]) => k));
    const snapKeep = keep(snapshot);
    const stateKeep = keep(stateW);
    return {
      updates: this.updates(ch, now),
      snapshot: { puts: snapshot.puts, deletes: previous.snapshotKeys.filter((k) => !snapKeep.has(k)) },
      state: { puts: stateW.puts, deletes: previous.stateKeys.filter((k) => !stateKeep.has(k)) },
      lastSeq: this.seq,
      changed: true,
    };
  }

  private updates(ch: GraphChanges, now: number): Outgoing[] {
    const out: Outgoing[] = [];
    const make = (type: TopologyKind, key: string, body: Partial<TopologyUpdate>): Outgoing => ({
      subject: subjects.topology(type),
      msgId: msgIds.topology(type, key, now),
      event: assertEvent<TopologyUpdate>({ v: SCHEMA_VERSION, kind: 'topology', type, at: now, ...body }),
    });
    const n = Math.max(ch.links.length, ch.removedLinks.length);
    for (let i = 0; i * LINKS_PER_UPDATE < n; i++) {
      const links = ch.links.slice(i * LINKS_PER_UPDATE, (i + 1) * LINKS_PER_UPDATE);
      const removed = ch.removedLinks.slice(i * LINKS_PER_UPDATE, (i + 1) * LINKS_PER_UPDATE);
      out.push(make('link', `${this.seq}-${i}`, { links, ...(removed.length ? { removedLinks: removed } : {}) }));
    }
    for (const h of ch.hops) out.push(make('hops', `${h.site}.${h.agent}`, { hops: { ...h } }));
    for (const r of ch.relays) {
      const relays = r.relays.map((e) => ({ ...e, site: r.site, agent: r.agent }));
      out.push(make('relay', `${r.site}.${r.agent}`, { relays }));
    }
    return out;
  }

  private snapshotWrites(ch: GraphChanges, now: number, linksChanged: boolean): KvWrites {
    const puts: [string, unknown][] = [];
    const deletes: string[] = [];
    for (const l of ch.links) puts.push([publicKeys.link(l.from, l.to), l]);
    for (const r of ch.removedLinks) deletes.push(publicKeys.link(r.from, r.to));
    for (const h of ch.hops) puts.push([publicKeys.hops(h.site, h.agent), h]);
    for (const r of ch.relays) puts.push([publicKeys.relays(r.site, r.agent), r]);
    if (linksChanged) {
      const all = this.graph.allLinks();
      puts.push([publicKeys.links, all]);
      puts.push([publicKeys.meta, { updatedAt: now, links: all.length, lastSeq: this.seq }]);
    }
    return { puts, deletes };
  }

  private stateWrites(ch: GraphChanges, now: number): KvWrites {
    const puts: [string, unknown][] = [];
    for (const l of ch.state.links) puts.push([stateKeys.link(linkId(l.from, l.to)), l]);
    for (const a of ch.state.agents) puts.push([stateKeys.agent(a.site, a.agent), a]);
    if (ch.state.nodes) puts.push([stateKeys.nodes, ch.state.nodes]);
    const meta: StateMeta = { v: 1, lastSeq: this.seq, at: now };
    puts.push([stateKeys.meta, meta]);
    return { puts, deletes: ch.state.removedLinks.map((id) => stateKeys.link(id)) };
  }

  /** Marks the `links` array for rewriting at the next flush (e.g. after it could not be written). */
  rewriteLinksIndex(): void {
    this.pendingLinksIndex = true;
  }
}
