import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Access } from './access.js';

/**
 * Who may call what, in one place. Every route gets its access here as it is registered (an onRoute hook), so a
 * route added anywhere later is covered: a GET needs a read token unless it is listed as public, and any other
 * method is refused to every token until it is given a rule here.
 */
const PUBLIC = new Set([
  // Liveness and readiness probes of orchestrators and load balancers, which carry no token.
  '/healthz',
  '/readyz',
  // The original agents probe it without a key; it says only whether the stream and store are up.
  '/api/health',
]);
const LEGACY_WRITES = new Set(['/api/agent/register', '/api/agent/data', '/api/agent/nodedb', '/api/agent/routes']);

export function accessOf(method: string, url: string, webRoutes: ReadonlySet<string>): Access {
  if (method === 'GET' || method === 'HEAD') {
    if (PUBLIC.has(url) || webRoutes.has(url)) return 'public';
    if (url === '/metrics') return 'metrics';
    return 'read';
  }
  if (method === 'POST' && LEGACY_WRITES.has(url)) return 'legacy-write';
  // Operators' changes to alerting: rules, acknowledgements, silences.
  if ((method === 'POST' || method === 'DELETE') && url.startsWith('/api/alerts/')) return 'alerts-write';
  return 'none';
}

export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly access: Access;
  readonly websocket: boolean;
}

const tables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route as registered, with its access: tests walk this list so no route escapes them. */
export function routesOf(app: FastifyInstance): readonly RouteEntry[] {
  return tables.get(app) ?? [];
}

/** Installs the onRoute hook; call before any route is registered. */
export function applyPolicy(app: FastifyInstance, webRoutes: ReadonlySet<string>): void {
  const table: RouteEntry[] = [];
  tables.set(app, table);
  app.addHook('onRoute', (r: RouteOptions & { websocket?: boolean }) => {
    const methods = [r.method].flat();
    const each = methods.map((m) => accessOf(m, r.url, webRoutes));
    // One route with several methods (GET+HEAD in practice) shares one config: if its methods disagree, none may.
    const access = each.every((a) => a === each[0]) ? each[0]! : 'none';
    for (const method of methods) table.push({ method, url: r.url, access, websocket: r.websocket === true });
    r.config = { ...(r.config ?? {}), access };
  });
}
