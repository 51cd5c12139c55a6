import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { nodeIdFromNum } from '@mmm/schemas';
import { legacyPayload } from '@mmm/schemas/legacy';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { RestContext } from './context.js';
import { display, iso } from './format.js';
import { streamAllNodes } from './nodes-stream.js';
import {
  agentFilter,
  HOUR,
  HttpError,
  hours,
  limit,
  NodeIdParam,
  Nullable,
  offset,
  parseNode,
  token,
} from './params.js';
import { ACTIVE_MS, type LinkDbRow, type NodeDbRow, namesOf, nodeRows } from './rows.js';

export const NodeItem = Type.Object(
  {
    node_id: Type.String(),
    node_num: Type.Integer(),
    short_name: Nullable(Type.String()),
    long_name: Nullable(Type.String()),
    hw_model: Nullable(Type.String()),
    role: Nullable(Type.String()),
    battery_level: Nullable(Type.Number()),
    position: Nullable(Type.Array(Type.Number())),
    last_heard: Nullable(Type.String()),
    active: Type.Boolean(),
    agent_count: Type.Integer(),
    seeing_agents: Type.Array(Type.String()),
    agent_routes: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: true },
);

const VARIANTS = [
  'deviceMetrics',
  'environmentMetrics',
  'powerMetrics',
  'airQualityMetrics',
  'localStats',
  'healthMetrics',
  'hostMetrics',
] as const;

export interface NodeFilter {
  hours: number;
  agent_id?: string;
  site?: string;
  active_only: boolean;
}

/** The node list's filter (also the node exports'): on `nodes n`, bare columns so the indexes apply. */
export function nodeWhere(q: NodeFilter, now: number): { sql: string; args: unknown[] } {
  const where = ['n.updated_at >= ?'];
  const args: unknown[] = [now - q.hours * HOUR];
  const agent = agentFilter(q.agent_id);
  if (agent || q.site) {
    const sub = ['na.num = n.num'];
    if (agent) {
      sub.push('na.agent = ?');
      args.push(agent);
    }
    if (q.site) {
      sub.push('na.site = ?');
      args.push(q.site);
    }
    where.push(`EXISTS (SELECT 1 FROM node_agents na WHERE ${sub.join(' AND ')})`);
  }
  if (q.active_only) {
    where.push('n.last_heard >= ?');
    args.push(now - ACTIVE_MS);
  }
  return { sql: where.join(' AND '), args };
}

