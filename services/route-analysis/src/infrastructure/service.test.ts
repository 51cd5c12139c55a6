import { createLogger, readStreamRange } from '@mmm/common';
import { type Link, streams, subjects, type TopologyUpdate, validateEvent } from '@mmm/schemas';
import { type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphSettings } from '../config.js';
import { TopologyGraph } from '../domain/graph.js';
import { observe } from '../domain/observe.js';
import { T0, textRx } from '../test-events.js';
import { syntheticMesh } from '../test-mesh.js';
import { createHubStream, hubLastSeq, kvJson, publishEvents, testConfig } from '../test-nats.js';
import { startRouteAnalysis } from './service.js';

const log = createLogger({ name: 'route-analysis-test', level: process.env.RA_TEST_LOG ?? 'silent' });
// The synthetic events are from T0; the clock the service ages links with sits an hour later.
const clock = () => T0 + 3_600_000;

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer({ name: 'route-analysis' });
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

async function resetStreams() {
  const jsm = await nc.jetstreamManager();
  for (const s of [streams.hub, streams.derived, streams.deadLetters, 'KV_mesh_topology', 'KV_mesh_topology_state']) {
    await jsm.streams.delete(s).catch(() => undefined);
  }
  await createHubStream(jsm);
  return jsm;
}

async function caughtUp(svc: { stats(): { lastSeq: number } }) {
  const jsm = await nc.jetstreamManager();
  const last = await hubLastSeq(jsm);
  await waitFor(
    `analysis to reach seq ${last}`,
    async () => {
      const meta = await kvJson<{ lastSeq: number }>(nc, 'meta', 'mesh_topology_state');
      return svc.stats().lastSeq >= last && meta !== undefined && meta.lastSeq >= last;
    },
    30_000,
  );
}

const key = (l: { from: number; to: number }) => `${l.from}>${l.to}`;

