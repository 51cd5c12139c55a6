import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { nodeIdFromNum } from '@mmm/schemas';
import { Type } from '@sinclair/typebox';
import type { RestContext } from './context.js';
import { iso } from './format.js';
import { AgentIdParam, HttpError, Nullable, token } from './params.js';
import { ACTIVE_MS, type AgentDbRow, agentRow } from './rows.js';

export const AgentItem = Type.Object(
  {
    agent_id: Type.String(),
    site: Type.String(),
    location_name: Type.String(),
    coordinates: Nullable(Type.Array(Type.Number())),
    last_seen: Nullable(Type.String()),
    packet_count: Type.Integer(),
    status: Type.String(),
    radio_state: Nullable(Type.String()),
    version: Nullable(Type.String()),
    source: Nullable(
      Type.Union([Type.Literal('radio'), Type.Literal('mqtt'), Type.Literal('legacy-http'), Type.Literal('replay')], {
        description:
          "radio: an agent beside a radio; mqtt: a gateway heard through mmm mqtt; legacy-http: one of the original's agents; replay: a replayed capture; null: not known yet",
      }),
    ),
  },
  { additionalProperties: true },
);

export const agentRoutes =
  (ctx: RestContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { db } = ctx;
    app.get(
      '/api/agents',
      {
        schema: {
          summary: 'All agents, most recently seen first',
          tags: ['agents'],
          querystring: Type.Object({ site: Type.Optional(Type.String({ maxLength: 64 })), token }),
          response: { 200: Type.Object({ agents: Type.Array(AgentItem) }) },
        },
      },
      async (req) => {
        const rows = (
          req.query.site
            ? db.prepare('SELECT * FROM agents WHERE site = ? ORDER BY last_seen DESC').all(req.query.site)
            : db.prepare('SELECT * FROM agents ORDER BY last_seen DESC').all()
        ) as AgentDbRow[];
        const now = Date.now();
        return { agents: rows.map((a) => agentRow(a, now)) };
      },
    );

    app.get(
      '/api/agents/:agent_id/status',
      {
        schema: {
          summary: 'One agent: row, nodes it heard in the last hour, recent heartbeats and health (radio link, buffer)',
          tags: ['agents'],
          params: Type.Object({ agent_id: AgentIdParam }),
          querystring: Type.Object({ site: Type.Optional(Type.String({ maxLength: 64 })), token }),
          response: { 200: Type.Object({ agent: AgentItem }, { additionalProperties: true }) },
        },
      },
      async (req) => {
        const { agent_id } = req.params;
        const a = (
          req.query.site
            ? db.prepare('SELECT * FROM agents WHERE agent = ? AND site = ?').get(agent_id, req.query.site)
            : db.prepare('SELECT * FROM agents WHERE agent = ? ORDER BY last_seen DESC LIMIT 1').get(agent_id)
        ) as AgentDbRow | undefined;
        if (!a) throw new HttpError(404, `agent ${agent_id} not found`);
        const now = Date.now();
        const active = db
          .prepare(
            'SELECT num, last_heard, hops_away, snr, rssi FROM node_agents WHERE site = ? AND agent = ? AND last_heard >= ? ORDER BY last_heard DESC',
          )
          .all(a.site, a.agent, now - ACTIVE_MS) as {
          num: number;
          last_heard: number;
          hops_away: number | null;
          snr: number | null;
          rssi: number | null;
        }[];
        const statuses = db
          .prepare('SELECT at, json FROM agent_status WHERE site = ? AND agent = ? ORDER BY at DESC LIMIT 10')
          .all(a.site, a.agent) as { at: number; json: string }[];
        const parsed = statuses.map((s) => JSON.parse(s.json) as StatusJson);
        const latest = a.status_json ? (JSON.parse(a.status_json) as StatusJson) : undefined;
        const row = agentRow(a, now);
        return {
          ...row,
          agent: row,
          active_nodes: active.map((n) => ({
            node_id: nodeIdFromNum(n.num),
            last_heard: iso(n.last_heard),
            hops_away: n.hops_away,
            snr: n.snr,
            rssi: n.rssi,
          })),
          recent_health: parsed.map((s) => ({
            timestamp: iso(s.at),
            packets_received: s.counters?.receptions ?? null,
            nodes_active: null,
            connection_status: s.radio?.state ?? null,
          })),
          health: latest ? healthOf(latest) : null,
        };
      },
    );

    app.get(
      '/api/sites',
      {
        schema: {
          summary: 'Sites with their agent counts',
          tags: ['agents'],
          querystring: Type.Object({ token }),
          response: {
            200: Type.Object({
              sites: Type.Array(
                Type.Object({
                  site: Type.String(),
                  agents: Type.Integer(),
                  active_agents: Type.Integer(),
                  last_seen: Nullable(Type.String()),
                }),
              ),
            }),
          },
        },
      },
      async () => {
        const cutoff = Date.now() - ACTIVE_MS;
        const rows = db
          .prepare(
            'SELECT site, count(*) AS agents, sum(CASE WHEN last_seen >= ? THEN 1 ELSE 0 END) AS active_agents, max(last_seen) AS last_seen FROM agents GROUP BY site ORDER BY site',
          )
          .all(cutoff) as { site: string; agents: number; active_agents: number; last_seen: number }[];
        return { sites: rows.map((r) => ({ ...r, last_seen: iso(r.last_seen) })) };
      },
    );
  };

interface StatusJson {
  at: number;
  startedAt: number;
  radio?: {
    state: string;
    transport: string;
    address: string;
    since: number;
    lastFrameAt: number | null;
    reconnects: number;
    myNodeNum?: number;
    firmwareVersion?: string;
  };
  buffer?: {
    inFlight: number;
    streamMessages: number;
    streamBytes: number;
    hubConnected?: boolean;
    hubBacklog?: number;
  };
  counters?: Record<string, number>;
}

function healthOf(s: StatusJson) {
  return {
    at: iso(s.at),
    started_at: iso(s.startedAt),
    radio: s.radio
      ? {
          state: s.radio.state,
          transport: s.radio.transport,
          address: s.radio.address,
          since: iso(s.radio.since),
          last_frame_at: iso(s.radio.lastFrameAt),
          reconnects: s.radio.reconnects,
          my_node_id: s.radio.myNodeNum === undefined ? null : nodeIdFromNum(s.radio.myNodeNum),
          firmware_version: s.radio.firmwareVersion ?? null,
        }
      : null,
    buffer: s.buffer
      ? {
          in_flight: s.buffer.inFlight,
          stream_messages: s.buffer.streamMessages,
          stream_bytes: s.buffer.streamBytes,
          hub_connected: s.buffer.hubConnected ?? null,
          hub_backlog: s.buffer.hubBacklog ?? null,
        }
      : null,
    last_sync: iso(s.at),
    counters: s.counters ?? {},
  };
}
