import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { VERSION } from '@mmm/common';
import { typeNameOfPort } from '@mmm/schemas/legacy';
import { Type } from '@sinclair/typebox';
import type { RestContext } from './context.js';
import { token } from './params.js';
import { ACTIVE_MS, HOUR_MS } from './rows.js';

export const miscRoutes =
  (ctx: RestContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { db, cfg } = ctx;

    app.get(
      '/api/stats',
      {
        schema: {
          summary: 'Totals and last-hour activity; packet types over 24 h (incremental counters, no table scans)',
          tags: ['stats'],
          querystring: Type.Object({ token }),
          response: {
            200: Type.Object({
              agents: Type.Object({ total: Type.Integer(), active: Type.Integer() }),
              packets: Type.Object({ total: Type.Integer(), recent_hour: Type.Integer() }),
              nodes: Type.Object({ total: Type.Integer(), active: Type.Integer() }),
              packet_types: Type.Array(Type.Object({ type: Type.String(), count: Type.Integer() })),
            }),
          },
        },
      },
      async () => {
        const now = Date.now();
        const hour = Math.floor(now / HOUR_MS);
        const c = (sql: string, ...a: unknown[]) => (db.prepare(sql).get(...a) as { c: number | null }).c ?? 0;
        const types = db
          .prepare('SELECT port, sum(n) AS count FROM port_counts WHERE hour >= ? GROUP BY port ORDER BY count DESC')
          .all(hour - 23) as { port: string; count: number }[];
        return {
          agents: {
            total: c('SELECT count(*) AS c FROM agents'),
            active: c('SELECT count(*) AS c FROM agents WHERE last_seen >= ?', now - ACTIVE_MS),
          },
          packets: {
            total: c('SELECT sum(n) AS c FROM port_counts'),
            // The current and the previous hour bucket: "the last hour" to within the bucket size.
            recent_hour: c('SELECT sum(n) AS c FROM port_counts WHERE hour >= ?', hour - 1),
          },
          nodes: {
            total: c('SELECT count(*) AS c FROM nodes'),
            active: c('SELECT count(*) AS c FROM nodes WHERE last_heard >= ?', now - ACTIVE_MS),
          },
          packet_types: types.map((t) => ({ type: typeNameOfPort(t.port), count: t.count })),
        };
      },
    );

    app.get(
      '/api/map/config',
      {
        schema: {
          summary: 'Initial map view, basemap and site name',
          tags: ['stats'],
          querystring: Type.Object({ token }),
          response: {
            200: Type.Object({
              center_lat: Type.Number(),
              center_lon: Type.Number(),
              zoom_level: Type.Integer(),
              force_center: Type.Boolean(),
              tile_url: Type.String(),
              tile_attribution: Type.String(),
              site_name: Type.String(),
            }),
          },
        },
      },
      async () => ({
        center_lat: cfg.map.center_lat,
        center_lon: cfg.map.center_lon,
        zoom_level: cfg.map.zoom_level,
        force_center: cfg.map.force_center,
        tile_url: cfg.map.tile_url,
        tile_attribution: cfg.map.tile_attribution,
        site_name: cfg.server.site_name,
      }),
    );

    app.get(
      '/api/health',
      {
        schema: {
          summary: 'Service health (the endpoint the original agent probes)',
          tags: ['stats'],
          response: {
            200: Type.Object({
              status: Type.String(),
              nats: Type.Boolean(),
              store: Type.Boolean(),
              consumer_lag: Type.Integer(),
              version: Type.String(),
            }),
            503: Type.Object({
              status: Type.String(),
              nats: Type.Boolean(),
              store: Type.Boolean(),
              consumer_lag: Type.Integer(),
              version: Type.String(),
            }),
          },
        },
      },
      async (_req, reply) => {
        const h = ctx.health();
        const ok = h.nats && h.store;
        reply.code(ok ? 200 : 503);
        return {
          status: ok ? 'ok' : 'degraded',
          nats: h.nats,
          store: h.store,
          consumer_lag: h.consumerLag,
          version: VERSION,
        };
      },
    );
  };
