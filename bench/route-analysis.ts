// `npm run bench -- route-analysis [rounds]`: hub-stream events per second the route analysis turns into topology.
// Cases:
//   rebuild  a stream already holding the events, read from the start (first start / --rebuild)
//   live     events published while the service runs, until its checkpoint covers the last one
// Events: a seeded synthetic mesh (60 nodes, 3 agents): neighbour reports, receptions (zero-hop and relayed),
// traceroutes, in `rounds` rounds (default 60, about 15k events).
// Baseline: raw JetStream publishes/s of the same events (200 in flight) to the same nats-server in the same run.

import { createLogger } from '@mmm/common';
import { startRouteAnalysis } from '@mmm/route-analysis';
import { startNatsServer, waitFor } from '@mmm/testkit';
import { connect } from 'nats';
import { syntheticMesh } from '../services/route-analysis/src/test-mesh.js';
import {
  createHubStream,
  hubLastSeq,
  kvJson,
  publishEvents,
  testConfig,
} from '../services/route-analysis/src/test-nats.js';

const rounds = Number(process.argv[2] ?? 60);
const log = createLogger({ name: 'bench', level: 'silent' });

async function caughtUp(nc: Parameters<typeof kvJson>[0], last: number) {
  await waitFor(
    'the checkpoint to cover the stream',
    async () => ((await kvJson<{ lastSeq: number }>(nc, 'meta', 'mesh_topology_state'))?.lastSeq ?? 0) >= last,
    600_000,
    20,
  );
}

const server = await startNatsServer({ name: 'bench-route-analysis' });
const nc = await connect({ servers: server.url });
try {
  const jsm = await nc.jetstreamManager();
  await createHubStream(jsm);
  const mesh = syntheticMesh(99, { nodes: 60, rounds, t0: Date.now() - 3_600_000 });
  const events = mesh.events;
  process.stderr.write(`${events.length} events per case\n`);

  let t = performance.now();
  await publishEvents(nc.jetstream(), events);
  const rawPublishPerS = events.length / ((performance.now() - t) / 1000);

  t = performance.now();
  const svc = await startRouteAnalysis(testConfig(server.url, 'batch = 1000\nflush_interval = 1000'), { log });
  await caughtUp(nc, await hubLastSeq(jsm));
  const rebuildPerS = events.length / ((performance.now() - t) / 1000);
  const print = (c: string, perS: number) =>
    process.stdout.write(
      `${JSON.stringify({ scenario: 'route-analysis', case: c, events: events.length, links: svc.stats().links, events_per_s: Math.round(perS), raw_publish_per_s: Math.round(rawPublishPerS), ratio: Math.round((perS / rawPublishPerS) * 100) / 100 })}\n`,
    );
  print('rebuild', rebuildPerS);

  t = performance.now();
  await publishEvents(nc.jetstream(), events, ':live');
  await caughtUp(nc, await hubLastSeq(jsm));
  print('live', events.length / ((performance.now() - t) / 1000));
  await svc.stop();
} finally {
  await nc.close();
  await server.dispose();
}
