import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiMetrics } from '../../metrics.js';
import type { Grant, TokenStore } from './tokens.js';

/**
 * What a route needs (set by policy.ts). A route without one needs `read`, so none is left open by forgetting;
 * `public` is for what must work without a token; `none` is refused to every token.
 */
export type Access = 'public' | 'read' | 'metrics' | 'legacy-write' | 'alerts-write' | 'none';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** The grant of the token that authorized this request, when one was needed. */
    grant: Grant | null;
  }
}

/** Browsers cannot set headers on a WebSocket: the token rides as a second subprotocol beside `mmm.v1`. */
export const WS_PROTOCOL = 'mmm.v1';
export const WS_TOKEN_PREFIX = 'mmm.token.';

export interface LimitState {
  readonly isAllowed: boolean;
  readonly remaining?: number;
  readonly ttlInSeconds?: number;
}
export type Limiter = (req: FastifyRequest, opts?: { increment?: boolean }) => Promise<LimitState>;

export interface AccessOptions {
  tokens: TokenStore;
  /** No read token is configured: reads are open, as in the embedded default. */
  readsOpen: boolean;
  metricsOpen: boolean;
  /** `[auth] alerts_write = open`: alert writes need no token (a trial stack that listens on loopback only). */
  alertsWriteOpen: boolean;
  /** Counts wrong tokens per client address (@fastify/rate-limit's manual limiter). */
  limiter: Limiter;
  metrics: ApiMetrics;
}

/** The first credential the request carries: Bearer header, X-API-Key (legacy agents), subprotocol, `?token=`. */
export function presentedToken(req: FastifyRequest): string | undefined {
  const h = req.headers;
  const auth = h.authorization;
  if (typeof auth === 'string' && /^bearer /i.test(auth)) return nonEmpty(auth.slice(7).trim());
  const key = h['x-api-key'];
  if (typeof key === 'string' && key) return key;
  const proto = h['sec-websocket-protocol'];
  if (typeof proto === 'string') {
    for (const p of proto.split(',')) {
      const t = p.trim();
      if (t.startsWith(WS_TOKEN_PREFIX)) return nonEmpty(t.slice(WS_TOKEN_PREFIX.length));
    }
  }
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  return typeof q === 'string' ? nonEmpty(q) : undefined;
}

function nonEmpty(s: string): string | undefined {
  return s.length ? s : undefined;
}

function allows(g: Grant, access: Access): boolean {
  if (access === 'read') return g.read;
  if (access === 'metrics') return g.metrics;
  if (access === 'legacy-write') return g.writeAs !== undefined;
  if (access === 'alerts-write') return g.alertsWrite === true;
  return access === 'public';
}

/** The original agents read `{"error": …}`; everything else gets the same shape as the other API errors. */
function refuse(reply: FastifyReply, access: Access, code: 401 | 403 | 429, message: string) {
  if (code === 401) reply.header('www-authenticate', 'Bearer realm="mmm"');
  if (access === 'legacy-write') return reply.code(code).send({ error: code === 401 ? 'Invalid API key' : message });
  const error = code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : 'Too Many Requests';
  return reply.code(code).send({ error, message, statusCode: code });
}

/** The onRequest hook: runs before the body is read, so an unauthenticated body is never parsed. */
export function accessHook(o: AccessOptions) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    // No route matched: the answer is a 404, which carries no data.
    if (req.is404) return;
    const access = req.routeOptions.config.access ?? 'read';
    if (
      access === 'public' ||
      (access === 'read' && o.readsOpen) ||
      (access === 'metrics' && o.metricsOpen) ||
      (access === 'alerts-write' && o.alertsWriteOpen)
    )
      return;
    const token = presentedToken(req);
    if (token === undefined) {
      o.metrics.authFailures.inc({ reason: 'missing', access });
      return refuse(reply, access, 401, tokenHint(access));
    }
    const limit = await o.limiter(req, { increment: false });
    if (!limit.isAllowed && limit.remaining === 0) {
      o.metrics.authRateLimited.inc({ access });
      reply.header('retry-after', String(Math.max(1, limit.ttlInSeconds ?? 1)));
      return refuse(reply, access, 429, 'too many wrong tokens from this address; retry later');
    }
    const grant = o.tokens.match(token);
    if (!grant) {
      await o.limiter(req);
      o.metrics.authFailures.inc({ reason: 'invalid', access });
      return refuse(reply, access, 401, tokenHint(access));
    }
    if (!allows(grant, access)) {
      o.metrics.authFailures.inc({ reason: 'scope', access });
      const why =
        access === 'none' ? 'this route has no access rule: no token may call it' : `this token has no ${access} scope`;
      return refuse(reply, access, 403, why);
    }
    req.grant = grant;
  };
}

function tokenHint(access: Access): string {
  if (access === 'metrics') return 'a token with scope metrics is required (Authorization: Bearer)';
  if (access === 'alerts-write') return 'a token with scope alerts-write is required (Authorization: Bearer)';
  return 'a read token is required (Authorization: Bearer, ?token= or the WebSocket subprotocol mmm.token.<token>)';
}
