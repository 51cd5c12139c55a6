import { connect as tcpConnect } from 'node:net';
import { createLogger } from '@mmm/common';
import { create, encodeFrame, Mesh, toBinary } from '@mmm/meshtastic';
import { assertEvent, type Link, type MeshEvent, type Reception, type TraceOutcome } from '@mmm/schemas';
import { type SentPacket, type Simulator, startSimulator } from '@mmm/simulator';
import { type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRouteAnalysis } from './infrastructure/service.js';
import { nodeDb } from './test-events.js';
import { createHubStream, hubLastSeq, kvJson, publishEvents, testConfig } from './test-nats.js';

// The simulator's own model of the mesh (links(), pathToGateway(), expectedTraceroute()) is the truth; its radio-side
// packet headers and traceroute answers become the events an agent on its gateway would publish.

const SITE = 's1';
const AGENT = 'gw';
const snrDb = (x4: number) => (x4 === -128 ? null : x4 / 4);

let sim: Simulator;
let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  sim = await startSimulator({ nodes: 30, rate: 0, seed: 4242, clock: () => Date.now() });
  server = await startNatsServer({ name: 'route-analysis-sim' });
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
  await sim?.stop();
});

function traceOutcome(target: number, requestId: number, at: number): TraceOutcome {
  const rd = sim.expectedTraceroute(target);
  const me = sim.myNodeNum;
  return assertEvent({
    v: 1,
    kind: 'trace',
    site: SITE,
    agent: AGENT,
    requestId,
    from: me,
    to: target,
    startedAt: at - 3000,
    finishedAt: at,
    outcome: 'success',
    towards: { route: [me, ...rd.route, target], snr: rd.snrTowards.map(snrDb) },
    back: { route: [target, ...rd.routeBack, me], snr: rd.snrBack.map(snrDb) },
  });
}

/** The reception header as the gateway radio delivered it; the payload stays opaque (as for a private channel). */
function reception(p: SentPacket, at: number): Reception {
  const k = p.packet;
  return assertEvent({
    v: 1,
    kind: 'reception',
    site: SITE,
    agent: AGENT,
    receivedAt: at,
    source: 'radio',
    port: 'encrypted',
    packet: {
      from: k.from,
      to: k.to,
      id: k.id,
      channel: k.channel,
      rxTime: k.rxTime,
      rxSnr: k.rxSnr,
      rxRssi: k.rxRssi,
      hopStart: k.hopStart,
      hopLimit: k.hopLimit,
      relayNode: k.relayNode,
      nextHop: k.nextHop,
      wantAck: k.wantAck,
      viaMqtt: k.viaMqtt,
      priority: k.priority,
      pkiEncrypted: k.pkiEncrypted,
    },
    encryption: 'undecryptable',
    payload: { channelHash: k.channel, reason: 'test: payload not decoded' },
  } as unknown as Reception);
}

it('matches the simulator’s own topology: traced paths found with true SNR, no false links, true hop counts', async () => {
  // The gateway streams live packets only to a client that asked for its configuration.
  const socket = tcpConnect({ port: sim.port, host: sim.host });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('data', () => undefined);
  const want = create(Mesh.ToRadioSchema, { payloadVariant: { case: 'wantConfigId', value: 7 } });
  socket.write(encodeFrame(toBinary(Mesh.ToRadioSchema, want)));
  const received: SentPacket[] = [];
  const off = sim.onSent((p) => received.push(p));
  sim.setRate(200);
  await waitFor(
    'simulated traffic from every node',
    () => new Set(received.map((p) => p.from)).size >= sim.nodes.length - 1,
    30_000,
  );
  sim.setRate(0);
  off();
  socket.destroy();

  const now = Date.now();
  const events: MeshEvent[] = [
    nodeDb({ site: SITE, agent: AGENT, myNodeNum: sim.myNodeNum, takenAt: now - 60_000 }),
    ...sim.nodes.filter((n) => n.num !== sim.myNodeNum).map((n, i) => traceOutcome(n.num, i + 1, now - 50_000 + i)),
    ...received.map((p, i) => reception(p, now - 40_000 + i)),
  ];
  const jsm = await nc.jetstreamManager();
  await createHubStream(jsm, [SITE]);
  await publishEvents(nc.jetstream(), events);
  const svc = await startRouteAnalysis(testConfig(server.url), {
    log: createLogger({ name: 'sim-test', level: 'silent' }),
  });
  try {
    const last = await hubLastSeq(jsm);
    await waitFor(
      'the analysis to catch up',
      async () => ((await kvJson<{ lastSeq: number }>(nc, 'meta', 'mesh_topology_state'))?.lastSeq ?? 0) >= last,
      30_000,
    );
    const found = new Map((await kvJson<Link[]>(nc, 'links'))!.map((l) => [`${l.from}>${l.to}`, l]));
    const truth = new Map(sim.links().map((l) => [`${l.from}>${l.to}`, l]));

    // No false links, and SNR as the simulator models it (direct receptions carry ±1 dB of per-packet noise).
    for (const [k, l] of found) {
      const t = truth.get(k);
      expect(t, `found link ${k} is not in the simulator's mesh`).toBeDefined();
      expect(Math.abs(l.snrMedian! - t!.snr), k).toBeLessThanOrEqual(l.evidence.includes('direct') ? 1 : 0);
    }
    // Every hop of every traced path, both directions, with its exact SNR.
    let traced = 0;
    for (const n of sim.nodes) {
      if (n.num === sim.myNodeNum) continue;
      const back = sim.pathToGateway(n.num);
      for (const p of [back, [...back].reverse()]) {
        for (let i = 0; i + 1 < p.length; i++) {
          const k = `${p[i]}>${p[i + 1]}`;
          expect(found.get(k), `traced link ${k}`).toMatchObject({ snrLatest: expect.any(Number) });
          expect(found.get(k)!.evidence).toContain('traceroute');
          traced++;
        }
      }
    }
    expect(traced).toBeGreaterThan(sim.nodes.length);
    // Every node the gateway heard with zero hops is a direct link into the gateway.
    for (const p of received.filter((r) => r.packet.hopStart === r.packet.hopLimit && r.from !== sim.myNodeNum)) {
      expect(found.get(`${p.from}>${sim.myNodeNum}`)?.evidence).toContain('direct');
    }
    // The node that really relayed each multi-hop packet is among the candidates for its relay byte.
    const relays = (await kvJson<{ relays: { relayByte: number; candidates: number[] }[] }>(
      nc,
      `relays.${SITE}.${AGENT}`,
    ))!;
    let relayed = 0;
    for (const p of received.filter((r) => r.packet.hopStart > r.packet.hopLimit)) {
      const path = sim.pathToGateway(p.from);
      const relayer = path[path.length - 2]!;
      expect(relays.relays.find((e) => e.relayByte === (relayer & 0xff))?.candidates, `relay of ${p.from}`).toContain(
        relayer,
      );
      relayed++;
    }
    expect(relayed).toBeGreaterThan(0);
    // Hop distances equal the simulator's hopsAway for every node.
    const hops = (await kvJson<{ distances: Record<string, number> }>(nc, `hops.${SITE}.${AGENT}`))!;
    for (const n of sim.nodes)
      if (n.num !== sim.myNodeNum) expect(hops.distances[n.num], `hops of ${n.id}`).toBe(n.hopsAway);
  } finally {
    await svc.stop();
  }
});
