import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { KEYS, rx, type Stack, startStack, status } from '../testing.js';
import { WS_PROTOCOL, WS_TOKEN_PREFIX } from './auth/access.js';
import { type RouteEntry, routesOf } from './auth/policy.js';
import { digestOf } from './auth/tokens.js';
import { SPA_ROUTES } from './web.js';

// Real HTTP against an API on a real nats-server. Routes come from the app's own route table, so a route added
// later is checked here without anyone listing it.

const tok = () => randomBytes(24).toString('base64url');
const READ = tok();
const METRICS = tok();
const FILE_READ = tok();
const WRITER = tok(); // legacy-write only: may not read
const BOTH = tok(); // read and legacy-write
const WRONG = tok();
const LIMIT = 5;

/** Routes that need no token, spelled out here and not taken from the policy, so opening one shows up as a failure. */
const EXPECTED_PUBLIC = new Set(['/healthz', '/readyz', '/api/health', '/*', ...SPA_ROUTES]);

const SAMPLE: Record<string, string> = {
  agent_id: 'gw-1',
  node_id: '!0000beef',
  from: '!0000beef',
  id: '5',
  '*': 'app.js',
};

function concrete(url: string): string {
  return url.replace(/:([A-Za-z_]+)|\*/g, (m, name: string | undefined) => SAMPLE[name ?? m] ?? 'x');
}

let nextAddr = 1;
/** Each request its own client address (the stack trusts X-Forwarded-For from 127.0.0.1), so no limit trips here. */
const freshAddr = () => `10.1.${Math.floor(nextAddr / 250)}.${(nextAddr++ % 250) + 1}`;

async function call(
  s: Stack,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { 'x-forwarded-for': freshAddr(), ...headers },
    ...(body !== undefined ? { body } : {}),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** An unauthenticated answer must carry nothing but the error. */
function expectNoData(r: { text: string }, method: string, where: string) {
  if (method === 'HEAD') {
    expect(r.text, where).toBe('');
    return;
  }
  const body = JSON.parse(r.text) as Record<string, unknown>;
  for (const k of Object.keys(body)) expect(['error', 'message', 'statusCode'], `${where}: ${k}`).toContain(k);
  expect(r.text, where).not.toMatch(/gw-1|beef|seed/);
}

function wsOpen(url: string, protocols: string[] = [], headers: Record<string, string> = {}) {
  return new Promise<{ status: number; protocol?: string; first?: string }>((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers: { 'x-forwarded-for': freshAddr(), ...headers } });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('message', (data) => {
      resolve({ status: 101, protocol: ws.protocol, first: String(data) });
      ws.close();
    });
    ws.once('error', (err) => reject(err));
  });
}