describe('route-analysis service against a real nats-server', () => {
  it('builds the synthetic mesh’s topology, snapshots it in KV for other clients, and publishes valid updates', async () => {
    const jsm = await resetStreams();
    const mesh = syntheticMesh(2026, { nodes: 30 });
    await publishEvents(nc.jetstream(), mesh.events);
    const svc = await startRouteAnalysis(testConfig(server.url), { log, clock });
    try {
      await caughtUp(svc);
      expect(svc.stats().rebuilt).toBe(true);
      // A separate client reads the snapshot.
      const reader = await connect({ servers: server.url });
      try {
        const links = (await kvJson<Link[]>(reader, 'links'))!;
        const found = new Map(links.map((l) => [key(l), l]));
        for (const l of mesh.links) {
          expect(found.get(key(l)), key(l)).toMatchObject({
            from: l.from,
            to: l.to,
            snrLatest: l.snr,
            snrMedian: l.snr,
          });
        }
        expect(links.length).toBe(mesh.links.length);
        const one = mesh.links[0]!;
        const perKey = await kvJson<Link>(
          reader,
          `link.${one.from.toString(16).padStart(8, '0')}.${one.to.toString(16).padStart(8, '0')}`,
        );
        expect(perKey).toEqual(found.get(key(one)));
        for (const a of mesh.agents) {
          const hops = await kvJson<{ distances: Record<string, number> }>(reader, `hops.${a.site}.${a.agent}`);
          const truth = mesh.hopsTo(a.node);
          truth.delete(a.node);
          expect(Object.keys(hops!.distances).length).toBe(truth.size);
          for (const [n, d] of truth) expect(hops!.distances[n]).toBe(d - 1);
        }
      } finally {
        await reader.close();
      }
      // Every published update is a valid TopologyUpdate; together the link updates carry every link.
      const updates = await readDerived();
      for (const u of updates) expect(validateEvent(u).ok, JSON.stringify(validateEvent(u))).toBe(true);
      const published = new Set(updates.flatMap((u) => (u.type === 'link' ? (u.links ?? []).map(key) : [])));
      expect(published.size).toBe(mesh.links.length);
      expect(
        updates
          .filter((u) => u.type === 'hops')
          .map((u) => u.hops!.agent)
          .sort(),
      ).toEqual(mesh.agents.map((a) => a.agent).sort());
      expect(updates.some((u) => u.type === 'relay')).toBe(true);
      // New evidence arriving live is published as a coalesced change of only the links it touched.
      const before = updates.length;
      const [a] = mesh.agents;
      const near = mesh.links.find((l) => l.to === a!.node)!;
      await publishEvents(
        nc.jetstream(),
        [1, 2, 3].map((i) =>
          textRx({
            site: a!.site,
            agent: a!.agent,
            from: near.from,
            id: 900_000 + i,
            rxSnr: near.snr,
            hopStart: 3,
            hopLimit: 3,
            receivedAt: T0 + 10_000 + i,
          }),
        ),
      );
      await caughtUp(svc);
      const live = await waitFor('a live link update', async () => {
        const u = (await readDerived()).slice(before).filter((x) => x.type === 'link');
        return u.length > 0 ? u : undefined;
      });
      expect(live.flatMap((u) => u.links!.map(key))).toEqual([key(near)]);
      // Every event, the live ones included, went out to the service: nothing pending on its durable.
      const ci = await jsm.consumers.info(streams.hub, 'route-analysis');
      expect(ci.num_pending).toBe(0);
      expect(ci.delivered.stream_seq).toBe((await jsm.streams.info(streams.hub)).state.last_seq);
    } finally {
      await svc.stop();
    }
  });

  it('sends malformed events to the dead-letter subject with a reason and keeps processing good ones', async () => {
    await resetStreams();
    const js = nc.jetstream();
    const good = syntheticMesh(9, { nodes: 12, agents: 1 });
    const half = Math.floor(good.events.length / 2);
    await publishEvents(js, good.events.slice(0, half));
    await js.publish(subjects.trace('s1', 'agent-0'), 'not json at all', { msgID: 'bad-1' });
    await js.publish(subjects.rx('s1', 'agent-0', 'text'), JSON.stringify({ v: 1, kind: 'reception', site: 's1' }), {
      msgID: 'bad-2',
    });
    // Valid JSON event, but published on another agent's subject.
    await js.publish(subjects.nodedb('s1', 'intruder'), JSON.stringify(good.events[0]), { msgID: 'bad-3' });
    await js.publish(subjects.rx('s1', 'agent-0', 'text'), new Uint8Array([0xff, 0xfe, 0x00]), { msgID: 'bad-4' });
    await publishEvents(js, good.events.slice(half));
    const svc = await startRouteAnalysis(testConfig(server.url), { log, clock });
    try {
      await caughtUp(svc);
      const dead = await readStream(streams.deadLetters, 4);
      expect(dead.map((d) => d.subject)).toEqual([
        subjects.trace('s1', 'agent-0'),
        subjects.rx('s1', 'agent-0', 'text'),
        subjects.nodedb('s1', 'intruder'),
        subjects.rx('s1', 'agent-0', 'text'),
      ]);
      expect(dead[0]!.reason).toMatch(/not JSON/);
      expect(dead[1]!.reason).toMatch(/^\//);
      expect(dead[2]!.reason).toMatch(/intruder/);
      expect(dead[3]).toMatchObject({
        payloadEncoding: 'base64',
        payload: Buffer.from([0xff, 0xfe, 0]).toString('base64'),
      });
      for (const d of dead) expect(validateEvent(d).ok).toBe(true);
      const links = (await kvJson<Link[]>(nc, 'links'))!;
      expect(links.length).toBe(good.links.length);
      expect(svc.stats().deadLetters).toBe(4);
    } finally {
      await svc.stop();
    }
  });

  it('resumes from its checkpoint without double counting, and a rebuild gives the same graph', async () => {
    const jsm = await resetStreams();
    const js = nc.jetstream();
    const mesh = syntheticMesh(77, { nodes: 25 });
    const cut = Math.floor(mesh.events.length / 2);
    const cfg = testConfig(server.url);
    let svc = await startRouteAnalysis(cfg, { log, clock });
    await publishEvents(js, mesh.events.slice(0, cut));
    await caughtUp(svc);
    await svc.stop();
    // While it is down: the rest, plus the first half again under new Msg-Ids (a sourcing duplicate).
    await publishEvents(js, mesh.events.slice(cut));
    await publishEvents(js, mesh.events.slice(0, cut), ':dup');
    svc = await startRouteAnalysis(cfg, { log, clock });
    expect(svc.stats().rebuilt).toBe(false);
    await caughtUp(svc);
    const resumed = await kvJson<Link[]>(nc, 'links');
    const resumedState = svc.stats();
    await svc.stop();

    const expected = new TopologyGraph(graphSettings(cfg));
    for (const ev of mesh.events) for (const o of observe(ev)) expected.apply(o);
    expected.flush(clock());
    expect(resumed).toEqual(expected.allLinks());

    svc = await startRouteAnalysis(cfg, { log, clock, rebuild: true });
    try {
      expect(svc.stats().rebuilt).toBe(true);
      await caughtUp(svc);
      expect(await kvJson<Link[]>(nc, 'links')).toEqual(resumed);
      expect(svc.stats().lastSeq).toBe(resumedState.lastSeq);
      // The durable consumer continues after the rebuilt position: nothing is left pending.
      const ci = await jsm.consumers.info(streams.hub, 'route-analysis');
      expect(ci.num_pending).toBe(0);
    } finally {
      await svc.stop();
    }
  });
});

async function readStream<T = Record<string, unknown>>(stream: string, atLeast = 0): Promise<T[]> {
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  return waitFor(`${atLeast} messages on ${stream}`, async () => {
    const info = await jsm.streams.info(stream);
    if (info.state.messages < atLeast) return undefined;
    const out: T[] = [];
    await readStreamRange(js, jsm, { stream }, (m) => {
      out.push(m.json<T>());
    });
    return out.length >= info.state.messages ? out : undefined;
  });
}

function readDerived(): Promise<TopologyUpdate[]> {
  return readStream<TopologyUpdate>(streams.derived);
}
