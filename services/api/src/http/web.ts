import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Client-side routes of the web app: each serves index.html. */
export const SPA_ROUTES = ['/', '/agents', '/packets', '/nodes', '/nodes/:id', '/map', '/topology', '/alerts'];

/** The app's pages and files (the static wildcard): public, so a browser can load the app before it has a token. */
export const WEB_ROUTES: ReadonlySet<string> = new Set([...SPA_ROUTES, '/*']);

export const HTML_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; connect-src 'self' ws: wss:; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** web/dist of the repository, from src/http or dist/http alike. */
export function defaultWebDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'web', 'dist');
}

const MISSING_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Web app not built</title></head>
<body><h1>The web app is not built</h1><p>Run <code>npm run build</code> in the repository (or set <code>[web] dir</code>), then reload.
The REST API is available under <a href="/api/openapi.json">/api/openapi.json</a>.</p></body></html>`;

export async function registerWeb(app: FastifyInstance, dir: string): Promise<void> {
  const present = existsSync(join(dir, 'index.html'));
  app.addHook('onSend', async (_req, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) reply.headers(HTML_HEADERS);
    else reply.header('x-content-type-options', 'nosniff');
    return payload;
  });
  if (!present) {
    for (const url of SPA_ROUTES) {
      app.get(url, { schema: { hide: true } }, async (_req, reply) =>
        reply.code(503).type('text/html; charset=utf-8').send(MISSING_PAGE),
      );
    }
    return;
  }
  await app.register(fastifyStatic, { root: dir, wildcard: true, index: false, decorateReply: true });
  for (const url of SPA_ROUTES) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/html; charset=utf-8').sendFile('index.html'),
    );
  }
}
