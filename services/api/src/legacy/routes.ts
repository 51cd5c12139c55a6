import type { JetStreamPublisher } from '@mmm/common';
import { type MeshEvent, msgIds, subjects, tokenProblem } from '@mmm/schemas';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiMetrics } from '../metrics.js';
import {
  digest,
  LegacyBodyError,
  parseTime,
  receptionFromLegacy,
  snapshotFromNodeDb,
  snapshotFromNodeStatus,
  statusFromRegister,
  traceFromLegacy,
} from './convert.js';

/** How long a legacy POST waits for JetStream before answering 503 (the agent retries; Msg-Ids dedupe the retry). */
const PUBLISH_TIMEOUT_MS = 10_000;

export interface LegacyOptions {
  site: string;
  publisher: JetStreamPublisher;
  metrics: ApiMetrics;
}

interface Out {
  subject: string;
  msgId: string;
  ev: MeshEvent;
}

class PublishTimeout extends Error {
  override readonly name = 'PublishTimeout';
}

type Obj = Record<string, unknown>;

/** One encoder for every packet of every POST (stateless), not one per packet. */
const utf8 = new TextEncoder();

export const legacyRoutes =
  (o: LegacyOptions): FastifyPluginAsync =>
  async (app) => {
    const publishAll = async (out: Out[]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new PublishTimeout('JetStream did not acknowledge in time')), PUBLISH_TIMEOUT_MS);
      });
      try {
        await Promise.race([
          Promise.all(out.map((x) => o.publisher.publish(x.subject, utf8.encode(JSON.stringify(x.ev)), x.msgId))),
          timeout,
        ]);
      } finally {
        clearTimeout(timer);
      }
      for (const x of out) o.metrics.legacyPublished.inc({ kind: x.ev.kind });
    };

    /**
     * The key itself was checked before the body was read (http/auth/access.ts, scope legacy-write); this checks
     * its binding to the body's agent_id and the body's shape, and answers the error itself.
     */
    const authorize = (req: FastifyRequest, reply: FastifyReply): { body: Obj; agent: string } | undefined => {
      const bound = req.grant?.writeAs;
      if (!bound) {
        void reply.code(401).send({ error: 'Invalid API key' });
        return undefined;
      }
      const body = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        void reply.code(400).send({ error: 'body: expected a JSON object' });
        return undefined;
      }
      const agent = (body as Obj).agent_id;
      const problem = tokenProblem(agent);
      if (problem) {
        void reply.code(400).send({ error: `agent_id ${problem}` });
        return undefined;
      }
      if (agent !== bound) {
        void reply.code(403).send({ error: `API key is not valid for agent ${agent as string}` });
        return undefined;
      }
      return { body: body as Obj, agent: agent as string };
    };

    const handle =
      (build: (body: Obj, agent: string) => { out: Out[]; response: Obj }) =>
      async (req: FastifyRequest, reply: FastifyReply) => {
        const auth = authorize(req, reply);
        if (!auth) return reply;
        let built: { out: Out[]; response: Obj };
        try {
          built = build(auth.body, auth.agent);
        } catch (err) {
          if (err instanceof LegacyBodyError) return reply.code(400).send({ error: err.message });
          throw err;
        }
        try {
          await publishAll(built.out);
        } catch (err) {
          if (err instanceof PublishTimeout)
            return reply.code(503).send({ error: 'the event stream is unavailable; retry later' });
          throw err;
        }
        return reply.code(200).send(built.response);
      };

    const { site } = o;
    const opts = { schema: { hide: false, tags: ['legacy agent API'], security: [{ agentKey: [] }] } };

    app.post(
      '/api/agent/register',
      { ...opts, schema: { ...opts.schema, summary: 'Original agent: register' } },
      handle((body, agent) => {
        const ev = statusFromRegister(site, agent, body, Date.now());
        return {
          out: [
            { subject: subjects.status(site, agent), msgId: `${msgIds.status(site, agent, 0)}:${digest(body)}`, ev },
          ],
          response: { status: 'success', agent_id: agent },
        };
      }),
    );

    app.post(
      '/api/agent/data',
      { ...opts, schema: { ...opts.schema, summary: 'Original agent: packets and node status' } },
      handle((body, agent) => {
        const ts = parseTime(body.timestamp, 'timestamp');
        if (body.packets !== undefined && !Array.isArray(body.packets))
          throw new LegacyBodyError('packets: expected an array');
        if (body.node_status !== undefined && !Array.isArray(body.node_status))
          throw new LegacyBodyError('node_status: expected an array');
        const out: Out[] = [];
        const rejected: { index: number; error: string }[] = [];
        ((body.packets as unknown[]) ?? []).forEach((p, i) => {
          try {
            const ev = receptionFromLegacy(site, agent, p, i);
            const pk = ev.packet;
            out.push({
              subject: subjects.rx(site, agent, ev.port),
              msgId: msgIds.reception(site, agent, pk.from, pk.id, pk.rxTime, ev.receivedAt),
              ev,
            });
          } catch (err) {
            if (!(err instanceof LegacyBodyError)) throw err;
            rejected.push({ index: i, error: err.message });
          }
        });
        const received = out.length;
        const snap = snapshotFromNodeStatus(site, agent, ts, (body.node_status as unknown[]) ?? []);
        if (snap)
          out.push({
            subject: subjects.nodedb(site, agent),
            msgId: `${msgIds.nodedb(site, agent, ts)}:status`,
            ev: snap,
          });
        return { out, response: { status: 'success', received, ...(rejected.length ? { rejected } : {}) } };
      }),
    );

    app.post(
      '/api/agent/nodedb',
      { ...opts, schema: { ...opts.schema, summary: "Original agent: the radio's node DB" } },
      handle((body, agent) => {
        const ts = parseTime(body.timestamp, 'timestamp');
        const nodes = body.nodes;
        if (typeof nodes !== 'object' || nodes === null || Array.isArray(nodes))
          throw new LegacyBodyError('nodes: expected an object keyed by node id');
        const ev = snapshotFromNodeDb(site, agent, ts, nodes as Obj);
        return {
          out: [{ subject: subjects.nodedb(site, agent), msgId: msgIds.nodedb(site, agent, ts), ev }],
          response: { status: 'success', updated: ev.nodes.length },
        };
      }),
    );

    app.post(
      '/api/agent/routes',
      { ...opts, schema: { ...opts.schema, summary: 'Original agent: traceroute results' } },
      handle((body, agent) => {
        const ts = parseTime(body.timestamp, 'timestamp');
        if (!Array.isArray(body.routes)) throw new LegacyBodyError('routes: expected an array');
        const out: Out[] = body.routes.map((r, i) => {
          const ev = traceFromLegacy(site, agent, ts, r, i);
          return { subject: subjects.trace(site, agent), msgId: msgIds.trace(site, agent, ev.requestId), ev };
        });
        return { out, response: { status: 'success', routes_stored: out.length } };
      }),
    );
  };
