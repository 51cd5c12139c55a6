import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { nodeIdFromNum } from '@mmm/schemas';
import { Type } from '@sinclair/typebox';
import type { RestContext } from './context.js';
import { hwModelName, iso } from './format.js';
import { agentFilter, HOUR, hours, limit, NodeIdParam, offset, parseNode, token } from './params.js';
import { type LinkDbRow, linkRow, namesOf, routeRows, type TraceRow } from './rows.js';

const Loose = Type.Object({}, { additionalProperties: true });

export const topologyRoutes =
  (ctx: RestContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { db } = ctx;

    app.get(
      '/api/topology',
      {
        schema: {
          summary: "Per node, what each agent's radio reports: hops away, SNR, last heard",
          tags: ['topology'],
          querystring: Type.Object({
            agent_id: Type.Optional(Type.String({ maxLength: 64 })),
            hours: hours(24),
            limit: limit(5000, 20000),
            offset,
            token,
          }),
          response: { 200: Type.Object({ topology: Type.Array(Loose) }) },
        },
      },
      async (req) => {
        const q = req.query;
        const args: unknown[] = [Date.now() - q.hours * HOUR];
        const agent = agentFilter(q.agent_id);
        if (agent) args.push(agent);
        const rows = db
          .prepare(
            `SELECT na.*, n.short_name, n.long_name, n.hw_model, n.hw_model_name, a.location_name FROM node_agents na
           JOIN nodes n ON n.num = na.num LEFT JOIN agents a ON a.site = na.site AND a.agent = na.agent
           WHERE na.updated_at >= ? ${agent ? 'AND na.agent = ?' : ''} ORDER BY na.num LIMIT ? OFFSET ?`,
          )
          .all(...args, q.limit, q.offset) as {
          num: number;
          site: string;
          agent: string;
          hops_away: number | null;
          snr: number | null;
          rssi: number | null;
          last_heard: number | null;
          updated_at: number;
          short_name: string | null;
          long_name: string | null;
          hw_model: number | null;
          hw_model_name: string | null;
          location_name: string | null;
        }[];
        const byNode = new Map<number, Record<string, unknown> & { agents: Record<string, unknown> }>();
        for (const r of rows) {
          let e = byNode.get(r.num);
          if (!e) {
            e = {
              node_id: nodeIdFromNum(r.num),
              short_name: r.short_name,
              long_name: r.long_name,
              hw_model: hwModelName(r.hw_model, r.hw_model_name),
              agents: {},
            };
            byNode.set(r.num, e);
          }
          e.agents[r.agent] = {
            agent_id: r.agent,
            site: r.site,
            agent_location: r.location_name ?? r.agent,
            hops_away: r.hops_away,
            snr: r.snr,
            rssi: r.rssi,
            last_heard: iso(r.last_heard),
            timestamp: iso(r.updated_at),
          };
        }
        return { topology: [...byNode.values()] };
      },
    );

    app.get(
      '/api/topology/graph',
      {
        schema: {
          summary: 'The topology snapshot: nodes and directed links with SNR and quality (from route-analysis)',
          tags: ['topology'],
          querystring: Type.Object({ hours: hours(24 * 7), token }),
          response: { 200: Type.Object({ at: Type.String(), nodes: Type.Array(Loose), links: Type.Array(Loose) }) },
        },
      },
      async (req) => {
        const links = db
          .prepare('SELECT * FROM links WHERE last_seen >= ? ORDER BY from_num, to_num')
          .all(Date.now() - req.query.hours * HOUR) as LinkDbRow[];
        const nums = new Set(links.flatMap((l) => [l.from_num, l.to_num]));
        const nodes = nums.size
          ? (db
              .prepare(
                'SELECT num, short_name, long_name, lat, lon FROM nodes WHERE num IN (SELECT value FROM json_each(?))',
              )
              .all(JSON.stringify([...nums])) as {
              num: number;
              short_name: string | null;
              long_name: string | null;
              lat: number | null;
              lon: number | null;
            }[])
          : [];
        return {
          at: new Date().toISOString(),
          nodes: nodes.map((n) => ({
            node_id: nodeIdFromNum(n.num),
            short_name: n.short_name,
            long_name: n.long_name,
            position: n.lat !== null && n.lon !== null ? [n.lat, n.lon] : null,
          })),
          links: links.map(linkRow),
        };
      },
    );

    app.get(
      '/api/connections',
      {
        schema: {
          summary: 'Radio links (one row per direction) from traceroutes, neighbour info and zero-hop receptions',
          tags: ['topology'],
          querystring: Type.Object({
            agent_id: Type.Optional(Type.String({ maxLength: 64 })),
            hours: hours(24),
            min_quality: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
            limit: limit(1000, 10000),
            offset,
            token,
          }),
          response: { 200: Type.Object({ connections: Type.Array(Loose) }) },
        },
      },
      async (req) => {
        const q = req.query;
        const links = db
          .prepare(
            'SELECT * FROM links WHERE last_seen >= ? AND quality >= ? ORDER BY quality DESC, last_seen DESC LIMIT ? OFFSET ?',
          )
          .all(Date.now() - q.hours * HOUR, q.min_quality, q.limit, q.offset) as LinkDbRow[];
        const names = namesOf(
          db,
          links.flatMap((l) => [l.from_num, l.to_num]),
        );
        return {
          connections: links.map((l) => ({
            from_node_id: nodeIdFromNum(l.from_num),
            to_node_id: nodeIdFromNum(l.to_num),
            agent_id: null,
            snr: l.snr_latest,
            snr_median: l.snr_median,
            rssi: null,
            link_quality: l.quality,
            first_seen: iso(l.first_seen),
            last_seen: iso(l.last_seen),
            packet_count: l.samples,
            from_name: names.get(l.from_num)?.short_name ?? null,
            from_long_name: names.get(l.from_num)?.long_name ?? null,
            to_name: names.get(l.to_num)?.short_name ?? null,
            to_long_name: names.get(l.to_num)?.long_name ?? null,
            agent_location: null,
            evidence: JSON.parse(l.evidence) as string[],
          })),
        };
      },
    );

    const routesHandler = (successDefault: boolean) =>
      ({
        schema: {
          summary: successDefault
            ? 'Traceroute results (successful only by default)'
            : 'Traceroute outcomes, timeouts included',
          tags: ['topology'],
          querystring: Type.Object({
            agent_id: Type.Optional(Type.String({ maxLength: 64 })),
            source_node: Type.Optional(NodeIdParam),
            target_node: Type.Optional(NodeIdParam),
            hours: hours(24),
            successful_only: Type.Boolean({ default: successDefault }),
            limit: limit(500, 5000),
            offset,
            token,
          }),
          response: { 200: Type.Object({ routes: Type.Array(Loose) }) },
        },
      }) as const;

    const listRoutes = (q: {
      agent_id?: string;
      source_node?: string;
      target_node?: string;
      hours: number;
      successful_only: boolean;
      limit: number;
      offset: number;
    }) => {
      const where = ['t.finished_at >= ?'];
      const args: unknown[] = [Date.now() - q.hours * HOUR];
      const agent = agentFilter(q.agent_id);
      if (agent) {
        where.push('t.agent = ?');
        args.push(agent);
      }
      if (q.source_node) {
        where.push('t.from_num = ?');
        args.push(parseNode(q.source_node, 'source_node'));
      }
      if (q.target_node) {
        where.push('t.to_num = ?');
        args.push(parseNode(q.target_node, 'target_node'));
      }
      if (q.successful_only) where.push("t.outcome = 'success'");
      const rows = db
        .prepare(
          `SELECT t.*, a.location_name FROM traces t LEFT JOIN agents a ON a.site = t.site AND a.agent = t.agent
         WHERE ${where.join(' AND ')} ORDER BY t.finished_at DESC LIMIT ? OFFSET ?`,
        )
        .all(...args, q.limit, q.offset) as TraceRow[];
      return { routes: routeRows(db, rows) };
    };
    app.get('/api/routes', routesHandler(true), async (req) => listRoutes(req.query));
    app.get('/api/traceroutes', routesHandler(false), async (req) => listRoutes(req.query));
  };