describe('API access control', () => {
  let s: Stack;
  let open: Stack;
  let tokensFile: string;
  let routes: readonly RouteEntry[];

  const dir = mkdtempSync(join(tmpdir(), 'mmm-auth-test-'));
  beforeAll(async () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    tokensFile = join(dir, 'tokens');
    const both = `sha256:${digestOf(BOTH).toString('hex')}`;
    writeFileSync(
      tokensFile,
      `# scopes  token\nread ${FILE_READ}\nmetrics ${METRICS}\nlegacy-write:gw-legacy ${WRITER}\nread,legacy-write:gw-other ${both}\n`,
    );
    // The embedded default: no tokens configured.
    open = await startStack('', { webDir: dir });
    s = await startStack(
      `[auth]\nread_tokens = ${READ}\ntokens_file = ${tokensFile}\nmetrics = token\ntrust_proxy = 127.0.0.1\nfail_limit = ${LIMIT}\nfail_window_s = 2\n`,
      { nats: open.nats, webDir: dir },
    );
    await s.publish(status('gw-1'));
    await s.publish(rx('text', { text: 'seed' }, { from: 0xbeef, id: 5 }));
    await waitFor('seeded', async () =>
      (await call(s, 'GET', '/api/nodes', { authorization: `Bearer ${READ}` })).text.includes('beef'),
    );
    // Stopping a stack whose consumer is still attaching can hang: let both attach first.
    for (const x of [open, s])
      await waitFor('healthy', async () => (await call(x, 'GET', '/api/health')).status === 200);
    routes = routesOf(s.api.app);
  }, 60_000);
  afterAll(async () => {
    await s?.dispose();
    await open?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has a route table that covers GET and HEAD of every read route, and opens only the expected routes', () => {
    expect(routes.length).toBeGreaterThan(30);
    const gets = routes.filter((r) => r.method === 'GET').map((r) => r.url);
    const heads = new Set(routes.filter((r) => r.method === 'HEAD').map((r) => r.url));
    for (const g of gets) expect(heads, `HEAD ${g}`).toContain(g);
    const publicUrls = new Set(routes.filter((r) => r.access === 'public').map((r) => r.url));
    expect([...publicUrls].sort()).toEqual([...EXPECTED_PUBLIC].sort());
    expect(routes.find((r) => r.url === '/api/live' && r.method === 'GET')?.access).toBe('read');
    expect(routes.find((r) => r.url === '/api/openapi.json')?.access).toBe('read');
    expect(routes.find((r) => r.url === '/metrics')?.access).toBe('metrics');
    expect(routes.filter((r) => r.access === 'legacy-write').map((r) => r.url).length).toBe(4);
    expect(
      routes
        .filter((r) => r.access === 'alerts-write')
        .map((r) => `${r.method} ${r.url}`)
        .sort(),
    ).toEqual([
      'DELETE /api/alerts/rules/:name',
      'POST /api/alerts/:id/ack',
      'POST /api/alerts/rules',
      'POST /api/alerts/silences',
    ]);
    expect(routes.filter((r) => r.access === 'none')).toEqual([]);
  });

  it('every GET and HEAD route: without a token, with a wrong one and with the right one', async () => {
    const right: Record<string, string> = { read: READ, metrics: METRICS, public: READ };
    let checked = 0;
    for (const r of routes) {
      if (r.method !== 'GET' && r.method !== 'HEAD') continue;
      const path = concrete(r.url);
      const where = `${r.method} ${r.url} (${r.access})`;
      const none = await call(s, r.method, path);
      const wrong = await call(s, r.method, path, { authorization: `Bearer ${WRONG}` });
      if (r.websocket) {
        // As plain HTTP; the upgrade itself is the WebSocket test below.
        expect([none.status, wrong.status], where).toEqual([401, 401]);
        continue;
      }
      const ok = await call(s, r.method, path, { authorization: `Bearer ${right[r.access]}` });
      if (r.access === 'public') {
        for (const x of [none, wrong, ok]) expect([401, 403, 429], where).not.toContain(x.status);
      } else {
        expect(none.status, where).toBe(401);
        expect(wrong.status, where).toBe(401);
        expect(none.headers.get('www-authenticate'), where).toBe('Bearer realm="mmm"');
        expectNoData(none, r.method, where);
        expectNoData(wrong, r.method, where);
        expect(ok.status, `${where}: ${ok.text.slice(0, 200)}`).toBeLessThan(400);
        // The other scope's token is valid but not enough.
        const other = await call(s, r.method, path, {
          authorization: `Bearer ${r.access === 'read' ? METRICS : READ}`,
        });
        expect(other.status, where).toBe(403);
        expectNoData(other, r.method, where);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('reads take the token as Bearer, ?token=, from the tokens file, hashed in the file; a write-only token may not read', async () => {
    const nodes = '/api/nodes';
    expect((await call(s, 'GET', `${nodes}?token=${READ}`)).status).toBe(200);
    expect((await call(s, 'GET', nodes, { authorization: `bearer ${FILE_READ}` })).status).toBe(200);
    expect((await call(s, 'GET', nodes, { authorization: `Bearer ${BOTH}` })).status).toBe(200);
    const w = await call(s, 'GET', nodes, { authorization: `Bearer ${WRITER}` });
    expect(w.status).toBe(403);
    expectNoData(w, 'GET', 'write-only token');
    expect((await call(s, 'HEAD', nodes, { authorization: `Bearer ${WRITER}` })).status).toBe(403);
    // A digest in the file is not itself a token.
    const digest = digestOf(BOTH).toString('hex');
    expect((await call(s, 'GET', nodes, { authorization: `Bearer sha256:${digest}` })).status).toBe(401);
  });

  it('the OpenAPI document needs a read token and declares the schemes', async () => {
    expect((await call(s, 'GET', '/api/openapi.json')).status).toBe(401);
    expect((await call(s, 'HEAD', '/api/openapi.json')).status).toBe(401);
    const doc = await call(s, 'GET', '/api/openapi.json', { authorization: `Bearer ${READ}` });
    expect(doc.status).toBe(200);
    const spec = JSON.parse(doc.text);
    expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(['agentKey', 'alertsWrite', 'read']);
    expect(spec.security).toEqual([{ read: [] }]);
  });

  it('the WebSocket: refused without or with a wrong token, opened with the token as subprotocol, query or header', async () => {
    const url = `${s.url.replace('http', 'ws')}/api/live`;
    expect((await wsOpen(url)).status).toBe(401);
    expect((await wsOpen(url, [WS_PROTOCOL])).status).toBe(401);
    expect((await wsOpen(url, [WS_PROTOCOL, `${WS_TOKEN_PREFIX}${WRONG}`])).status).toBe(401);
    expect((await wsOpen(`${url}?token=${WRONG}`)).status).toBe(401);
    expect((await wsOpen(url, [], { authorization: `Bearer ${WRITER}` })).status).toBe(403);
    expect((await wsOpen(url, [], { authorization: `Bearer ${METRICS}` })).status).toBe(403);
    const sub = await wsOpen(url, [WS_PROTOCOL, `${WS_TOKEN_PREFIX}${READ}`]);
    expect(sub.status).toBe(101);
    // The server picks mmm.v1 and never echoes the token back.
    expect(sub.protocol).toBe(WS_PROTOCOL);
    expect(JSON.parse(sub.first ?? '{}').type).toBe('hello');
    expect((await wsOpen(`${url}?token=${FILE_READ}`)).status).toBe(101);
    expect((await wsOpen(url, [], { authorization: `Bearer ${READ}` })).status).toBe(101);
  });

  it('legacy writes need a legacy-write key for the agent named in the body; a read token cannot write', async () => {
    const body = (agent: string) =>
      JSON.stringify({ agent_id: agent, timestamp: '2026-11-27T19:00:00+00:00', location: { name: 'x' } });
    const post = (agent: string, key?: string) =>
      call(
        s,
        'POST',
        '/api/agent/register',
        { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
        body(agent),
      );
    expect((await post('gw-legacy')).status).toBe(401);
    expect(JSON.parse((await post('gw-legacy', WRONG)).text)).toEqual({ error: 'Invalid API key' });
    expect((await post('gw-legacy', READ)).status).toBe(403);
    expect((await post('gw-legacy', KEYS['gw-legacy'])).status).toBe(200);
    expect((await post('gw-legacy', WRITER)).status).toBe(200);
    expect((await post('gw-other', WRITER)).status).toBe(403);
    expect((await post('gw-other', BOTH)).status).toBe(200);
    expect((await call(s, 'DELETE', '/api/nodes', { authorization: `Bearer ${READ}` })).status).toBe(404);
  });

  it('probes stay open; /metrics needs a metrics token and counts the failures', async () => {
    expect((await call(s, 'GET', '/healthz')).status).toBe(200);
    expect((await call(s, 'GET', '/readyz')).status).toBe(200);
    expect((await call(s, 'GET', '/api/health')).status).toBe(200);
    expect((await call(s, 'GET', '/metrics')).status).toBe(401);
    expect((await call(s, 'GET', '/metrics', { authorization: `Bearer ${READ}` })).status).toBe(403);
    const m = await call(s, 'GET', '/metrics', { authorization: `Bearer ${METRICS}` });
    expect(m.status).toBe(200);
    const value = (line: RegExp) =>
      Number(
        m.text
          .split('\n')
          .find((l) => line.test(l))
          ?.split(' ')
          .pop() ?? 0,
      );
    expect(value(/^mmm_api_auth_failures_total\{reason="missing",access="read"/)).toBeGreaterThan(30);
    expect(value(/^mmm_api_auth_failures_total\{reason="invalid",access="read"/)).toBeGreaterThan(30);
    expect(value(/^mmm_api_auth_failures_total\{reason="scope",access="read"/)).toBeGreaterThan(30);
    expect(value(/^mmm_api_auth_failures_total\{reason="invalid",access="legacy-write"/)).toBeGreaterThan(0);
    expect(value(/^mmm_api_auth_tokens[ {]/)).toBe(3 + 4 + 1); // api_keys + file + read_tokens
  });

  it('the limiter trips after fail_limit wrong tokens from one address, also refuses its right token, and recovers', async () => {
    const addr = { 'x-forwarded-for': '192.0.2.77' };
    for (let i = 0; i < LIMIT; i++)
      expect((await call(s, 'GET', '/api/stats', { ...addr, authorization: `Bearer ${WRONG}` })).status).toBe(401);
    const tripped = await call(s, 'GET', '/api/stats', { ...addr, authorization: `Bearer ${READ}` });
    expect(tripped.status).toBe(429);
    expect(Number(tripped.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expectNoData(tripped, 'GET', '429');
    expect((await call(s, 'HEAD', '/api/stats', { ...addr, authorization: `Bearer ${READ}` })).status).toBe(429);
    // Another address is not affected, and neither are the probes of the tripped one.
    expect(
      (await call(s, 'GET', '/api/stats', { 'x-forwarded-for': '192.0.2.78', authorization: `Bearer ${READ}` })).status,
    ).toBe(200);
    expect((await call(s, 'GET', '/healthz', addr)).status).toBe(200);
    await waitFor('limiter window over', async () => {
      const r = await call(s, 'GET', '/api/stats', { ...addr, authorization: `Bearer ${READ}` });
      return r.status === 200;
    });
    const m = await call(s, 'GET', '/metrics', { authorization: `Bearer ${METRICS}` });
    expect(m.text).toMatch(/^mmm_api_auth_rate_limited_total\{access="read"[^}]*\} [1-9]/m);
  });

  it('rotates through the tokens file without a restart: new accepted, old refused; a broken file changes nothing', async () => {
    const NEW = tok();
    const swap = (text: string) => {
      writeFileSync(`${tokensFile}.tmp`, text);
      renameSync(`${tokensFile}.tmp`, tokensFile);
    };
    swap(`read ${NEW}\nmetrics ${METRICS}\n`);
    const get = (t: string) => call(s, 'GET', '/api/agents', { authorization: `Bearer ${t}` });
    await waitFor('new token accepted', async () => (await get(NEW)).status === 200);
    expect((await get(FILE_READ)).status).toBe(401);
    expect((await get(READ)).status).toBe(200); // [auth] read_tokens are not in the file
    swap('read short\n');
    await waitFor('reload error counted', async () => {
      const m = await call(s, 'GET', '/metrics', { authorization: `Bearer ${METRICS}` });
      return /^mmm_api_auth_reloads_total\{result="error"[^}]*\} [1-9]/m.test(m.text);
    });
    expect((await get(NEW)).status).toBe(200);
    expect(s.api.reloadAuth()).toBe(false);
  });

  it('the embedded default (no tokens configured) stays open for reads; legacy writes still need a key', async () => {
    expect((await call(open, 'GET', '/api/nodes')).status).toBe(200);
    expect((await call(open, 'HEAD', '/api/nodes')).status).toBe(200);
    expect((await call(open, 'GET', '/api/openapi.json')).status).toBe(200);
    expect((await call(open, 'GET', '/metrics')).status).toBe(200);
    expect((await wsOpen(`${open.url.replace('http', 'ws')}/api/live`)).status).toBe(101);
    const r = await call(open, 'POST', '/api/agent/register', { 'content-type': 'application/json' }, '{}');
    expect(r.status).toBe(401);
  });

  it('without trust_proxy, X-Forwarded-For is ignored: spoofed addresses do not escape the limiter', async () => {
    const t = await startStack(`[auth]\nread_tokens = ${READ}\nfail_limit = 3\nfail_window_s = 60\n`, {
      nats: open.nats,
    });
    try {
      await waitFor('healthy', async () => (await call(t, 'GET', '/api/health')).status === 200);
      for (let i = 0; i < 3; i++)
        expect((await call(t, 'GET', '/api/stats', { authorization: `Bearer ${WRONG}` })).status).toBe(401);
      const r = await call(t, 'GET', '/api/stats', { authorization: `Bearer ${READ}` });
      expect(r.status).toBe(429);
    } finally {
      await t.dispose();
    }
  });
});
