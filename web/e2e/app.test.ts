import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@mmm/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snrColor } from '../src/lib/colors.js';
import { colorFor } from '../src/lib/series.js';
import { launchChromium } from './browser.js';
import { ensureBuilt, WEB_DIR } from './build.js';
import { type Stack, startStack } from './stack.js';

// The built app in headless Chromium against the real stack (mmm up: hub + leaf nats-server, agent, ingest,
// route-analysis, api) fed by the simulator. Screenshots of every page go to web/test-artifacts/.

const ARTIFACTS = join(WEB_DIR, 'test-artifacts');
const HOSTILE = '<img src=x onerror=alert(1)>';

let stack: Stack;
let browser: Browser;
const offOrigin: string[] = [];

interface Watched {
  page: Page;
  errors: string[];
}

async function open(path: string): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!/^(https?|wss?):\/\/127\.0\.0\.1[:/]/.test(u) && !/^(data|blob):/.test(u)) offOrigin.push(u);
  });
  await page.goto(`${stack.url}${path}`, { waitUntil: 'domcontentloaded' });
  return { page, errors };
}

async function shot(w: Watched, name: string): Promise<void> {
  await w.page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

async function apiJson(path: string): Promise<Record<string, unknown>> {
  const r = await fetch(`${stack.url}${path}`);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as Record<string, unknown>;
}

/** The SNR palette of map lines: every colour a line may have. */
const SNR_COLOURS = [...new Set([10, 2, -5, -10, -20, null].map((v) => snrColor(v)))];

/**
 * Pixels of each colour on the canvases under `selector` (opaque enough to be a stroke, anti-aliased edges aside),
 * plus the opaque pixels of any other colour.
 */
async function canvasColours(page: Page, selector: string, colours: string[]): Promise<Record<string, number>> {
  return page.evaluate(
    ({ selector, colours }) => {
      const rgb = colours.map(
        (c) => [1, 3, 5].map((i) => Number.parseInt(c.slice(i, i + 2), 16)) as [number, number, number],
      );
      const out: Record<string, number> = Object.fromEntries([...colours, 'other'].map((c) => [c, 0]));
      for (const canvas of document.querySelectorAll<HTMLCanvasElement>(selector)) {
        const ctx = canvas.getContext('2d');
        if (!ctx || canvas.width === 0 || canvas.height === 0) continue;
        const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3]! < 160) continue;
          const k = rgb.findIndex(
            ([r, g, b]) => Math.abs(d[i]! - r) + Math.abs(d[i + 1]! - g) + Math.abs(d[i + 2]! - b) <= 24,
          );
          out[k >= 0 ? colours[k]! : 'other']!++;
        }
      }
      return out;
    },
    { selector, colours },
  );
}