export const nodeRoutes =
  (ctx: RestContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { db } = ctx;
    const getNode = (id: string): NodeDbRow => {
      const num = parseNode(id, 'node_id');
      const n = db.prepare('SELECT * FROM nodes WHERE num = ?').get(num) as NodeDbRow | undefined;
      if (!n) throw new HttpError(404, `node ${nodeIdFromNum(num)} not found`);
      return n;
    };

    app.get(
      '/api/nodes',
      {
        schema: {
          summary: 'Per (node, agent) rows: what each agent knows about each node',
          tags: ['nodes'],
          querystring: Type.Object({
            agent_id: Type.Optional(Type.String({ maxLength: 64 })),
            site: Type.Optional(Type.String({ maxLength: 64 })),
            hours: hours(72),
            limit: limit(1000, 10000),
            offset,
            token,
          }),
          response: {
            200: Type.Object({
              nodes: Type.Array(
                Type.Object({ node_id: Type.String(), agent_id: Type.String() }, { additionalProperties: true }),
              ),
            }),
          },
        },
      },
      async (req) => {
        const q = req.query;
        const where = ['na.updated_at >= ?'];
        const args: unknown[] = [Date.now() - q.hours * HOUR];
        const agent = agentFilter(q.agent_id);
        if (agent) {
          where.push('na.agent = ?');
          args.push(agent);
        }
        if (q.site) {
          where.push('na.site = ?');
          args.push(q.site);
        }
        const rows = db
          .prepare(
            `SELECT na.*, n.battery_level, n.lat, n.lon, a.location_name FROM node_agents na
           JOIN nodes n ON n.num = na.num LEFT JOIN agents a ON a.site = na.site AND a.agent = na.agent
           WHERE ${where.join(' AND ')} ORDER BY na.updated_at DESC LIMIT ? OFFSET ?`,
          )
          .all(...args, q.limit, q.offset) as {
          num: number;
          site: string;
          agent: string;
          last_heard: number | null;
          updated_at: number;
          hops_away: number | null;
          snr: number | null;
          rssi: number | null;
          battery_level: number | null;
          lat: number | null;
          lon: number | null;
          location_name: string | null;
        }[];
        return {
          nodes: rows.map((r) => ({
            node_id: nodeIdFromNum(r.num),
            agent_id: r.agent,
            site: r.site,
            agent_location: r.location_name ?? r.agent,
            last_seen: iso(r.last_heard ?? r.updated_at),
            battery_level: r.battery_level,
            position: r.lat !== null && r.lon !== null ? [r.lat, r.lon] : null,
            rssi: r.rssi,
            snr: r.snr,
            updated_at: iso(r.updated_at),
            hops_away: r.hops_away,
          })),
        };
      },
    );

    app.get(
      '/api/nodes/detailed',
      {
        schema: {
          summary:
            'One row per node with names, hardware, role, metrics, position, the agents that hear it and their latest route',
          tags: ['nodes'],
          querystring: Type.Object({
            hours: hours(72),
            // No default: without it every node is sent (streamed), as the original did.
            limit: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 10000, description: 'Rows per page (default: every node)' }),
            ),
            offset,
            agent_id: Type.Optional(Type.String({ maxLength: 64 })),
            site: Type.Optional(Type.String({ maxLength: 64 })),
            active_only: Type.Boolean({ default: false }),
            token,
          }),
          response: {
            200: Type.Object({
              nodes: Type.Array(NodeItem),
              total: Type.Integer(),
              limit: Type.Integer(),
              offset: Type.Integer(),
            }),
          },
        },
      },
      async (req, reply) => {
        const q = req.query;
        const now = Date.now();
        const { sql: w, args } = nodeWhere(q, now);
        // The typed reply knows only the object body; a stream is sent as it is (no response serialisation).
        if (q.limit === undefined)
          return (reply as FastifyReply)
            .type('application/json; charset=utf-8')
            .send(streamAllNodes(db, { sql: w, args }, q.offset, now));
        const rows = db
          // num breaks ties so pages never overlap (the nodes_updated index holds (updated_at, num) already).
          .prepare(`SELECT n.* FROM nodes n WHERE ${w} ORDER BY n.updated_at DESC, n.num DESC LIMIT ? OFFSET ?`)
          .all(...args, q.limit, q.offset) as NodeDbRow[];
        const total = (db.prepare(`SELECT count(*) AS c FROM nodes n WHERE ${w}`).get(...args) as { c: number }).c;
        return { nodes: nodeRows(db, rows, now), total, limit: q.limit, offset: q.offset };
      },
    );

    app.get(
      '/api/nodes/:node_id/details',
      {
        schema: {
          summary: 'One node: row, packet stats, telemetry history and neighbours from the real topology',
          tags: ['nodes'],
          params: Type.Object({ node_id: NodeIdParam }),
          querystring: Type.Object({ hours: hours(72), token }),
          response: {
            200: Type.Object(
              { node_id: Type.String(), telemetry: Type.Array(Type.Unknown()), neighbors: Type.Array(Type.Unknown()) },
              { additionalProperties: true },
            ),
          },
        },
      },
      async (req) => {
        const n = getNode(req.params.node_id);
        const cutoff = Date.now() - req.query.hours * HOUR;
        const [row] = nodeRows(db, [n]);
        const tele = await ctx.history.telemetry(n.num, 'deviceMetrics', undefined, cutoff, 200);
        const stats = db
          .prepare(
            'SELECT count(DISTINCT packet_id) AS total, min(received_at) AS first, max(received_at) AS last FROM receptions WHERE from_num = ? AND received_at >= ?',
          )
          .get(n.num, cutoff) as { total: number; first: number | null; last: number | null };
        const links = db
          .prepare('SELECT * FROM links WHERE from_num = ? OR to_num = ? ORDER BY quality DESC LIMIT 100')
          .all(n.num, n.num) as LinkDbRow[];
        const names = namesOf(
          db,
          links.map((l) => (l.from_num === n.num ? l.to_num : l.from_num)),
        );
        return {
          ...row,
          firmware_version: n.firmware_version,
          region: n.region,
          modem_preset: n.modem_preset,
          packet_stats: {
            total_packets: stats.total,
            seeing_agents: row?.agent_count ?? 0,
            agent_locations: row?.seeing_agents ?? [],
            first_seen: iso(stats.first ?? n.first_seen),
            last_seen: iso(stats.last ?? n.last_heard),
          },
          telemetry: tele.map((t) => ({
            timestamp: iso(t.received_at),
            agent_id: t.agent,
            type: 'telemetry',
            payload: legacyPayload('telemetry', { deviceMetrics: t.values }),
          })),
          neighbors: links.map((l) => {
            const other = l.from_num === n.num ? l.to_num : l.from_num;
            const nm = names.get(other);
            return {
              node_id: nodeIdFromNum(other),
              display_name: display(nm?.short_name, nm?.long_name) ?? nodeIdFromNum(other),
              avg_rssi: null,
              avg_snr: l.snr_median ?? l.snr_latest,
              packet_count: l.samples,
              last_contact: iso(l.last_seen),
              // "out": the other node heard this one; "in": this node heard the other.
              direction: l.from_num === n.num ? 'out' : 'in',
              quality: l.quality,
              evidence: JSON.parse(l.evidence) as string[],
            };
          }),
        };
      },
    );

    app.get(
      '/api/nodes/:node_id/name-history',
      {
        schema: {
          summary: 'Real name changes of a node',
          tags: ['nodes'],
          params: Type.Object({ node_id: NodeIdParam }),
          querystring: Type.Object({ limit: limit(100, 1000), offset, token }),
          response: {
            200: Type.Object({
              node_id: Type.String(),
              current_short_name: Nullable(Type.String()),
              current_long_name: Nullable(Type.String()),
              history: Type.Array(
                Type.Object({
                  short_name: Nullable(Type.String()),
                  long_name: Nullable(Type.String()),
                  changed_at: Nullable(Type.String()),
                  changed_by_agent: Nullable(Type.String()),
                }),
              ),
            }),
          },
        },
      },
      async (req) => {
        const n = getNode(req.params.node_id);
        const rows = db
          .prepare(
            'SELECT short_name, long_name, changed_at, agent FROM name_history WHERE num = ? ORDER BY changed_at DESC LIMIT ? OFFSET ?',
          )
          .all(n.num, req.query.limit, req.query.offset) as {
          short_name: string | null;
          long_name: string | null;
          changed_at: number;
          agent: string | null;
        }[];
        return {
          node_id: nodeIdFromNum(n.num),
          current_short_name: n.short_name,
          current_long_name: n.long_name,
          history: rows.map((r) => ({
            short_name: r.short_name,
            long_name: r.long_name,
            changed_at: iso(r.changed_at),
            changed_by_agent: r.agent,
          })),
        };
      },
    );

    app.get(
      '/api/nodes/:node_id/positions',
      {
        schema: {
          summary: 'Position track of a node, oldest first',
          tags: ['nodes'],
          params: Type.Object({ node_id: NodeIdParam }),
          querystring: Type.Object({ hours: hours(72), limit: limit(1000, 10000), token }),
          response: {
            200: Type.Object({
              node_id: Type.String(),
              positions: Type.Array(
                Type.Object(
                  {
                    timestamp: Nullable(Type.String()),
                    latitude: Nullable(Type.Number()),
                    longitude: Nullable(Type.Number()),
                  },
                  { additionalProperties: true },
                ),
              ),
            }),
          },
        },
      },
      async (req) => {
        const n = getNode(req.params.node_id);
        const rows = await ctx.history.positions(n.num, Date.now() - req.query.hours * HOUR, req.query.limit);
        const positions = rows
          .map((r) => ({
            timestamp: iso(r.received_at),
            latitude: r.latitude,
            longitude: r.longitude,
            altitude: r.altitude,
            agent_id: r.agent,
          }))
          .reverse();
        return { node_id: nodeIdFromNum(n.num), positions };
      },
    );

    app.get(
      '/api/nodes/:node_id/telemetry',
      {
        schema: {
          summary: 'Telemetry series of one variant (and optionally one field), oldest first',
          tags: ['nodes'],
          params: Type.Object({ node_id: NodeIdParam }),
          querystring: Type.Object({
            variant: Type.Union(
              VARIANTS.map((v) => Type.Literal(v)),
              { default: 'deviceMetrics' },
            ),
            field: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_]{1,64}$' })),
            hours: hours(72),
            limit: limit(1000, 10000),
            token,
          }),
          response: {
            200: Type.Object({
              node_id: Type.String(),
              variant: Type.String(),
              field: Nullable(Type.String()),
              points: Type.Array(
                Type.Object({
                  timestamp: Nullable(Type.String()),
                  agent_id: Type.String(),
                  values: Type.Record(Type.String(), Type.Unknown()),
                }),
              ),
            }),
          },
        },
      },
      async (req) => {
        const n = getNode(req.params.node_id);
        const { variant, field } = req.query;
        const rows = await ctx.history.telemetry(
          n.num,
          variant,
          field,
          Date.now() - req.query.hours * HOUR,
          req.query.limit,
        );
        const points = rows.map((r) => ({ timestamp: iso(r.received_at), agent_id: r.agent, values: r.values }));
        return { node_id: nodeIdFromNum(n.num), variant, field: field ?? null, points: points.reverse() };
      },
    );
  };
