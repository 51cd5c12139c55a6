import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fastifyWebsocket from '@fastify/websocket';
import { VERSION } from '@mmm/common';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AlertsAccess } from '../alerts/access.js';
import type { ApiConfig } from '../config.js';
import { exportRoutes } from '../export/routes.js';
import { HistoryUnavailableError } from '../history/types.js';
import { type LegacyOptions, legacyRoutes } from '../legacy/routes.js';
import type { LiveHub } from '../live/hub.js';
import type { ApiMetrics } from '../metrics.js';
import { agentRoutes } from '../rest/agents.js';
import { alertRoutes } from '../rest/alerts.js';
import type { RestContext } from '../rest/context.js';
import { miscRoutes } from '../rest/misc.js';
import { nodeRoutes } from '../rest/nodes.js';
import { packetRoutes } from '../rest/packets.js';
import { HttpError } from '../rest/params.js';
import { topologyRoutes } from '../rest/topology.js';
import { accessHook, type Limiter, WS_PROTOCOL } from './auth/access.js';
import { applyPolicy } from './auth/policy.js';
import type { AuthTokens } from './auth/sources.js';
import { documentErrors } from './error-schemas.js';
import { defaultWebDir, registerWeb, WEB_ROUTES } from './web.js';

export interface AppDeps {
  cfg: ApiConfig;
  rest: RestContext;
  metrics: ApiMetrics;
  live: LiveHub;
  legacy: Omit<LegacyOptions, 'metrics'>;
  log: Logger;
  ready: () => boolean;
  auth: AuthTokens;
  alerts: AlertsAccess;
}

/** The live feed's subprotocol; a token offered as one is never echoed back. */
function pickProtocol(offered: Set<string>): string | false {
  return offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false;
}

export async function buildApp(d: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Per-request lines at info would drown the log; errors are logged by the error handler.
    loggerInstance: d.log.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: d.cfg.server.body_limit,
    routerOptions: { maxParamLength: 200 },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: true, useDefaults: true, allErrors: false } },
    // X-Forwarded-For names the client only when it comes from a configured load balancer.
    trustProxy: d.cfg.auth.trust_proxy.length ? [...d.cfg.auth.trust_proxy] : false,
  }).withTypeProvider<TypeBoxTypeProvider>();
  applyPolicy(app as unknown as FastifyInstance, WEB_ROUTES);
  // After the policy's hook: the error answers a route documents depend on its access.
  documentErrors(app as unknown as FastifyInstance);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof HistoryUnavailableError) {
      d.metrics.storeErrors.inc({ op: 'history' });
      d.log.warn({ err: err.message }, 'history store unavailable');
      return reply.code(503).send({ error: 'Service Unavailable', message: err.message, statusCode: 503 });
    }
    if (err instanceof HttpError)
      return reply.code(err.statusCode).send({
        error: err.statusCode === 404 ? 'Not Found' : 'Bad Request',
        message: err.message,
        statusCode: err.statusCode,
      });
    const code = err.statusCode ?? 500;
    if (err.validation || (code >= 400 && code < 500)) {
      return reply
        .code(code >= 400 && code < 500 ? code : 400)
        .send({ error: code === 413 ? 'Payload Too Large' : 'Bad Request', message: err.message, statusCode: code });
    }
    d.log.error({ err, url: req.url }, 'request failed');
    d.metrics.storeErrors.inc({ op: 'http' });
    return reply
      .code(500)
      .send({ error: 'Internal Server Error', message: 'the server failed; see its log', statusCode: 500 });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}`, statusCode: 404 }),
  );

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    d.metrics.httpRequests.inc({ route, method: req.method, status: String(reply.statusCode) });
    d.metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
  });

  // Only the manual limiter is used: it counts wrong tokens per address (keyed by req.ip), not every request.
  await app.register(fastifyRateLimit, { global: false });
  const limiter = app.createRateLimit({
    max: d.cfg.auth.fail_limit,
    timeWindow: Math.round(d.cfg.auth.fail_window_s * 1000),
  }) as Limiter;
  await app.register(fastifySwagger, {
    // Shared schemas keep their $id as their name in components (ErrorBody, not def-0).
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'MeshyMcMapface API',
        version: VERSION,
        description: 'REST, legacy agent API and live feed; see docs/api.md',
      },
      components: {
        securitySchemes: {
          read: { type: 'http', scheme: 'bearer', description: 'A read token, when the server has any' },
          alertsWrite: { type: 'http', scheme: 'bearer', description: 'A token with scope alerts-write' },
          agentKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Legacy agent key' },
        },
      },
      security: d.auth.readsOpen ? [] : [{ read: [] }],
    },
  });
  await app.register(fastifyWebsocket, {
    options: { maxPayload: 64 * 1024, handleProtocols: pickProtocol },
  });
  // After the WebSocket plugin's own onRequest hook: it marks upgrade requests, so that a refused upgrade's socket is
  // closed after the answer instead of being left half open (which would also keep close() waiting forever).
  app.decorateRequest('grant', null);
  app.addHook(
    'onRequest',
    accessHook({
      tokens: d.auth.store,
      readsOpen: d.auth.readsOpen,
      metricsOpen: d.cfg.auth.metrics === 'open',
      alertsWriteOpen: d.cfg.auth.alerts_write === 'open',
      limiter,
      metrics: d.metrics,
    }),
  );

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(agentRoutes(d.rest));
  await app.register(packetRoutes(d.rest));
  await app.register(nodeRoutes(d.rest));
  await app.register(topologyRoutes(d.rest));
  await app.register(miscRoutes(d.rest));
  await app.register(exportRoutes(d.rest));
  await app.register(alertRoutes(d.alerts));
  await app.register(legacyRoutes({ ...d.legacy, metrics: d.metrics }));
  app.get('/api/live', { websocket: true, schema: { hide: true } }, (socket) => {
    d.live.attach(socket);
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', version: VERSION }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const ok = d.ready();
    return reply.code(ok ? 200 : 503).send({ ready: ok });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(d.metrics.registry.contentType).send(await d.metrics.registry.metrics()),
  );

  await registerWeb(app as unknown as FastifyInstance, d.cfg.web.dir ?? defaultWebDir());
  return app as unknown as FastifyInstance;
}
