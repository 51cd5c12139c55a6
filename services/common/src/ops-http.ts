import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface OpsServerOptions {
  host?: string;
  port: number;
  registry: Registry;
  /** Readiness: the service can do its work (broker connected, store reachable). */
  ready: () => boolean | Promise<boolean>;
  /** Liveness detail for /healthz. */
  health?: () => Record<string, unknown>;
}

/** Prometheus registry with the process's default metrics, one per service. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** /healthz, /readyz and /metrics for services that have no HTTP server of their own. */
export async function startOpsServer(
  opts: OpsServerOptions,
): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': opts.registry.contentType });
        res.end(await opts.registry.metrics());
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'ok', ...opts.health?.() }));
      } else if (path === '/readyz') {
        const ok = await opts.ready();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ready: ok }));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'not found', paths: ['/healthz', '/readyz', '/metrics'] }));
      }
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: (err as Error).message }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return { server, port, close: () => new Promise((r) => server.close(() => r())) };
}
