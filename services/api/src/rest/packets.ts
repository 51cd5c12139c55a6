import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isPort, nodeIdFromNum, PORTS, type Port } from '@mmm/schemas';
import { Type } from '@sinclair/typebox';
import type { RestContext } from './context.js';
import { iso, PORT_BY_TYPE } from './format.js';
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
import { packetRows, type ReceptionDbRow } from './rows.js';

const TYPES = [...new Set([...Object.keys(PORT_BY_TYPE), ...PORTS, 'position', 'telemetry'])];

export function portsOfType(type: string | undefined): Port[] | undefined {
  if (!type || type === 'all') return undefined;
  const p = PORT_BY_TYPE[type] ?? type;
  return isPort(p) ? [p] : [];
}

export const PacketItem = Type.Object(
  {
    id: Type.String(),
    agent_id: Type.String(),
    site: Type.String(),
    agent_location: Type.String(),
    timestamp: Nullable(Type.String()),
    from_node: Type.String(),
    from_node_display: Type.String(),
    to_node: Type.String(),
    to_node_display: Type.String(),
    type: Type.String(),
    port: Type.String(),
    packet_id: Type.Integer(),
    payload: Type.Unknown(),
    rssi: Nullable(Type.Number()),
    snr: Nullable(Type.Number()),
  },
  { additionalProperties: true },
);

export const packetRoutes =
  (ctx: RestContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { db } = ctx;
    app.get(
      '/api/packets',
      {
        schema: {
          summary: 'Receptions, newest first, with sender/recipient names',
          tags: ['packets'],
          querystring: Type.Object({
            hours: hours(72),
            limit: limit(100, 5000),
            offset,
            type: Type.Optional(
              Type.Union([Type.Literal('all'), ...TYPES.map((t) => Type.Literal(t))], {
                description: 'Original type name or port name',
              }),
            ),
            agent_id: Type.Optional(Type.String({ maxLength: 64 })),
            site: Type.Optional(Type.String({ maxLength: 64 })),
            from_node: Type.Optional(NodeIdParam),
            to_node: Type.Optional(NodeIdParam),
            channel: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
            token,
          }),
          response: {
            200: Type.Object({ packets: Type.Array(PacketItem), limit: Type.Integer(), offset: Type.Integer() }),
          },
        },
      },
      async (req) => {
        const q = req.query;
        const where = ['r.received_at >= ?'];
        const args: unknown[] = [Date.now() - q.hours * HOUR];
        const ports = portsOfType(q.type);
        if (ports) {
          where.push(`r.port IN (${ports.map(() => '?').join(',') || "''"})`);
          args.push(...ports);
        }
        const agent = agentFilter(q.agent_id);
        if (agent) {
          where.push('r.agent = ?');
          args.push(agent);
        }
        if (q.site) {
          where.push('r.site = ?');
          args.push(q.site);
        }
        if (q.from_node) {
          where.push('r.from_num = ?');
          args.push(parseNode(q.from_node, 'from_node'));
        }
        if (q.to_node) {
          where.push('r.to_num = ?');
          args.push(parseNode(q.to_node, 'to_node'));
        }
        if (q.channel !== undefined) {
          where.push('r.channel = ?');
          args.push(q.channel);
        }
        const rows = db
          .prepare(
            `SELECT r.*, a.location_name FROM receptions r LEFT JOIN agents a ON a.site = r.site AND a.agent = r.agent
           WHERE ${where.join(' AND ')} ORDER BY r.received_at DESC LIMIT ? OFFSET ?`,
          )
          .all(...args, q.limit, q.offset) as ReceptionDbRow[];
        return { packets: packetRows(db, rows), limit: q.limit, offset: q.offset };
      },
    );

    app.get(
      '/api/packets/:from/:id/receptions',
      {
        schema: {
          summary:
            'Every reception of one packet (from, id): who heard it, how well, over how many hops, via which relay',
          tags: ['packets'],
          params: Type.Object({ from: NodeIdParam, id: Type.Integer({ minimum: 0, maximum: 0xffffffff }) }),
          querystring: Type.Object({ token }),
          response: {
            200: Type.Object({
              from_node: Type.String(),
              packet_id: Type.Integer(),
              port: Nullable(Type.String()),
              receptions: Type.Array(
                Type.Object({ agent_id: Type.String(), site: Type.String() }, { additionalProperties: true }),
              ),
            }),
          },
        },
      },
      async (req) => {
        const from = parseNode(req.params.from, 'from');
        const rows = db
          .prepare(
            `SELECT r.*, a.location_name FROM receptions r LEFT JOIN agents a ON a.site = r.site AND a.agent = r.agent
           WHERE r.from_num = ? AND r.packet_id = ? ORDER BY r.received_at ASC`,
          )
          .all(from, req.params.id) as ReceptionDbRow[];
        if (!rows.length) throw new HttpError(404, `packet ${nodeIdFromNum(from)}/${req.params.id} not found`);
        return {
          from_node: nodeIdFromNum(from),
          packet_id: req.params.id,
          port: rows[0]?.port ?? null,
          receptions: rows.map((r) => ({
            agent_id: r.agent,
            site: r.site,
            agent_location: r.location_name ?? r.agent,
            timestamp: iso(r.received_at),
            rx_time: iso(r.rx_time),
            snr: r.snr,
            rssi: r.rssi,
            hop_start: r.hop_start,
            hop_limit: r.hop_limit,
            hops: r.hop_start && r.hop_limit !== null && r.hop_start >= r.hop_limit ? r.hop_start - r.hop_limit : null,
            relay_node: r.relay_node,
            via_mqtt: r.via_mqtt === 1,
            source: r.source,
          })),
        };
      },
    );
  };
