import { readFileSync } from 'node:fs';
import { nodeNumFromId } from '@mmm/schemas';
import { fixturePath } from '@mmm/testkit';
import { expect, it } from 'vitest';
import { neighborInfoRx } from '../test-events.js';
import { TopologyGraph } from './graph.js';
import { observe } from './observe.js';

interface Edge {
  node_id: string;
  neighbor_id: string;
  snr: number;
  rx_time: number;
}

const DAY = 86_400_000;

function build(edges: readonly Edge[], linkMaxAgeMs: number): TopologyGraph {
  // Rebuild the NeighborInfo packets the edges were flattened from: one per reporter and receive time.
  const reports = new Map<string, Edge[]>();
  for (const e of edges) {
    const k = `${e.node_id}@${e.rx_time}`;
    reports.set(k, [...(reports.get(k) ?? []), e]);
  }
  const g = new TopologyGraph({ linkMaxAgeMs, nodeMaxAgeMs: 7 * DAY, snrWindowMs: 21_600_000, maxSamples: 32 });
  let id = 1;
  for (const list of reports.values()) {
    const reporter = nodeNumFromId(list[0]!.node_id);
    const ev = neighborInfoRx(
      { from: reporter, id: id++, receivedAt: list[0]!.rx_time * 1000, hopStart: 3, hopLimit: 1, relayNode: 0 },
      reporter,
      list.map((e) => ({ nodeId: nodeNumFromId(e.neighbor_id), snr: e.snr })),
    );
    for (const o of observe(ev)) g.apply(o);
  }
  return g;
}

const edges = JSON.parse(readFileSync(fixturePath('potato-mesh_neighbors.json'), 'utf8')) as Edge[];
const newest = Math.max(...edges.map((e) => e.rx_time)) * 1000;

it('turns the 110 real NeighborInfo edges (18 reporters, 6.5 days) into exactly those directed links with their SNR', () => {
  expect(edges.length).toBe(110);
  const g = build(edges, 7 * DAY);
  const removed = g.flush(newest + 60_000).removedLinks;
  expect(removed).toEqual([]);
  expectLinks(g, edges);
});

it('keeps only the real edges reported within link_max_age of now', () => {
  const g = build(edges, 12 * 3_600_000);
  g.flush(newest + 60_000);
  const fresh = edges.filter((e) => newest - e.rx_time * 1000 <= 12 * 3_600_000);
  expect(fresh.length).toBe(87);
  expectLinks(g, fresh);
});

function expectLinks(g: TopologyGraph, edges: readonly Edge[]) {
  const links = g.allLinks();
  const want = new Map<string, number[]>();
  for (const e of edges) {
    const k = `${nodeNumFromId(e.neighbor_id)}>${nodeNumFromId(e.node_id)}`;
    want.set(k, [...(want.get(k) ?? []), e.snr]);
  }
  expect(links.map((l) => `${l.from}>${l.to}`).sort()).toEqual([...want.keys()].sort());
  for (const l of links) {
    const snrs = want.get(`${l.from}>${l.to}`)!;
    expect(snrs).toContain(l.snrLatest);
    expect(l.evidence).toEqual(['neighborinfo']);
    expect(l.quality).toBeGreaterThan(0);
    expect(l.quality).toBeLessThanOrEqual(1);
  }
}
