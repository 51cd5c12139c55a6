import { describe, expect, it } from 'vitest';
import { neighborInfoRx, nodeDb, T0, textRx, trace } from '../test-events.js';
import { type SyntheticMesh, syntheticMesh } from '../test-mesh.js';
import { TopologyGraph } from './graph.js';
import { observe } from './observe.js';
import type { GraphSettings } from './types.js';

const HOUR = 3_600_000;
const settings: GraphSettings = {
  linkMaxAgeMs: 12 * HOUR,
  nodeMaxAgeMs: 7 * 24 * HOUR,
  snrWindowMs: 6 * HOUR,
  maxSamples: 32,
};

function build(events: Parameters<typeof observe>[0][], s = settings): TopologyGraph {
  const g = new TopologyGraph(s);
  for (const ev of events) for (const o of observe(ev)) g.apply(o);
  return g;
}

function expectMatches(g: TopologyGraph, mesh: SyntheticMesh) {
  const found = new Map(g.allLinks().map((l) => [`${l.from}>${l.to}`, l]));
  for (const l of mesh.links) {
    const got = found.get(`${l.from}>${l.to}`);
    expect(got, `link ${l.from}>${l.to}`).toBeDefined();
    expect(got!.snrLatest).toBe(l.snr);
    expect(got!.snrMedian).toBe(l.snr);
  }
  expect(found.size).toBe(mesh.links.length);
}