/** Unordered node pairs of a list of directed links, as the map and the topology page draw them. */
function pairsOf(links: Record<string, unknown>[]): Map<string, Record<string, unknown>[]> {
  const out = new Map<string, Record<string, unknown>[]>();
  for (const l of links) {
    const a = String(l.from_node_id);
    const b = String(l.to_node_id);
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    out.set(key, [...(out.get(key) ?? []), l]);
  }
  return out;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  await ensureBuilt();
  stack = await startStack();
  // The simulated mesh has reached the API: most nodes with positions, the hostile one among them.
  await waitFor(
    'simulated nodes with positions in /api/nodes/detailed',
    async () => {
      const body = await apiJson('/api/nodes/detailed?limit=1000');
      const nodes = (body.nodes as { position: unknown; long_name: string | null }[]) ?? [];
      return nodes.filter((n) => Array.isArray(n.position)).length >= 10 && nodes.some((n) => n.long_name === HOSTILE);
    },
    120_000,
    1000,
  );
  // Neighbour reports now rather than at the simulator's pace, so route-analysis has links for the topology page.
  for (let i = 0; i < 8; i++) stack.sim.inject('neighborinfo');
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('web app against the simulated stack', () => {
  it('dashboard shows simulated agents, packets and nodes', async () => {
    const w = await open('/');
    await w.page.waitForFunction(() => {
      const v = document.querySelector('[data-testid="stat-total-nodes"] .value')?.textContent ?? '';
      return Number(v) > 0;
    });
    await w.page.waitForSelector('[data-testid="recent-packets"] tbody tr td a', { timeout: 30_000 });
    await w.page.waitForSelector('[data-testid="recent-agents"] tbody tr td.mono');
    expect(await w.page.textContent('[data-testid="recent-agents"]')).toContain('agent-1');
    // the site name from the API, rendered as text
    expect(await w.page.textContent('[data-testid="site-name"]')).toBe('E2E <b>Mesh</b>');
    await w.page.waitForSelector('[data-testid="live-state"].open');
    await shot(w, 'dashboard');
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('packets page lists receptions and opens who heard one', async () => {
    const w = await open('/packets');
    await w.page.waitForSelector('[data-testid="open-receptions"]', { timeout: 30_000 });
    // pause the live append so the row we open stays where it is
    await w.page.click('[data-testid="pause"]');
    // the oldest row shown: long since in the API's store. A locator, not an element handle: the list may re-render
    // once more as the pause takes effect, and a locator finds the row again where a handle would be detached.
    await w.page.locator('[data-testid="open-receptions"]').last().click();
    try {
      await w.page.waitForFunction(() =>
        document.querySelector('[data-testid="receptions"] td')?.textContent?.includes('agent-1'),
      );
    } catch (err) {
      throw new Error(`receptions panel shows: ${await w.page.textContent('[data-testid="receptions"]')}`, {
        cause: err,
      });
    }
    await shot(w, 'packets');
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('packets page downloads the receptions of the filters on screen as a file', async () => {
    const w = await open('/packets?type=position&hours=1');
    const link = w.page.locator('[data-testid="download-ndjson"]');
    await link.waitFor({ timeout: 30_000 });
    expect(new URL((await link.getAttribute('href'))!, stack.url).searchParams.get('type')).toBe('position');
    const [download] = await Promise.all([w.page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^packets-\d{8}T\d{6}Z\.ndjson$/);
    const lines = readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\n');
    const rows = lines.map((l) => JSON.parse(l) as { id: string; type: string });
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set(['position']));
    // The store keeps receiving: every downloaded row is one the API lists for the same filters.
    const listed = new Set(
      ((await apiJson('/api/packets?type=position&hours=1&limit=5000')).packets as { id: string }[]).map((p) => p.id),
    );
    for (const r of rows) expect(listed.has(r.id), r.id).toBe(true);
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('nodes page lists the simulated nodes, and a hostile name stays text', async () => {
    const w = await open('/nodes');
    const total = stack.sim.nodes.length;
    await w.page.waitForFunction(
      (n) =>
        /Showing (\d+) of (\d+)/.exec(document.querySelector('[data-testid="showing"]')?.textContent ?? '')?.[2] ===
        String(n),
      total,
      { timeout: 30_000 },
    );
    const ids = await w.page.$$eval('[data-testid="node-row"]', (rows) =>
      rows.map((r) => r.getAttribute('data-node-id')),
    );
    expect(ids.length).toBeGreaterThanOrEqual(Math.min(total, 15));
    for (const id of ids) expect(stack.sim.nodes.map((n) => n.id)).toContain(id);
    await shot(w, 'nodes');

    await w.page.fill('[data-testid="node-search"]', '<img');
    await w.page.waitForFunction(() =>
      document.querySelector('[data-testid="showing"]')?.textContent?.startsWith('Showing 1 of'),
    );
    const row = await w.page.textContent('[data-testid="node-row"]');
    expect(row).toContain(HOSTILE);
    expect(await w.page.$$('img')).toHaveLength(0);
    await shot(w, 'nodes-hostile');
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('node detail shows identity, metrics and receptions; the hostile node is inert there too', async () => {
    const hostile = stack.sim.nodes.find((n) => n.longName === HOSTILE)!;
    const w = await open(`/nodes/${encodeURIComponent(hostile.id)}`);
    await w.page.waitForFunction(
      (name) => document.querySelector('[data-testid="long-name"]')?.textContent === name,
      HOSTILE,
    );
    expect(await w.page.$$('img')).toHaveLength(0);
    await w.page.close();

    const other = stack.sim.nodes.find((n) => n.num !== stack.sim.myNodeNum && n.longName !== HOSTILE)!;
    // Two telemetry points and a few positions on air now, so the chart and the track have something to draw.
    stack.sim.setBattery(other.num, 80);
    stack.sim.setBattery(other.num, 70);
    for (const k of [1, 2, 3]) stack.sim.movePosition(other.num, other.lat + k * 0.002, other.lon + k * 0.003);
    await waitFor(
      'the new positions in the API',
      async () => (((await apiJson(`/api/nodes/${other.id}/positions`)).positions as unknown[]) ?? []).length >= 3,
      30_000,
      500,
    );
    const d = await open(`/nodes/${encodeURIComponent(other.id)}`);
    await d.page.waitForFunction(
      (name) => document.querySelector('[data-testid="long-name"]')?.textContent === name,
      other.longName,
    );
    await d.page.waitForSelector('[data-testid="heard-by"] tbody tr td:nth-child(3)', { timeout: 30_000 });
    // A drawn chart: the battery series' own colour on a chart canvas (axes and grid are other colours).
    await d.page.waitForSelector('.chart canvas', { timeout: 60_000 });
    await waitFor(
      'a telemetry series drawn',
      async () => (await canvasColours(d.page, '.chart canvas', [colorFor(0)]))[colorFor(0)]! > 20,
      30_000,
      500,
    );
    // A drawn track: the node's positions as a line in the track colour.
    await waitFor(
      'the position track drawn',
      async () => (await canvasColours(d.page, '[data-testid="track-map"] canvas', ['#1976d2']))['#1976d2']! > 20,
      30_000,
      500,
    );
    await shot(d, 'node-detail');
    expect(d.errors).toEqual([]);
    await d.page.close();
  });

  it('map shows the nodes and moves one live, without a reload', async () => {
    const node = stack.sim.nodes.find((n) => !n.mobile && n.num !== stack.sim.myNodeNum && n.longName !== HOSTILE)!;
    const w = await open(`/map?node=${encodeURIComponent(node.id)}&hours=0`);
    await w.page.waitForFunction(
      () => Number(document.querySelector('[data-testid="map-shown"]')?.textContent) > 0,
      undefined,
      { timeout: 30_000 },
    );
    await w.page.waitForSelector(`.mmm-popup[data-node-id="${node.id}"]`, { timeout: 30_000 });
    await w.page.evaluate(() => {
      (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    await shot(w, 'map');

    const lat = 52.61234;
    const lon = 13.51234;
    stack.sim.movePosition(node.num, lat, lon);
    await w.page.waitForFunction(
      ({ id, text }) => document.querySelector(`.mmm-popup[data-node-id="${id}"]`)?.textContent?.includes(text),
      { id: node.id, text: `${lat.toFixed(5)}, ${lon.toFixed(5)}` },
      { timeout: 30_000 },
    );
    expect(await w.page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await shot(w, 'map-moved');
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('map draws neighbour links in their SNR colours and clusters nodes when zoomed out', async () => {
    const links = await waitFor(
      'links in /api/connections',
      async () => {
        const l = (await apiJson('/api/connections?hours=24')).connections as Record<string, unknown>[];
        return l.length > 0 ? l : undefined;
      },
      90_000,
      1000,
    );
    const w = await open('/map?hours=0');
    await w.page.waitForSelector('[data-testid="map"][data-loaded="true"]', { timeout: 30_000 });
    // Lines are coloured by SNR: every colour drawn is the colour of some link's SNR (either direction; grey when
    // unknown), and nothing in the links pane has another colour.
    const snrOf = (l: Record<string, unknown>) => (l.snr ?? l.snr_latest ?? l.snrLatest ?? null) as number | null;
    // Grey only for an SNR the API does not know, or a pair heard only one way (drawn from its lower id).
    const allowedFor = (ls: Record<string, unknown>[]) => {
      const out = new Set(ls.map((l) => snrColor(snrOf(l))));
      for (const [key, dirs] of pairsOf(ls)) {
        if (!dirs.some((l) => `${l.from_node_id}|${l.to_node_id}` === key)) out.add(snrColor(null));
      }
      return out;
    };
    const allowed = allowedFor(links);
    let got: Record<string, number> = {};
    await waitFor(
      'links drawn',
      async () => {
        got = await canvasColours(w.page, '.leaflet-links-pane canvas', SNR_COLOURS);
        return SNR_COLOURS.some((c) => got[c]! > 30);
      },
      30_000,
      500,
    );
    const drawn = SNR_COLOURS.filter((c) => got[c]! > 30);
    for (const c of allowedFor((await apiJson('/api/connections?hours=24')).connections as Record<string, unknown>[]))
      allowed.add(c);
    expect({ drawn, got }).toMatchObject({ drawn: drawn.filter((c) => allowed.has(c)) });
    // And the SNRs show: links of several SNR classes are drawn in several colours, not one.
    const grey = snrColor(null);
    const classes = new Set(
      links
        .filter((l) => String(l.from_node_id) < String(l.to_node_id))
        .map((l) => snrColor(snrOf(l)))
        .filter((c) => c !== grey),
    );
    expect(drawn.filter((c) => c !== grey).length).toBeGreaterThanOrEqual(Math.min(2, classes.size));
    expect(got.other).toBeLessThan(Object.values(got).reduce((a, b) => a + b, 0) / 10);
    await shot(w, 'map-links');
    // Without links nothing is drawn in the links pane.
    await w.page.goto(`${stack.url}/map?hours=0&links=0`, { waitUntil: 'domcontentloaded' });
    await w.page.waitForSelector('[data-testid="map"][data-loaded="true"]', { timeout: 30_000 });
    const none = await canvasColours(w.page, '.leaflet-links-pane canvas', SNR_COLOURS);
    expect(Object.values(none).reduce((a, b) => a + b, 0)).toBe(0);

    // Zoomed all the way out every node shown is in clusters whose counts add up to them.
    const shown = Number(await w.page.textContent('[data-testid="map-shown"]'));
    expect(shown).toBeGreaterThan(1);
    for (let i = 0; i < 16; i++) {
      const out = w.page.locator('.leaflet-control-zoom-out');
      if (await out.evaluate((e) => e.classList.contains('leaflet-disabled'))) break;
      await out.click();
      await w.page.waitForTimeout(300);
    }
    await waitFor(
      'clusters holding every node',
      async () => {
        const counts = await w.page.$$eval('.marker-cluster', (els) => els.map((e) => Number(e.textContent)));
        return counts.length > 0 && counts.reduce((a, b) => a + b, 0) === shown;
      },
      10_000,
      250,
    );
    await shot(w, 'map-clustered');
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('map draws traceroute paths in their SNR colours', async () => {
    const traces = await waitFor(
      'a successful traceroute in /api/traceroutes',
      async () => {
        const body = await apiJson('/api/traceroutes?hours=24&limit=500');
        const t = ((body.routes ?? body.traces) as Record<string, unknown>[]).filter(
          (r) => r.success === true || r.outcome === 'success',
        );
        return t.length > 0 ? t : undefined;
      },
      90_000,
      1000,
    );
    const w = await open('/map?hours=0&links=0&traces=1');
    await w.page.waitForSelector('[data-testid="map"][data-loaded="true"]', { timeout: 30_000 });
    let got: Record<string, number> = {};
    await waitFor(
      'traceroute segments drawn',
      async () => {
        got = await canvasColours(w.page, '.leaflet-links-pane canvas', SNR_COLOURS);
        return SNR_COLOURS.some((c) => got[c]! > 30);
      },
      30_000,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(got)} for ${JSON.stringify(traces[0])}`);
    });
    // Each hop is coloured by its SNR: every colour drawn is that of some hop of a successful traceroute.
    const body = await apiJson('/api/traceroutes?hours=24&limit=500');
    const now = [...traces, ...((body.routes ?? body.traces) as Record<string, unknown>[])];
    const hopSnrs = now.flatMap((t) => [...(t.snr_towards as number[]), ...(t.snr_back as number[])]);
    const allowed = new Set(hopSnrs.map((v) => snrColor(v)));
    // Grey for a hop whose SNR the route does not carry.
    const short = (route: unknown, snr: unknown) =>
      ((route as unknown[]) ?? []).length - 1 > ((snr as unknown[]) ?? []).length;
    if (now.some((t) => short(t.route_path, t.snr_towards) || short(t.route_back, t.snr_back)))
      allowed.add(snrColor(null));
    const drawn = SNR_COLOURS.filter((c) => got[c]! > 30);
    expect({ drawn, got }).toMatchObject({ drawn: drawn.filter((c) => allowed.has(c)) });
    const classes = new Set(hopSnrs.map((v) => snrColor(v)).filter((c) => c !== snrColor(null)));
    expect(drawn.filter((c) => c !== snrColor(null)).length).toBeGreaterThanOrEqual(Math.min(2, classes.size));
    expect(got.other).toBeLessThan(Object.values(got).reduce((a, b) => a + b, 0) / 10);
    await shot(w, 'map-traces');
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('map popup of the hostile node renders its name as text', async () => {
    const hostile = stack.sim.nodes.find((n) => n.longName === HOSTILE)!;
    const w = await open(`/map?node=${encodeURIComponent(hostile.id)}&hours=0`);
    await w.page.waitForSelector(`.mmm-popup[data-node-id="${hostile.id}"]`, { timeout: 30_000 });
    expect(await w.page.textContent(`.mmm-popup[data-node-id="${hostile.id}"] .popup-title`)).toContain(HOSTILE);
    expect(await w.page.$$('.leaflet-popup img')).toHaveLength(0);
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('topology draws the links route-analysis found', async () => {
    const w = await open('/topology');
    await w.page.waitForSelector('[data-testid="topology-node"]', { timeout: 90_000 });
    // Live updates may add links while we look: the drawing must settle on what the API answers.
    let last = '';
    await waitFor(
      'one line per linked node pair of /api/topology/graph',
      async () => {
        const graph = await apiJson('/api/topology/graph');
        const pairs = pairsOf(graph.links as Record<string, unknown>[]).size;
        const lines = await w.page.locator('[data-testid="topology-graph"] line').count();
        const stats = await w.page.textContent('[data-testid="topology-stats"]');
        last = `API ${pairs} pairs, page ${lines} lines, "${stats}"`;
        return pairs > 0 && lines === pairs && stats?.includes(`${pairs} links`);
      },
      30_000,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${last}`);
    });
    await shot(w, 'topology');
    await w.page.click('[data-testid="topology-node"] circle');
    await w.page.waitForURL(/\/nodes\//);
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('agents page lists the agent with its radio link (last: its first heartbeat has arrived by now)', async () => {
    const w = await open('/agents');
    await w.page.waitForFunction(() =>
      document.querySelector('[data-testid="agents-table"]')?.textContent?.includes('agent-1'),
    );
    await w.page.waitForFunction(() =>
      document.querySelector('[data-testid="agents-table"]')?.textContent?.includes('connected'),
    );
    await shot(w, 'agents');
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('no request left 127.0.0.1', () => {
    expect(offOrigin).toEqual([]);
  });
});
