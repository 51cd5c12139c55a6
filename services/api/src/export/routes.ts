import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { nodeIdFromNum } from '@mmm/schemas';
import { Type } from '@sinclair/typebox';
import type { RestContext } from '../rest/context.js';
import { iso } from '../rest/format.js';
import { nodeWhere } from '../rest/nodes.js';
import { PACKET_FILTER_FIELDS, portsOfType } from '../rest/packets.js';
import { agentFilter, HOUR, HttpError, hours, NodeIdParam, parseNode, token } from '../rest/params.js';
import {
  type Json,
  type LinkDbRow,
  linkRow,
  type NodeDbRow,
  namesOf,
  nodeRows,
  packetRows,
  withLocations,
} from '../rest/rows.js';
import { flatNode, flatPacket, NODE_COLUMNS, PACKET_COLUMNS } from './columns.js';
import { fileName, primed, sendCsv, sendFeatures, sendNdjson } from './stream.js';

const NODE_PAGE = 1000;

async function* mapBatches<A, B>(src: AsyncIterable<A[]>, f: (a: A) => B): AsyncGenerator<B[]> {
  for await (const batch of src) yield batch.map(f);
}

const Time = Type.String({
  format: 'date-time',
  description: 'ISO 8601 time (e.g. 2026-12-07T16:00:00Z); overrides `hours` for that end of the range',
});

const PacketFilter = Type.Object({
  hours: hours(72),
  since: Type.Optional(Time),
  until: Type.Optional(Time),
  ...PACKET_FILTER_FIELDS,
});

const NodeFilter = Type.Object({
  hours: hours(72),
  agent_id: Type.Optional(Type.String({ maxLength: 64 })),
  site: Type.Optional(Type.String({ maxLength: 64 })),
  active_only: Type.Boolean({ default: false }),
  token,
});

type Point = [number, number] | [number, number, number];

/** RFC 7946 positions are [longitude, latitude(, altitude)]: the reverse of the API's `position` pairs. */
function point(lat: number, lon: number, alt?: number | null): Point {
  return alt === null || alt === undefined ? [lon, lat] : [lon, lat, alt];
}

/**
 * Downloads: the same filters as the list routes, streamed in batches (never the whole result in memory), with a
 * Content-Disposition file name. Each row is the list route's row, so an export equals what the pages show.
 */
