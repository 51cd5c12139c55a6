import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HubCluster, leafConnections, startHubCluster, waitFor } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiProcess,
  json,
  provisionCluster,
  publishSite,
  type SiteLoad,
  siteEvents,
  startApiProcess,
} from './test-sites.js';

const SITES = Array.from({ length: 10 }, (_, i) => `site${String(i + 1).padStart(2, '0')}`);
const AGENTS_PER_SITE = 2;
const RECEPTIONS_PER_AGENT = 60;
/** Packets heard by both agents of a site: one packet, two receptions. */
const SHARED = 10;

let hub: HubCluster;
let api: ApiProcess | undefined;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mmm-sites-'));
  // Ten leaves, each linked to all three hub nodes; thirteen nats-servers on the shared box.
  hub = await startHubCluster({ nodes: 3, sites: SITES });
  await Promise.all(
    SITES.map((s) => waitFor(`leaf ${s} linked`, async () => (await leafConnections(hub.leaves[s]!)) > 0, 60_000, 250)),
  );
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await hub?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('ten sites into the three-node hub', () => {
  it('the API shows every site, every agent and every reception', async () => {
    await provisionCluster(hub, SITES);
    api = await startApiProcess(dir, 'sites', hub);
    const loads: SiteLoad[] = SITES.map((site) => ({
      site,
      agents: Array.from({ length: AGENTS_PER_SITE }, (_, a) => `gw-${site}-${a + 1}`),
      receptionsPerAgent: RECEPTIONS_PER_AGENT,
      shared: SHARED,
    }));
    // Every site publishes at once on its own leaf, as ten agents' hosts would.
    await Promise.all(
      loads.map((l, i) => publishSite(hub.leaves[l.site]!.url, l.site, siteEvents(l, 0x1000 * (i + 1)))),
    );
    const total = SITES.length * AGENTS_PER_SITE * RECEPTIONS_PER_AGENT;

    const stats = await waitFor(
      `${total} receptions in /api/stats`,
      async () => {
        const s = await json(`${api!.url}/api/stats`);
        return s.packets.total >= total ? s : undefined;
      },
      120_000,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${api!.output()}`);
    });
    expect(stats.packets.total).toBe(total);
    expect(stats.agents.total).toBe(SITES.length * AGENTS_PER_SITE);

    const { agents } = await json(`${api.url}/api/agents`);
    const seen = new Map<string, string>(agents.map((a: { agent_id: string; site: string }) => [a.agent_id, a.site]));
    for (const l of loads) for (const a of l.agents) expect(seen.get(a), a).toBe(l.site);
    expect(agents).toHaveLength(SITES.length * AGENTS_PER_SITE);

    for (const l of loads) {
      const { packets } = await json(`${api.url}/api/packets?site=${l.site}&limit=5000`);
      expect(packets.length, l.site).toBe(AGENTS_PER_SITE * RECEPTIONS_PER_AGENT);
      for (const a of l.agents) {
        expect(packets.filter((p: { agent_id: string }) => p.agent_id === a).length, a).toBe(RECEPTIONS_PER_AGENT);
      }
    }
    // A packet both agents of a site heard is one packet with two receptions.
    const first = loads[0]!;
    const { receptions } = await json(
      `${api.url}/api/packets/!${(0x1000).toString(16).padStart(8, '0')}/${0x1000 * 10}/receptions`,
    );
    expect(receptions.map((r: { agent_id: string }) => r.agent_id).sort()).toEqual([...first.agents].sort());
  }, 300_000);
});
