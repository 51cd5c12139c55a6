import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { nodeIdFromNum, type Port } from '@mmm/schemas';
import { portOfTypeName, TYPE_NAMES } from '@mmm/schemas/legacy';
import { Type } from '@sinclair/typebox';
import type { RestContext } from './context.js';
import { iso } from './format.js';
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
import { packetRows, withLocations } from './rows.js';

export const TYPES = TYPE_NAMES;

/** The filters of /api/packets, shared with its exports so both accept the same query. */
export const PACKET_FILTER_FIELDS = {
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
};

export function portsOfType(type: string | undefined): Port[] | undefined {
  if (!type || type === 'all') return undefined;
  const p = portOfTypeName(type);
  return p ? [p] : [];
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
            ...PACKET_FILTER_FIELDS,
          }),
          response: {
            200: Type.Object({ packets: Type.Array(PacketItem), limit: Type.Integer(), offset: Type.Integer() }),
          },
        },
      },
      async (req) => {
        const q = req.query;
        const rows = await ctx.history.receptions({
          since: Date.now() - q.hours * HOUR,
          ports: portsOfType(q.type),
          agent: agentFilter(q.agent_id),
          site: q.site,
          from: q.from_node ? parseNode(q.from_node, 'from_node') : undefined,
          to: q.to_node ? parseNode(q.to_node, 'to_node') : undefined,
          channel: q.channel,
          limit: q.limit,
          offset: q.offset,
        });
        return { packets: packetRows(db, withLocations(db, rows)), limit: q.limit, offset: q.offset };
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
        const rows = withLocations(db, await ctx.history.receptionsOf(from, req.params.id));
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