export const exportRoutes =
  (ctx: RestContext): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { db } = ctx;

    const packetBatches = (q: typeof PacketFilter.static) => {
      const now = Date.now();
      const since = q.since ? Date.parse(q.since) : now - q.hours * HOUR;
      const until = q.until ? Date.parse(q.until) : undefined;
      if (until !== undefined && until <= since) throw new HttpError(400, 'until must be after since');
      const scan = ctx.history.scanReceptions({
        since,
        until,
        ports: portsOfType(q.type),
        agent: agentFilter(q.agent_id),
        site: q.site,
        from: q.from_node ? parseNode(q.from_node, 'from_node') : undefined,
        to: q.to_node ? parseNode(q.to_node, 'to_node') : undefined,
        channel: q.channel,
      });
      return (async function* () {
        for await (const rows of scan) yield packetRows(db, withLocations(db, rows)) as Json[];
      })();
    };

    const packetSchema = (format: string) => ({
      schema: {
        summary: `Receptions as ${format}, newest first: the /api/packets rows of the whole range (no paging)`,
        tags: ['export'],
        querystring: PacketFilter,
      },
    });

    app.get('/api/export/packets.csv', packetSchema('CSV'), async (req, reply) =>
      sendCsv(
        reply,
        fileName('packets', 'csv'),
        PACKET_COLUMNS,
        await primed(mapBatches(packetBatches(req.query), flatPacket), reply),
      ),
    );

    app.get('/api/export/packets.ndjson', packetSchema('NDJSON'), async (req, reply) =>
      sendNdjson(reply, fileName('packets', 'ndjson'), await primed(packetBatches(req.query), reply)),
    );

    /** The /api/nodes/detailed rows in its order, a page at a time (the statement never stays open between pages). */
    async function* nodeBatches(q: typeof NodeFilter.static): AsyncGenerator<Json[]> {
      const now = Date.now();
      const w = nodeWhere(q, now);
      const stmt = db.prepare(`SELECT n.* FROM nodes n WHERE ${w.sql} ORDER BY n.updated_at DESC LIMIT ? OFFSET ?`);
      for (let offset = 0; ; offset += NODE_PAGE) {
        const rows = stmt.all(...w.args, NODE_PAGE, offset) as NodeDbRow[];
        if (rows.length) yield nodeRows(db, rows, now);
        if (rows.length < NODE_PAGE) return;
      }
    }

    const nodeSchema = (what: string) => ({
      schema: {
        summary: `Nodes as ${what}: the /api/nodes/detailed rows, flattened`,
        tags: ['export'],
        querystring: NodeFilter,
      },
    });

    app.get('/api/export/nodes.csv', nodeSchema('CSV'), async (req, reply) => {
      const flat = mapBatches(nodeBatches(req.query), flatNode);
      return sendCsv(reply, fileName('nodes', 'csv'), NODE_COLUMNS, await primed(flat, reply));
    });

    app.get(
      '/api/export/nodes.geojson',
      nodeSchema('a GeoJSON FeatureCollection of points (nodes with a position)'),
      async (req, reply) => {
        const features = (async function* () {
          for await (const rows of nodeBatches(req.query))
            yield rows
              .filter((n) => n.position)
              .map((n) => ({
                type: 'Feature',
                id: n.node_id,
                geometry: { type: 'Point', coordinates: point(n.position[0], n.position[1], n.altitude) },
                properties: flatNode(n),
              }));
        })();
        return sendFeatures(reply, fileName('nodes', 'geojson'), await primed(features, reply));
      },
    );

    app.get(
      '/api/export/links.geojson',
      {
        schema: {
          summary:
            'Radio links (one per direction) as GeoJSON LineStrings from sender to receiver, with SNR and quality; links with an end of unknown position are left out',
          tags: ['export'],
          querystring: Type.Object({ hours: hours(24 * 7), token }),
        },
      },
      async (req, reply) => {
        const links = db
          .prepare('SELECT * FROM links WHERE last_seen >= ? ORDER BY from_num, to_num')
          .all(Date.now() - req.query.hours * HOUR) as LinkDbRow[];
        const at = new Map(
          (
            db.prepare('SELECT num, lat, lon FROM nodes WHERE lat IS NOT NULL AND lon IS NOT NULL').all() as {
              num: number;
              lat: number;
              lon: number;
            }[]
          ).map((n) => [n.num, n]),
        );
        const names = namesOf(
          db,
          links.flatMap((l) => [l.from_num, l.to_num]),
        );
        const features = links.flatMap((l) => {
          const a = at.get(l.from_num);
          const b = at.get(l.to_num);
          if (!a || !b) return [];
          return [
            {
              type: 'Feature',
              id: `${nodeIdFromNum(l.from_num)}>${nodeIdFromNum(l.to_num)}`,
              geometry: { type: 'LineString', coordinates: [point(a.lat, a.lon), point(b.lat, b.lon)] },
              properties: {
                ...linkRow(l),
                from_name: names.get(l.from_num)?.short_name ?? null,
                to_name: names.get(l.to_num)?.short_name ?? null,
              },
            },
          ];
        });
        return sendFeatures(
          reply,
          fileName('links', 'geojson'),
          (async function* () {
            yield features;
          })(),
        );
      },
    );

    app.get(
      '/api/export/nodes/:node_id/track.geojson',
      {
        schema: {
          summary:
            "One node's positions as a GeoJSON LineString (oldest first, times in properties.times) plus one Point per fix",
          tags: ['export'],
          params: Type.Object({ node_id: NodeIdParam }),
          querystring: Type.Object({
            hours: hours(72),
            limit: Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000, description: 'Newest fixes kept' }),
            token,
          }),
        },
      },
      async (req, reply) => {
        const num = parseNode(req.params.node_id, 'node_id');
        const id = nodeIdFromNum(num);
        const fixes = (
          await ctx.history.positions(num, Date.now() - req.query.hours * HOUR, req.query.limit)
        ).reverse();
        const name = namesOf(db, [num]).get(num);
        const base = { node_id: id, short_name: name?.short_name ?? null, long_name: name?.long_name ?? null };
        const points = fixes.map((f) => ({
          type: 'Feature',
          geometry: { type: 'Point', coordinates: point(f.latitude, f.longitude, f.altitude) },
          properties: { ...base, timestamp: iso(f.received_at), agent_id: f.agent },
        }));
        // A LineString needs two positions (RFC 7946 §3.1.4): a single fix is only its Point.
        const line =
          fixes.length >= 2
            ? [
                {
                  type: 'Feature',
                  id,
                  geometry: {
                    type: 'LineString',
                    coordinates: fixes.map((f) => point(f.latitude, f.longitude, f.altitude)),
                  },
                  properties: { ...base, times: fixes.map((f) => iso(f.received_at)) },
                },
              ]
            : [];
        return sendFeatures(
          reply,
          fileName(`track-${id.slice(1)}`, 'geojson'),
          (async function* () {
            yield [...line, ...points];
          })(),
        );
      },
    );
  };
