import type { AlertEvent } from '@mmm/schemas';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { ApiMetrics } from '../metrics.js';
import type { Changes } from '../projection/changes.js';
import {
  type AgentDbRow,
  agentRow,
  type Json,
  type LinkDbRow,
  linkRow,
  type NodeDbRow,
  nodeRows,
  nodeRowsByNum,
  packetRows,
  type ReceptionDbRow,
  routeRows,
  type TraceRow,
} from '../rest/rows.js';
import type { Db } from '../store/db.js';
import { LiveClient, type OutMsg } from './client.js';
import { describe, inBox, type LiveFilter, siteOk, wants } from './filter.js';

/** Nodes in a snapshot: those heard in the last week, newest first. */
const SNAPSHOT_MAX_AGE_MS = 7 * 24 * 3_600_000;
const SNAPSHOT_MAX_NODES = 20_000;

export interface LiveOptions {
  queueMax: number;
  nodeRateHz: number;
  heartbeatS: number;
}

type Pos = readonly [number, number];

/** Fans projection changes out to live clients: rows are read once per change and serialised once for all clients. */
export class LiveHub {
  readonly clients = new Set<LiveClient>();
  private readonly pendingNodes = new Set<number>();
  private readonly positions = new Map<number, Pos>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly db: Db,
    private readonly opts: LiveOptions,
    private readonly metrics: ApiMetrics,
    private readonly log: Logger,
  ) {
    for (const r of db.prepare('SELECT num, lat, lon FROM nodes WHERE lat IS NOT NULL AND lon IS NOT NULL').all() as {
      num: number;
      lat: number;
      lon: number;
    }[]) {
      this.positions.set(r.num, [r.lat, r.lon]);
    }
    // Node updates are coalesced: one flush per 1/rate seconds sends each changed node once, with its latest state.
    this.timers.push(setInterval(() => this.flushNodes(), 1000 / opts.nodeRateHz));
    this.timers.push(setInterval(() => this.heartbeat(), opts.heartbeatS * 1000));
  }

  attach(ws: WebSocket): LiveClient {
    const client = new LiveClient(ws, this.opts.queueMax, {
      snapshot: (f) => this.snapshot(f),
      onResync: () => this.metrics.wsResyncs.inc(),
    });
    this.clients.add(client);
    this.metrics.wsClients.set(this.clients.size);
    ws.on('close', () => {
      this.clients.delete(client);
      this.metrics.wsClients.set(this.clients.size);
    });
    ws.on('error', (err) => this.log.debug({ err }, 'live client error'));
    client.direct({
      type: 'hello',
      protocol: 1,
      server_time: new Date().toISOString(),
      heartbeat_s: this.opts.heartbeatS,
    });
    client.sendSnapshot();
    return client;
  }

  onChanges(ch: Changes): void {
    for (const n of ch.nodes) this.pendingNodes.add(n);
    if (this.clients.size === 0) return;
    if (ch.receptions.length) {
      const rows = this.db
        .prepare(
          `SELECT r.*, a.location_name FROM receptions r LEFT JOIN agents a ON a.site = r.site AND a.agent = r.agent
           WHERE r.id IN (SELECT value FROM json_each(?)) ORDER BY r.received_at`,
        )
        .all(JSON.stringify(ch.receptions)) as ReceptionDbRow[];
      const packets = packetRows(this.db, rows);
      rows.forEach((r, i) => {
        const msg: OutMsg = { type: 'reception', body: `"packet":${JSON.stringify(packets[i])}` };
        const pos = this.positions.get(r.from_num);
        this.fanout(
          'reception',
          msg,
          (f) =>
            siteOk(f, r.site, r.agent) &&
            (!f.nodes || f.nodes.has(r.from_num) || f.nodes.has(r.to_num)) &&
            inBox(f, pos),
        );
      });
    }
    for (const key of ch.agents) {
      const [site, agent] = key.split('\u0000') as [string, string];
      const a = this.db.prepare('SELECT * FROM agents WHERE site = ? AND agent = ?').get(site, agent) as
        | AgentDbRow
        | undefined;
      if (!a) continue;
      const msg: OutMsg = { type: 'agent', body: `"agent":${JSON.stringify(agentRow(a))}` };
      this.fanout('agent', msg, (f) => siteOk(f, site, agent) && !f.nodes && !f.bbox);
    }
    if (ch.traces.length) {
      const rows = this.db
        .prepare(
          `SELECT t.*, a.location_name FROM traces t LEFT JOIN agents a ON a.site = t.site AND a.agent = t.agent WHERE t.id IN (SELECT value FROM json_each(?))`,
        )
        .all(JSON.stringify(ch.traces)) as TraceRow[];
      routeRows(this.db, rows).forEach((route, i) => {
        const t = rows[i]!;
        const msg: OutMsg = { type: 'trace', body: `"route":${JSON.stringify(route)}` };
        this.fanout(
          'trace',
          msg,
          (f) => siteOk(f, t.site, t.agent) && (!f.nodes || f.nodes.has(t.from_num) || f.nodes.has(t.to_num)),
        );
      });
    }
    for (const l of ch.links) {
      const row = this.db.prepare('SELECT * FROM links WHERE from_num = ? AND to_num = ?').get(l.from, l.to) as
        | LinkDbRow
        | undefined;
      if (!row) continue;
      const msg: OutMsg = { type: 'link', body: `"link":${JSON.stringify(linkRow(row))}` };
      this.fanout('link', msg, (f) => this.linkOk(f, l.from, l.to));
    }
    for (const l of ch.removedLinks) {
      const msg: OutMsg = {
        type: 'link_removed',
        body: `"from_node_id":${JSON.stringify(linkRow({ ...blankLink, from_num: l.from, to_num: l.to }).from_node_id)},"to_node_id":${JSON.stringify(linkRow({ ...blankLink, from_num: l.from, to_num: l.to }).to_node_id)}`,
      };
      this.fanout('link', msg, (f) => this.linkOk(f, l.from, l.to));
    }
  }

  /** An alert fired or resolved (mesh.v1.alerts.*): every client that wants alerts gets it, whatever its area. */
  onAlert(a: AlertEvent): void {
    if (this.clients.size === 0) return;
    const { v: _v, kind: _k, ...rest } = a;
    this.fanout('alert', { type: 'alert', body: `"alert":${JSON.stringify(rest)}` }, () => true);
  }

  private linkOk(f: LiveFilter, from: number, to: number): boolean {
    if (f.nodes && !f.nodes.has(from) && !f.nodes.has(to)) return false;
    return !f.bbox || inBox(f, this.positions.get(from)) || inBox(f, this.positions.get(to));
  }

  private fanout(kind: Parameters<typeof wants>[1], msg: OutMsg, ok: (f: LiveFilter) => boolean): void {
    for (const c of this.clients) if (wants(c.filter, kind) && ok(c.filter)) c.push(msg);
  }

  private nodeOk(f: LiveFilter, node: Json): boolean {
    if (f.nodes && !f.nodes.has(node.node_num as number)) return false;
    if (!inBox(f, node.position as Pos | null)) return false;
    if (f.sites || f.agents) {
      const agents = node.agents as { site: string; agent_id: string }[];
      return agents.some((a) => siteOk(f, a.site, a.agent_id));
    }
    return true;
  }

  private flushNodes(): void {
    if (!this.pendingNodes.size) return;
    const nums = [...this.pendingNodes];
    this.pendingNodes.clear();
    try {
      // With nobody listening only the positions (for later bbox filters) are kept up to date: building each changed
      // node's full row (its agents, names) was a few per cent of the API's CPU under ingest, for no one.
      if (!this.clients.size) {
        for (const r of this.db
          .prepare('SELECT num, lat, lon FROM nodes WHERE num IN (SELECT value FROM json_each(?)) AND lat IS NOT NULL')
          .all(JSON.stringify(nums)) as { num: number; lat: number; lon: number | null }[])
          if (r.lon !== null) this.positions.set(r.num, [r.lat, r.lon]);
        return;
      }
      const rows = nodeRowsByNum(this.db, nums);
      for (const node of rows) {
        const pos = node.position as [number, number] | null;
        if (pos) this.positions.set(node.node_num as number, pos);
        const msg: OutMsg = { type: 'node', body: `"node":${JSON.stringify(node)}` };
        this.fanout('node', msg, (f) => this.nodeOk(f, node));
      }
    } catch (err) {
      this.metrics.storeErrors.inc({ op: 'live' });
      this.log.error({ err }, 'live node flush failed');
    }
  }

  snapshot(f: LiveFilter): OutMsg {
    const now = Date.now();
    let nodes: Json[] = [];
    if (wants(f, 'node')) {
      const rows = this.db
        .prepare('SELECT * FROM nodes WHERE updated_at >= ? ORDER BY updated_at DESC LIMIT ?')
        .all(now - SNAPSHOT_MAX_AGE_MS, SNAPSHOT_MAX_NODES) as NodeDbRow[];
      nodes = nodeRows(this.db, rows, now).filter((n) => this.nodeOk(f, n));
    }
    const agents =
      wants(f, 'agent') && !f.nodes && !f.bbox
        ? (this.db.prepare('SELECT * FROM agents ORDER BY last_seen DESC').all() as AgentDbRow[])
            .filter((a) => siteOk(f, a.site, a.agent))
            .map((a) => agentRow(a, now))
        : [];
    const links = wants(f, 'link')
      ? (this.db.prepare('SELECT * FROM links WHERE last_seen >= ?').all(now - SNAPSHOT_MAX_AGE_MS) as LinkDbRow[])
          .filter((l) => this.linkOk(f, l.from_num, l.to_num))
          .map(linkRow)
      : [];
    return {
      type: 'snapshot',
      body: `"at":${JSON.stringify(new Date(now).toISOString())},"nodes":${JSON.stringify(nodes)},"agents":${JSON.stringify(agents)},"links":${JSON.stringify(links)},"filter":${JSON.stringify(describe(f))}`,
    };
  }

  private heartbeat(): void {
    const msg: OutMsg = { type: 'heartbeat', body: `"server_time":${JSON.stringify(new Date().toISOString())}` };
    for (const c of this.clients) {
      if (c.missed >= 2) {
        // Two intervals without a pong: a dead or stalled peer; terminate frees its buffers.
        c.ws.terminate();
        continue;
      }
      c.missed++;
      c.ws.ping();
      c.push(msg);
    }
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
  }
}

const blankLink: LinkDbRow = {
  from_num: 0,
  to_num: 0,
  snr_latest: null,
  snr_median: null,
  samples: 0,
  first_seen: 0,
  last_seen: 0,
  evidence: '[]',
  quality: 0,
};
