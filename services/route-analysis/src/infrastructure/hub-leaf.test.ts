import { createLogger, ensureStream } from '@mmm/common';
import { DUPLICATE_WINDOW_MS, type Link, streams, subjects } from '@mmm/schemas';
import { type HubAndLeaves, startHubAndLeaves, waitFor } from '@mmm/testkit';
import { connect, nanos, StorageType } from 'nats';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { T0 } from '../test-events.js';
import { syntheticMesh } from '../test-mesh.js';
import { kvJson, publishEvents, testConfig } from '../test-nats.js';
import { startRouteAnalysis } from './service.js';

let net: HubAndLeaves;

beforeAll(async () => {
  net = await startHubAndLeaves(['s1', 's2']);
});

afterAll(async () => {
  await net?.dispose();
});

it('reads the hub stream as deployed: agents publish on their site leaf, the hub sources every site stream', async () => {
  const mesh = syntheticMesh(5150, { nodes: 20, agents: 2 });
  for (const site of ['s1', 's2']) {
    const leaf = await connect({ servers: net.leaves[site]!.url });
    await ensureStream(await leaf.jetstreamManager(), {
      name: streams.site(site),
      subjects: [subjects.siteAll(site)],
      storage: StorageType.File,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    });
    await publishEvents(
      leaf.jetstream(),
      mesh.events.filter((e) => 'site' in e && e.site === site),
    );
    await leaf.close();
  }
  const hub = await connect({ servers: net.hub.url });
  try {
    await ensureStream(await hub.jetstreamManager(), {
      name: streams.hub,
      storage: StorageType.File,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      sources: ['s1', 's2'].map((s) => ({
        name: streams.site(s),
        external: { api: `$JS.${streams.domain(s)}.API`, deliver: '' },
      })),
    });
    const jsm = await hub.jetstreamManager();
    await waitFor(
      'the hub to source every event',
      async () => (await jsm.streams.info(streams.hub)).state.messages === mesh.events.length,
      30_000,
    );
    const svc = await startRouteAnalysis(testConfig(net.hub.url), {
      log: createLogger({ name: 'hub-leaf-test', level: 'silent' }),
      clock: () => T0 + 3_600_000,
    });
    try {
      const links = await waitFor(
        'every true link in the snapshot',
        async () => {
          const l = await kvJson<Link[]>(hub, 'links');
          return l && l.length === mesh.links.length ? l : undefined;
        },
        30_000,
      );
      const truth = new Map(mesh.links.map((l) => [`${l.from}>${l.to}`, l.snr]));
      for (const l of links) expect(l.snrMedian).toBe(truth.get(`${l.from}>${l.to}`));
      expect(svc.stats().agents).toBe(2);
    } finally {
      await svc.stop();
    }
  } finally {
    await hub.close();
  }
});
