import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HubCluster, leafConnections, startHubCluster, waitFor } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type ApiProcess,
  json,
  provisionCluster,
  publishSite,
  type SiteLoad,
  siteEvents,
  startApiProcess,
} from './test-sites.js';

const SITES = ['north', 'south'];

let hub: HubCluster;
const apis: ApiProcess[] = [];
const sockets: WebSocket[] = [];
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mmm-api-copies-'));
  hub = await startHubCluster({ nodes: 3, sites: SITES });
  await Promise.all(
    SITES.map((s) => waitFor(`leaf ${s} linked`, async () => (await leafConnections(hub.leaves[s]!)) > 0, 60_000, 250)),
  );
}, 180_000);

afterAll(async () => {
  for (const s of sockets) s.terminate();
  await Promise.all(apis.map((a) => a.stop()));
  await hub?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Receptions a live-feed client was sent, by packet key. */
function liveReceptions(url: string): { keys: Set<string>; ready: Promise<void> } {
  const keys = new Set<string>();
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/live`);
  sockets.push(ws);
  const ready = new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; packet?: Record<string, unknown> };
      if (m.type === 'snapshot') resolve();
      if (m.type === 'reception' && m.packet)
        keys.add(`${m.packet.agent_id}:${m.packet.from_node}:${m.packet.packet_id}`);
    });
  });
  return { keys, ready };
}

/** The same list from two copies, independent of the order of rows with equal timestamps. */
const canonical = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();

describe('the API as two copies on one hub (each its own projection and live feed)', () => {
  it('answers /api/stats, /api/agents, /api/nodes and /api/packets the same after the same load, and both live feeds carry every reception', async () => {
    await provisionCluster(hub, SITES);
    // Two processes, as two pods behind a load balancer: own instance id (durable consumers), own database.
    apis.push(await startApiProcess(dir, 'a', hub), await startApiProcess(dir, 'b', hub));
    const feeds = apis.map((a) => liveReceptions(a.url));
    await Promise.all(feeds.map((f) => f.ready));

    const loads: SiteLoad[] = SITES.map((site) => ({
      site,
      agents: [`${site}-gw-1`, `${site}-gw-2`],
      receptionsPerAgent: 150,
      shared: 20,
    }));
    await Promise.all(
      loads.map((l, i) => publishSite(hub.leaves[l.site]!.url, l.site, siteEvents(l, 0x2000 * (i + 1)))),
    );
    const total = loads.reduce((n, l) => n + l.agents.length * l.receptionsPerAgent, 0);

    for (const api of apis) {
      await waitFor(
        `${total} receptions at ${api.url}`,
        async () => (await json(`${api.url}/api/stats`)).packets.total === total,
        120_000,
        500,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${api.output()}`);
      });
    }
    const [a, b] = apis as [ApiProcess, ApiProcess];
    const both = async (path: string) => Promise.all([json(`${a.url}${path}`), json(`${b.url}${path}`)]);

    const [sa, sb] = await both('/api/stats');
    expect(sa).toEqual(sb);
    expect(sa.agents.total).toBe(4);

    const [aa, ab] = await both('/api/agents');
    expect(canonical(aa.agents)).toEqual(canonical(ab.agents));
    expect(aa.agents).toHaveLength(4);

    const [na, nb] = await both('/api/nodes');
    const nodesOf = (body: unknown) => (Array.isArray(body) ? body : (body as { nodes: unknown[] }).nodes);
    expect(canonical(nodesOf(na))).toEqual(canonical(nodesOf(nb)));
    expect(nodesOf(na).length).toBeGreaterThan(0);

    const [pa, pb] = await both('/api/packets?limit=5000');
    expect(pa.packets).toHaveLength(total);
    expect(canonical(pa.packets)).toEqual(canonical(pb.packets));

    // Each copy's live feed is fed by its own consumers: both carried every reception.
    for (const [i, f] of feeds.entries()) {
      await waitFor(`live feed ${i} to carry ${total} receptions`, () => f.keys.size === total, 60_000, 250);
    }
    expect([...feeds[0]!.keys].sort()).toEqual([...feeds[1]!.keys].sort());
  }, 300_000);
});
