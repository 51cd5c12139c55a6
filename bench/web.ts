/// <reference lib="dom" />
// `npm run bench -- web`: the web app's JavaScript size (gzip; the offline basemap JSON reported apart) and the
// map's first render with 10k nodes in headless Chromium. The app is served from web/dist by a tiny node:http
// server with stubbed answers for the few API calls the map makes (a bench may stub; the e2e tests do not).
// One JSON line, with a raw JetStream publish baseline measured in the same run.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { launchChromium } from '../web/e2e/browser.js';
import { DIST, ensureBuilt } from '../web/e2e/build.js';
import { rawPublishRateOnOwnServer } from './_baseline.js';

const NODES = Number(process.env.MMM_BENCH_WEB_NODES ?? 10_000);
const RUNS = Number(process.env.MMM_BENCH_WEB_RUNS ?? 3);

function sizes(): { jsGzip: number; jsRaw: number; cssGzip: number; basemapGzip: number } {
  const assets = join(DIST, 'assets');
  let jsGzip = 0;
  let jsRaw = 0;
  let cssGzip = 0;
  let basemapGzip = 0;
  for (const f of readdirSync(assets)) {
    const buf = readFileSync(join(assets, f));
    const gz = gzipSync(buf, { level: 9 }).length;
    if (f.endsWith('.js')) {
      jsGzip += gz;
      jsRaw += buf.length;
    } else if (f.endsWith('.css')) cssGzip += gz;
    else if (f.endsWith('.json')) basemapGzip += gz;
  }
  return { jsGzip, jsRaw, cssGzip, basemapGzip };
}

function nodeRows(n: number): unknown[] {
  const now = Date.now();
  const rows = [];
  for (let i = 0; i < n; i++) {
    // spread over Europe so clustering has work at every zoom
    const lat = 44 + ((i * 7919) % 1000) / 100;
    const lon = 2 + ((i * 104729) % 1800) / 100;
    rows.push({
      node_id: `!${(0x20000000 + i).toString(16)}`,
      short_name: `N${i % 10000}`,
      long_name: `Bench node ${i}`,
      hw_model: 'HELTEC_V3',
      role: ['CLIENT', 'ROUTER', 'CLIENT_MUTE'][i % 3],
      battery_level: i % 101,
      position: [lat, lon],
      hops_away: i % 7,
      last_heard: new Date(now - (i % 3600) * 1000).toISOString(),
      packet_count: i % 500,
      active: true,
      seeing_agent_ids: ['gw-1'],
    });
  }
  return rows;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

function serve(nodesJson: string): Promise<{ server: Server; url: string }> {
  const index = readFileSync(join(DIST, 'index.html'));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const json = (body: string) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    if (path === '/api/map/config')
      return json(
        JSON.stringify({
          center_lat: 50,
          center_lon: 10,
          zoom_level: 5,
          force_center: false,
          tile_url: 'none',
          site_name: 'bench',
        }),
      );
    if (path === '/api/nodes/detailed') return json(nodesJson);
    if (path === '/api/agents')
      return json('{"agents":[{"agent_id":"gw-1","location_name":"Bench","coordinates":[50,10],"status":"active"}]}');
    if (path === '/api/connections') return json('{"connections":[]}');
    if (path.startsWith('/api/')) return json('{}');
    try {
      const file = readFileSync(join(DIST, path));
      return res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(file);
    } catch {
      return res.writeHead(200, { 'content-type': TYPES['.html'] }).end(index);
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` });
    }),
  );
}

/** Navigation start → every marker placed in the cluster layer (chunked loading done) and the next frame painted. */
async function mapFirstRenderMs(url: string): Promise<number> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${url}/map?hours=0`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(
      (n) =>
        document.querySelector('[data-testid="map-shown"]')?.textContent === String(n) &&
        document.querySelector('[data-testid="map"]')?.getAttribute('data-loaded') === 'true',
      NODES,
      { timeout: 120_000, polling: 'raf' },
    );
    return await page.evaluate(
      () => new Promise<number>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now())))),
    );
  } finally {
    await browser.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

await ensureBuilt();
const size = sizes();
const { server, url } = await serve(JSON.stringify({ nodes: nodeRows(NODES), total: NODES }));
const renders: number[] = [];
try {
  for (let i = 0; i < RUNS; i++) {
    renders.push(await mapFirstRenderMs(url));
    console.error(`bench web: map first render run ${i + 1}: ${Math.round(renders.at(-1)!)} ms`);
  }
} finally {
  server.close();
}
const baseline = await rawPublishRateOnOwnServer('bench-web');
console.log(
  JSON.stringify({
    scenario: 'web',
    case: 'app-size-and-map-render',
    appJsGzipKB: Number((size.jsGzip / 1024).toFixed(1)),
    appJsRawKB: Number((size.jsRaw / 1024).toFixed(1)),
    cssGzipKB: Number((size.cssGzip / 1024).toFixed(1)),
    basemapGzipKB: Number((size.basemapGzip / 1024).toFixed(1)),
    goalJsGzipKB: 300,
    mapNodes: NODES,
    mapFirstRenderMsMedian: Math.round(median(renders)),
    mapFirstRenderMsRuns: renders.map(Math.round),
    baselineJetStreamPublishPerSec: Math.round(baseline),
  }),
);