describe('TopologyGraph', () => {
  it('finds every link of a synthetic mesh with its direction and SNR, and no false link', () => {
    const mesh = syntheticMesh(42);
    expect(mesh.links.length).toBeGreaterThan(40);
    const g = build([...mesh.events]);
    expectMatches(g, mesh);
  });

  it('gives each agent the true hop distance to every node and cross-checks it with observed hops', () => {
    const mesh = syntheticMesh(7);
    const g = build([...mesh.events]);
    const hops = g.hops();
    expect(hops.map((h) => `${h.site}.${h.agent}`)).toEqual(mesh.agents.map((a) => `${a.site}.${a.agent}`).sort());
    for (const h of hops) {
      const truth = mesh.hopsTo(h.agentNode);
      truth.delete(h.agentNode);
      expect(h.distances).toEqual(
        Object.fromEntries([...truth].sort((a, b) => a[0] - b[0]).map(([n, d]) => [String(n), d - 1])),
      );
      for (const [n, d] of Object.entries(h.observed)) expect(h.distances[n]).toBe(d);
    }
  });

  it('narrows relay-byte candidates to the agent radio’s neighbours and always includes the true relay', () => {
    const mesh = syntheticMesh(3, { nodes: 40 });
    const g = build([...mesh.events]);
    const relays = g.relays();
    expect(relays.length).toBeGreaterThan(0);
    let ambiguousWithoutNarrowing = 0;
    for (const r of relays) {
      const used = mesh.relaysUsed.get(`${r.site}.${r.agent}`)!;
      for (const e of r.relays) {
        expect(e.narrowed).toBe(true);
        for (const n of used.get(e.relayByte) ?? []) expect(e.candidates).toContain(n);
        if (mesh.nodes.filter((n) => (n & 0xff) === e.relayByte).length > e.candidates.length)
          ambiguousWithoutNarrowing++;
      }
    }
    // The mesh reuses 9 low bytes across 40 nodes: narrowing must have removed someone somewhere.
    expect(ambiguousWithoutNarrowing).toBeGreaterThan(0);
  });

  it('is idempotent: the same events applied twice (or in another order) give the same graph', () => {
    const mesh = syntheticMesh(11);
    const once = build([...mesh.events]);
    const twice = build([...mesh.events, ...mesh.events]);
    const reversed = build([...mesh.events].reverse());
    expect(twice.exportState()).toEqual(once.exportState());
    expect(reversed.allLinks()).toEqual(once.allLinks());
    expect(reversed.hops()).toEqual(once.hops());
  });

  it('counts a traceroute once whether seen as the outcome or as overheard replies', () => {
    const ev = trace({
      requestId: 9,
      from: 1,
      to: 2,
      towards: { route: [1, 2], snr: [5] },
      back: { route: [2, 1], snr: [6] },
    });
    const g = build([ev, ev, { ...ev, agent: 'a2', finishedAt: T0 + 10 }]);
    expect(g.allLinks().map((l) => [l.from, l.to, l.samples])).toEqual([
      [1, 2, 1],
      [2, 1, 1],
    ]);
  });

  it('keeps latest and median SNR over the window and scores quality from them', () => {
    const snrs = [-10, 2, 3, 4, 30];
    const events = snrs.map((snr, i) => textRx({ from: 9, id: 100 + i, rxSnr: snr, receivedAt: T0 + i * 60_000 }));
    const g = build([nodeDb({ myNodeNum: 1, takenAt: T0 - 1 }), ...events]);
    const [l] = g.allLinks();
    expect(l).toMatchObject({
      from: 9,
      to: 1,
      snrLatest: 30,
      snrMedian: 3,
      samples: 5,
      evidence: ['direct'],
      firstSeen: T0,
      lastSeen: T0 + 4 * 60_000,
    });
    // snrScore (3 + 20) / 30, full confidence with 5 samples.
    expect(l!.quality).toBeCloseTo(23 / 30, 3);
    // A sample older than the window relative to the newest one does not count towards the median.
    const late = build([
      nodeDb({ myNodeNum: 1, takenAt: T0 - 1 }),
      textRx({ from: 9, id: 1, rxSnr: -19, receivedAt: T0 }),
      textRx({ from: 9, id: 2, rxSnr: 8, receivedAt: T0 + 7 * HOUR }),
    ]);
    expect(late.allLinks()[0]).toMatchObject({ snrMedian: 8, samples: 1, firstSeen: T0 });
  });

  it('holds direct receptions until the agent’s node number is known', () => {
    const g = build([textRx({ from: 9, id: 1, rxSnr: 4 }), nodeDb({ myNodeNum: 1, takenAt: T0 + 1 })]);
    expect(g.allLinks().map((l) => [l.from, l.to, l.snrLatest])).toEqual([[9, 1, 4]]);
  });

  it('ages out evidence and links, and reports removals and changes once per flush', () => {
    const g = new TopologyGraph(settings);
    const apply = (ev: Parameters<typeof observe>[0]) => {
      for (const o of observe(ev)) g.apply(o);
    };
    apply(nodeDb({ myNodeNum: 1 }));
    apply(textRx({ from: 9, id: 1, rxSnr: 4 }));
    apply(
      neighborInfoRx({ from: 9, id: 2, hopStart: 3, hopLimit: 3, receivedAt: T0 + 6 * HOUR }, 9, [
        { nodeId: 1, snr: 2 },
      ]),
    );
    const first = g.flush(T0 + 6 * HOUR);
    expect(first.links.map((l) => [l.from, l.to])).toEqual([
      [1, 9],
      [9, 1],
    ]);
    expect(first.hops).toEqual([
      { site: 's1', agent: 'a1', agentNode: 1, distances: { '9': 0 }, observed: { '9': 0 } },
    ]);
    expect(g.flush(T0 + 6 * HOUR).links).toEqual([]);
    // 12 h after the first direct reception only the neighbour-info link 1 -> 9 is fresh; 9 -> 1 (direct) went,
    // but the neighbour-info packet itself was heard directly at +6 h and refreshed 9 -> 1 too.
    const later = g.flush(T0 + 12 * HOUR + 1);
    expect(later.removedLinks).toEqual([]);
    const gone = g.flush(T0 + 18 * HOUR + 1);
    expect(gone.removedLinks).toEqual([
      { from: 1, to: 9 },
      { from: 9, to: 1 },
    ]);
    expect(gone.hops).toEqual([{ site: 's1', agent: 'a1', agentNode: 1, distances: {}, observed: {} }]);
    expect(g.allLinks()).toEqual([]);
  });

  it('restores from its exported state and reports nothing new until something changes', () => {
    const mesh = syntheticMesh(5);
    const g = build([...mesh.events]);
    g.flush(T0 + HOUR);
    const restored = TopologyGraph.fromState(settings, JSON.parse(JSON.stringify(g.exportState())));
    expect(restored.allLinks()).toEqual(g.allLinks());
    const next = restored.flush(T0 + HOUR);
    expect([next.links, next.hops, next.relays]).toEqual([[], [], []]);
    // Replaying the tail of the stream after a restart changes nothing.
    for (const ev of mesh.events.slice(-20)) for (const o of observe(ev)) restored.apply(o);
    expect(restored.flush(T0 + HOUR).links).toEqual([]);
  });
});
