import { alerts } from './alerts.svelte.js';
import { LiveSocket, type SocketState } from './live-socket.js';
import { toAgent, toAlert, toLink, toNode, toPacket, toTrace } from './normalize.js';
import { arr, obj } from './pick.js';
import type { AgentRow, LinkRow, NodeRow, PacketRow, TraceRow } from './types.js';

// Current state, fed by /api/live. Rows are kept in plain Maps (10k nodes must not become 10k deep proxies);
// a `version` rune is bumped at most every FLUSH_MS so components re-derive in batches, and listeners get the ids
// that changed so the map can move single markers instead of redrawing all of them.

const FLUSH_MS = 250;
const KEEP_RECEPTIONS = 500;
const KEEP_TRACES = 200;

export type NodeChange = { readonly all: true } | { readonly all: false; readonly ids: ReadonlySet<string> };

export class LiveStore {
  readonly nodes = new Map<string, NodeRow>();
  readonly agents = new Map<string, AgentRow>();
  readonly links = new Map<string, LinkRow>();
  receptions: PacketRow[] = [];
  traces: TraceRow[] = [];

  state = $state<SocketState>('closed');
  /** Bumped when any collection changed (batched). */
  version = $state(0);
  /** Bumped when agents / links changed (batched), for views that draw only those. */
  agentsVersion = $state(0);
  linksVersion = $state(0);
  /** Bumped on every snapshot (first connect, reconnect, server-side resync): pages refetch their REST data. */
  snapshots = $state(0);
  lastSeq = 0;
  gaps = 0;

  private pendingIds = new Set<string>();
  private agentsDirty = false;
  private linksDirty = false;
  private pendingAll = false;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private nodeListeners = new Set<(c: NodeChange) => void>();
  private receptionListeners = new Set<(p: PacketRow) => void>();
  private socket: LiveSocket | null = null;

  start(url?: string): void {
    if (this.socket) return;
    this.socket = new LiveSocket({
      url,
      onMessage: (m) => this.handle(m),
      onState: (s) => {
        this.state = s;
      },
    });
    this.socket.start();
  }

  stop(): void {
    this.socket?.stop();
    this.socket = null;
  }

  onNodes(fn: (c: NodeChange) => void): () => void {
    this.nodeListeners.add(fn);
    return () => this.nodeListeners.delete(fn);
  }

  onReception(fn: (p: PacketRow) => void): () => void {
    this.receptionListeners.add(fn);
    return () => this.receptionListeners.delete(fn);
  }

  /** Applies one server message; exported for tests, which feed recorded messages. */
  handle(m: Record<string, unknown>): void {
    if (typeof m.seq === 'number') {
      if (m.type !== 'snapshot' && this.lastSeq > 0 && m.seq !== this.lastSeq + 1) this.gaps++;
      this.lastSeq = m.seq;
    }
    switch (m.type) {
      case 'snapshot':
        this.applySnapshot(m);
        break;
      case 'node': {
        const n = toNode(m.node);
        this.nodes.set(n.id, n);
        this.pendingIds.add(n.id);
        break;
      }
      case 'agent': {
        const a = toAgent(m.agent);
        this.agents.set(a.id, a);
        this.agentsDirty = true;
        break;
      }
      case 'link': {
        const l = toLink(m.link);
        this.links.set(`${l.from}>${l.to}`, l);
        this.linksDirty = true;
        break;
      }
      case 'link_removed': {
        const l = toLink(m);
        this.links.delete(`${l.from}>${l.to}`);
        this.linksDirty = true;
        break;
      }
      case 'reception': {
        const p = toPacket(m.packet);
        this.receptions.unshift(p);
        if (this.receptions.length > KEEP_RECEPTIONS) this.receptions.length = KEEP_RECEPTIONS;
        for (const fn of this.receptionListeners) fn(p);
        break;
      }
      case 'trace': {
        this.traces.unshift(toTrace(m.route));
        if (this.traces.length > KEEP_TRACES) this.traces.length = KEEP_TRACES;
        break;
      }
      case 'alert': {
        const a = toAlert(m.alert);
        if (a) alerts.apply(a);
        return;
      }
      case 'resync':
        // a fresh snapshot follows; nothing to do until it arrives
        return;
      default:
        return;
    }
    this.scheduleFlush();
  }

  private applySnapshot(m: Record<string, unknown>): void {
    this.nodes.clear();
    for (const raw of arr(m.nodes)) {
      const n = toNode(raw);
      this.nodes.set(n.id, n);
    }
    this.agents.clear();
    for (const raw of arr(m.agents)) {
      const a = toAgent(raw);
      this.agents.set(a.id, a);
    }
    this.links.clear();
    for (const raw of arr(m.links)) {
      const l = toLink(obj(raw));
      this.links.set(`${l.from}>${l.to}`, l);
    }
    this.pendingAll = true;
    this.agentsDirty = true;
    this.linksDirty = true;
    this.snapshots++;
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Runs pending notifications now (tests call it instead of waiting). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const change: NodeChange | null = this.pendingAll
      ? { all: true }
      : this.pendingIds.size > 0
        ? { all: false, ids: this.pendingIds }
        : null;
    this.pendingAll = false;
    this.pendingIds = new Set();
    if (change) for (const fn of this.nodeListeners) fn(change);
    if (this.agentsDirty) this.agentsVersion++;
    if (this.linksDirty) this.linksVersion++;
    this.agentsDirty = false;
    this.linksDirty = false;
    this.version++;
  }
}

export const live = new LiveStore();
