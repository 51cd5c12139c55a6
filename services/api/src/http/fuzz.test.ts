import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, rx, type Stack, startStack, status } from '../testing.js';
import { routesOf } from './auth/policy.js';

/** mulberry32: reproducible cases; a failure prints the seed and the request. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GETS = [
  '/api/agents',
  '/api/agents/{agent}/status',
  '/api/sites',
  '/api/packets',
  '/api/packets/{node}/{int}/receptions',
  '/api/nodes',
  '/api/nodes/detailed',
  '/api/nodes/{node}/details',
  '/api/nodes/{node}/name-history',
  '/api/nodes/{node}/positions',
  '/api/nodes/{node}/telemetry',
  '/api/topology',
  '/api/topology/graph',
  '/api/connections',
  '/api/routes',
  '/api/traceroutes',
  '/api/stats',
  '/api/map/config',
  '/api/health',
  '/api/openapi.json',
  '/nodes/{node}',
  '/{junk}',
];
const POSTS = ['/api/agent/register', '/api/agent/data', '/api/agent/nodedb', '/api/agent/routes'];
const KEYS_Q = [
  'hours',
  'limit',
  'offset',
  'type',
  'agent_id',
  'site',
  'from_node',
  'to_node',
  'channel',
  'min_quality',
  'successful_only',
  'source_node',
  'target_node',
  'variant',
  'field',
  'active_only',
  'token',
  'x',
];

describe('fuzz: random query strings and bodies on every route', () => {
  let s: Stack;
  const web = mkdtempSync(join(tmpdir(), 'mmm-web-'));
  beforeAll(async () => {
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(web, 'app.js'), 'console.log(1)');
    s = await startStack('', { webDir: web });
    await s.publish(status('gw-1'));
    await s.publish(rx('text', { text: 'seed' }, { from: 0xbeef, id: 5 }));
    // /api/health is 503 until the consumer is attached: wait, so only bad input could cause a 5xx below.
    await waitFor('healthy', async () => (await s.api.app.inject({ url: '/api/health' })).statusCode === 200);
  });
  afterAll(async () => {
    await s?.dispose();
    rmSync(web, { recursive: true, force: true });
  });

  it('serves the built app: files, the SPA routes with CSP and nosniff, JSON 404 elsewhere', async () => {
    const page = await s.api.app.inject({ url: '/nodes/!0000beef' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>app</title>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect((await s.api.app.inject({ url: '/app.js' })).body).toBe('console.log(1)');
    expect((await s.api.app.inject({ url: '/api/nope' })).statusCode).toBe(404);
  });

  it('answers 10,000 random requests without a single 5xx', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20261127);
    const r = prng(seed);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    const atoms = () =>
      pick([
        () => String(Math.floor(r() * 100)),
        () => String(-Math.floor(r() * 1e12)),
        () => String(r() * 1e20),
        () => '!0000beef',
        () => `!${Math.floor(r() * 0xffffffff).toString(16)}`,
        () => '99999999999999999999',
        () => 'NaN',
        () => '',
        () => 'all',
        () => 'text',
        () => '%00%ff%fe',
        () => encodeURIComponent('<script>alert(1)</script>'),
        () => encodeURIComponent("' OR 1=1 --"),
        () => encodeURIComponent('🛰️ Ω ü'),
        () => 'true',
        () => encodeURIComponent('a'.repeat(Math.floor(r() * 3000))),
        () => '%',
        () => '..%2f..%2fetc%2fpasswd',
      ])();
    const jsonValue = (depth: number): unknown => {
      const k = Math.floor(r() * (depth > 2 ? 6 : 9));
      switch (k) {
        case 0:
          return null;
        case 1:
          return r() * 1e6 - 5e5;
        case 2:
          return pick([
            '',
            '!0000beef',
            '^all',
            'text_message',
            'position',
            '2026-11-27T19:00:00+00:00',
            'x'.repeat(100),
            '\u0000',
            '🛰️',
          ]);
        case 3:
          return r() < 0.5;
        case 4:
          return Math.floor(r() * 2 ** 33);
        case 5:
          return -1;
        case 6:
          return Array.from({ length: Math.floor(r() * 4) }, () => jsonValue(depth + 1));
        default:
          return Object.fromEntries(
            Array.from({ length: Math.floor(r() * 5) }, () => [
              pick([
                'agent_id',
                'timestamp',
                'packets',
                'node_status',
                'nodes',
                'routes',
                'location',
                'type',
                'payload',
                'from_node',
                'packet_id',
                'route_path',
                'user',
                '__proto__',
                'constructor',
              ]),
              jsonValue(depth + 1),
            ]),
          );
      }
    };
    const validish = (path: string) => {
      const base: Record<string, unknown> = { agent_id: 'gw-legacy', timestamp: '2026-11-27T19:00:00.000000+00:00' };
      if (path.endsWith('data'))
        base.packets = Array.from({ length: Math.floor(r() * 4) }, () => ({
          timestamp: jsonValue(3),
          from_node: jsonValue(3),
          to_node: jsonValue(3),
          packet_id: jsonValue(3),
          type: jsonValue(3),
          payload: jsonValue(1),
          hop_limit: jsonValue(3),
        }));
      if (path.endsWith('nodedb'))
        base.nodes = {
          [String(jsonValue(3))]: {
            user: jsonValue(1),
            position: jsonValue(1),
            deviceMetrics: jsonValue(1),
            lastHeard: jsonValue(3),
            hopsAway: jsonValue(3),
          },
        };
      if (path.endsWith('routes'))
        base.routes = [
          {
            route_path: [jsonValue(3), '!0000beef'],
            source_node_id: jsonValue(3),
            target_node_id: jsonValue(3),
            success: jsonValue(3),
            snr_towards: jsonValue(2),
            route_back: jsonValue(2),
            discovery_timestamp: jsonValue(3),
          },
        ];
      if (path.endsWith('register')) base.location = jsonValue(1);
      return base;
    };

    const failures: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      let method = 'GET';
      let url: string;
      let payload: string | undefined;
      const headers: Record<string, string> = {};
      if (r() < 0.25) {
        method = 'POST';
        url = pick(POSTS);
        headers['content-type'] =
          r() < 0.95
            ? 'application/json'
            : pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1']);
        headers['x-api-key'] = r() < 0.8 ? KEYS['gw-legacy'] : pick(['', 'nope', KEYS['gw-other']]);
        const mode = r();
        payload =
          mode < 0.5
            ? JSON.stringify(validish(url))
            : mode < 0.85
              ? JSON.stringify(jsonValue(0))
              : pick(['{', '[]', 'null', '{"agent_id":', '\u0000', '{"__proto__":{"x":1}}', '1e999999']);
      } else {
        url = pick(GETS)
          .replace('{agent}', atoms())
          .replace('{node}', atoms())
          .replace('{int}', atoms())
          .replace('{junk}', atoms());
        const n = Math.floor(r() * 5);
        const q = Array.from({ length: n }, () => `${pick(KEYS_Q)}=${atoms()}`);
        if (q.length) url += `?${q.join('&')}`;
      }
      const res = await s.api.app.inject({ method: method as 'GET' | 'POST', url, headers, payload });
      if (res.statusCode >= 500)
        failures.push(
          `#${i} seed ${seed}: ${method} ${url.slice(0, 200)} ${payload?.slice(0, 200) ?? ''} -> ${res.statusCode} ${res.body.slice(0, 200)}`,
        );
      if (failures.length >= 5) break;
    }
    expect(failures).toEqual([]);
  });
});

describe('fuzz: hostile credentials, headers and bodies against an API that needs tokens', () => {
  let s: Stack;
  const dir = mkdtempSync(join(tmpdir(), 'mmm-fuzz-auth-'));
  const READ = 'read-token-0123456789abcdef';
  const METRICS = 'metrics-token-0123456789abcdef';
  const WRITER = 'write-token-0123456789abcdef';
  // Strings that appear only in the seeded data: an unauthenticated answer that holds one leaked data.
  const MARKERS = ['Hidden Site', 'gw-hidden', 'hidden-text', '0000cafe'];
  beforeAll(async () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dir, 'tokens'), `metrics ${METRICS}\nlegacy-write:gw-legacy ${WRITER}\n`);
    s = await startStack(
      `[auth]\nread_tokens = ${READ}\ntokens_file = ${join(dir, 'tokens')}\nmetrics = token\nfail_limit = 50\n`,
      { webDir: dir },
    );
    await s.publish(status('gw-hidden', { name: 'Hidden Site' }));
    await s.publish(rx('text', { text: 'hidden-text' }, { from: 0xcafe, id: 9, agent: 'gw-hidden' }));
    await waitFor('healthy', async () => (await s.api.app.inject({ url: '/api/health' })).statusCode === 200);
    await waitFor('seeded', async () =>
      (await s.api.app.inject({ url: '/api/nodes', headers: { authorization: `Bearer ${READ}` } })).body.includes(
        '0000cafe',
      ),
    );
  }, 60_000);
  afterAll(async () => {
    await s?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 10,000 hostile requests without a 5xx, and without data unless a valid token was sent', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20261207);
    const r = prng(seed);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    // Paths from the app's own route table, so a new route is fuzzed too, plus spellings that try to dodge a check.
    const urls = [...new Set(routesOf(s.api.app).map((x) => x.url))];
    const param = () =>
      // 51966 is node !0000cafe: real data behind a valid token, while the URL (echoed by a 404) holds no marker.
      pick(['51966', '0xcafe', 'gw-1', '5', '%2e%2e', '..', '%00', 'x'.repeat(300), '%F0%9F%9B%B0', "'", '*', '']);
    const dodge = (p: string) =>
      pick([
        (x: string) => x,
        (x: string) => x.replace('/api/', '/%61pi/'),
        (x: string) => x.replace('/api/', '/api/%2e/'),
        (x: string) => x.replace('/api/', '//api/'),
        (x: string) => x.replace('/api/', '/API/'),
        (x: string) => `${x}/`,
        (x: string) => `${x};token=${READ}x`,
        (x: string) => `${x}%00`,
        (x: string) => `${x}#frag`,
        (x: string) => x.replace(/\/([a-z]+)$/, '/%$1'),
      ])(p);
    const badToken = () =>
      pick([
        '',
        ' ',
        `${READ}x`,
        READ.slice(0, -1),
        READ.toUpperCase(),
        `${READ}\u0000`,
        encodeURIComponent(`${READ} `),
        'x'.repeat(5000),
        'null',
        'undefined',
        '[object Object]',
        `sha256:${'0'.repeat(64)}`,
        '🔑'.repeat(20),
      ]);
    const failures: string[] = [];
    let authorizedAnswers = 0;
    for (let i = 0; i < 10_000; i++) {
      const method = pick(['GET', 'GET', 'GET', 'HEAD', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'] as const);
      let url = dodge(
        pick(urls)
          .replace(/:[a-z_]+/g, param)
          .replace('*', param()),
      );
      const headers: Record<string, string | string[]> = {};
      // Which credential, if any, is valid for reading: decides what the answer may hold.
      const kind = r();
      let valid = false;
      if (kind < 0.25) {
        headers.authorization = `Bearer ${READ}`;
        valid = true;
      } else if (kind < 0.3) {
        url += `${url.includes('?') ? '&' : '?'}token=${READ}`;
        valid = !url.includes('#');
      } else if (kind < 0.5) {
        headers.authorization = pick([
          `Bearer ${badToken()}`,
          `Basic ${Buffer.from(`u:${READ}`).toString('base64')}`,
          `Bearer${READ}`,
          `Token ${READ}`,
          `Bearer ${METRICS}`,
          `Bearer ${WRITER}`,
          badToken(),
        ]);
      } else if (kind < 0.6) {
        headers['x-api-key'] = pick([badToken(), WRITER, KEYS['gw-legacy'], METRICS]);
      } else if (kind < 0.7) {
        headers['sec-websocket-protocol'] = pick([
          `mmm.v1, mmm.token.${badToken()}`,
          'mmm.token.',
          `mmm.token.${READ}x`,
          ',,,,',
          'x'.repeat(4000),
        ]);
        headers.upgrade = pick(['websocket', 'h2c', '']);
        headers.connection = pick(['upgrade', 'keep-alive, Upgrade', 'close']);
      } else if (kind < 0.8) {
        url += `${url.includes('?') ? '&' : '?'}${pick([
          `token=${badToken()}&token=${READ}`,
          `token[]=${READ}`,
          `token[a]=${READ}`,
          'token=',
          `token=${encodeURIComponent(badToken())}`,
        ])}`;
      }
      if (r() < 0.3)
        headers['x-forwarded-for'] = pick(['127.0.0.1', '10.0.0.1, 10.0.0.2', 'garbage', '::1', '1.2.3.4'.repeat(100)]);
      if (r() < 0.2) headers.host = pick(['evil.example', '', 'localhost:99999', 'x'.repeat(1000)]);
      if (r() < 0.1) headers.cookie = pick([`token=${READ}x`, 'a=b; '.repeat(200)]);
      let payload: string | undefined;
      if (method !== 'GET' && method !== 'HEAD' && r() < 0.8) {
        headers['content-type'] = pick([
          'application/json',
          'application/json; charset=utf-16',
          'text/plain',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded',
          'application/json'.repeat(50),
        ]);
        payload = pick([
          '{"agent_id":"gw-legacy","timestamp":"2026-11-27T19:00:00+00:00"}',
          '{"__proto__":{"read":true},"constructor":{"prototype":{"read":true}}}',
          '{'.repeat(5000),
          `{"token":"${READ}"}`,
          '\u0000\u0001\u0002',
          '[]',
          'x'.repeat(Math.floor(r() * 200_000)),
        ]);
      }
      const res = await s.api.app.inject({
        method,
        url,
        headers,
        payload,
        remoteAddress: `10.${Math.floor(r() * 4)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`,
      });
      const where = `#${i} seed ${seed}: ${method} ${url.slice(0, 160)} ${JSON.stringify(headers).slice(0, 300)}`;
      if (res.statusCode >= 500) failures.push(`${where} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
      if (!valid) {
        const leaked = MARKERS.find((m) => res.body.includes(m));
        if (leaked) failures.push(`${where} -> ${res.statusCode} leaked ${leaked}`);
        // A HEAD or an empty 2xx leaks that data exists: only open routes may answer 2xx without a token.
        const raw = url.split(/[?#;]/)[0]!;
        let path = raw;
        try {
          // Resolved like the router does (dot segments, %2e included), then decoded.
          path = decodeURIComponent(new URL(raw.replace(/%(?![0-9a-f]{2})/gi, '%25'), 'http://x').pathname);
        } catch {
          // not UTF-8 once decoded: the router cannot match it to a route either
        }
        // Other scopes' tokens open only their own routes.
        const sent = [headers.authorization, headers['x-api-key']];
        const scoped =
          (path === '/metrics' && sent.some((h) => h === METRICS || h === `Bearer ${METRICS}`)) ||
          (method === 'POST' &&
            path.startsWith('/api/agent/') &&
            sent.some((h) => [WRITER, KEYS['gw-legacy'], `Bearer ${WRITER}`].includes(h as string)));
        const open = path === '/api/health' || !(path.startsWith('/api/') || path === '/metrics');
        if (res.statusCode < 300 && !open && !scoped)
          failures.push(`${where} -> ${res.statusCode} without a valid token`);
      } else if (res.statusCode < 300) authorizedAnswers++;
      if (failures.length >= 5) break;
    }
    expect(failures).toEqual([]);
    // The valid-token share reached the handlers, so their code ran under fuzzing too.
    expect(authorizedAnswers).toBeGreaterThan(300);
  });
});
