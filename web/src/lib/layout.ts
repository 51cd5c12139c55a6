import {
  forceCenter,
  forceCollide,
  forceLink,
  forceManyBody,
  forceSimulation,
  type SimulationNodeDatum,
} from 'd3-force';
import type { LinkRow } from './types.js';

// Force layout for the topology page: computed to rest up front (no animation loop), deterministic for the same
// input because d3-force places nodes on a phyllotaxis spiral before the first tick.

export interface LaidNode extends SimulationNodeDatum {
  readonly id: string;
  x: number;
  y: number;
}

export interface LaidLink {
  readonly link: LinkRow;
  readonly source: LaidNode;
  readonly target: LaidNode;
}

export function layout(
  ids: readonly string[],
  links: readonly LinkRow[],
  ticks = 300,
): { nodes: LaidNode[]; links: LaidLink[] } {
  const nodes: LaidNode[] = ids.map((id) => ({ id, x: 0, y: 0 }));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const simLinks = links
    .filter((l) => byId.has(l.from) && byId.has(l.to) && l.from !== l.to)
    .map((l) => ({ link: l, source: byId.get(l.from)!, target: byId.get(l.to)! }));
  const sim = forceSimulation(nodes)
    .force('charge', forceManyBody().strength(-120).distanceMax(600))
    .force(
      'link',
      forceLink(simLinks.map((l) => ({ source: l.source, target: l.target })))
        .distance(60)
        .strength(0.6),
    )
    .force('collide', forceCollide(14))
    .force('center', forceCenter(0, 0))
    .stop();
  const n = Math.min(ticks, Math.max(50, Math.round(300_000 / Math.max(1, nodes.length))));
  for (let i = 0; i < n; i++) sim.tick();
  return { nodes, links: simLinks };
}
