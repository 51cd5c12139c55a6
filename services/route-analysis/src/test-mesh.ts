// A deterministic synthetic mesh (seeded random geometric graph) and the events agents would publish about it.
import type { MeshEvent } from '@mmm/schemas';
import { mulberry32 } from '@mmm/testkit';
import { neighborInfoRx, nodeDb, T0, textRx, trace } from './test-events.js';

export { mulberry32 };

export interface TrueLink {
  readonly from: number;
  readonly to: number;
  /** dB at `to`, in 0.25 dB steps (what RouteDiscovery can carry exactly). */
  readonly snr: number;
}

export interface MeshAgent {
  readonly site: string;
  readonly agent: string;
  readonly node: number;
}

export interface SyntheticMesh {
  readonly nodes: readonly number[];
  readonly links: readonly TrueLink[];
  readonly agents: readonly MeshAgent[];
  readonly events: readonly MeshEvent[];
  /** node -> hops its packets take to reach `agentNode` over the true links. */
  hopsTo(agentNode: number): Map<number, number>;
  /** relay byte -> nodes that really relayed packets to each agent (site.agent key). */
  readonly relaysUsed: ReadonlyMap<string, Map<number, Set<number>>>;
}

const HOP_START = 7;

export interface MeshOptions {
  nodes?: number;
  radius?: number;
  agents?: number;
  traces?: number;
  /** Time of the first event (default T0). */
  t0?: number;
  /** Rounds of neighbour reports and receptions (new packet ids, same radio conditions). */
  rounds?: number;
}

export function syntheticMesh(seed: number, opts: MeshOptions = {}): SyntheticMesh {
  const rnd = mulberry32(seed);
  const count = opts.nodes ?? 30;
  const radius = opts.radius ?? 0.28;
  // Few distinct low bytes, so relay-byte candidates really collide and need narrowing.
  const nodes: number[] = [];
  const used = new Set<number>();
  while (nodes.length < count) {
    const n = ((Math.floor(rnd() * 0xfffff0) + 1) * 256 + (nodes.length % 9) + 1) >>> 0;
    if (used.has(n) || n >= 0xffffffff) continue;
    used.add(n);
    nodes.push(n);
  }
  // Each node is placed within radio range of an earlier one, so the mesh is connected.
  const pos: [number, number][] = [[0.5, 0.5]];
  for (let i = 1; i < count; i++) {
    const [x, y] = pos[Math.floor(rnd() * i)]!;
    const ang = rnd() * 2 * Math.PI;
    const r = radius * (0.3 + 0.6 * rnd());
    pos.push([Math.min(1, Math.max(0, x + r * Math.cos(ang))), Math.min(1, Math.max(0, y + r * Math.sin(ang)))]);
  }
  const links: TrueLink[] = [];
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < count; j++) {
      if (i === j) continue;
      const d = Math.hypot(pos[i]![0] - pos[j]![0], pos[i]![1] - pos[j]![1]);
      if (d >= radius) continue;
      const snr = Math.round((10 - 28 * (d / radius) + (rnd() * 4 - 2)) * 4) / 4 + 0;
      links.push({ from: nodes[i]!, to: nodes[j]!, snr });
    }
  }
  const snrOf = new Map(links.map((l) => [`${l.from}>${l.to}`, l.snr]));
  const out = new Map<number, number[]>();
  const inc = new Map<number, number[]>();
  for (const l of links) {
    (out.get(l.from) ?? out.set(l.from, []).get(l.from)!).push(l.to);
    (inc.get(l.to) ?? inc.set(l.to, []).get(l.to)!).push(l.from);
  }
  /** Shortest path src -> dst over out-links (deterministic: neighbours in node order). */
  const path = (src: number, dst: number): number[] | undefined => {
    const prev = new Map<number, number>([[src, src]]);
    let frontier = [src];
    while (frontier.length && !prev.has(dst)) {
      const next: number[] = [];
      for (const u of frontier)
        for (const v of [...(out.get(u) ?? [])].sort((a, b) => a - b))
          if (!prev.has(v)) {
            prev.set(v, u);
            next.push(v);
          }
      frontier = next;
    }
    if (!prev.has(dst)) return undefined;
    const p = [dst];
    while (p[0] !== src) p.unshift(prev.get(p[0]!)!);
    return p;
  };
  const hopsTo = (agentNode: number) => {
    const dist = new Map<number, number>([[agentNode, 0]]);
    let frontier = [agentNode];
    while (frontier.length) {
      const next: number[] = [];
      for (const v of frontier)
        for (const u of inc.get(v) ?? [])
          if (!dist.has(u)) {
            dist.set(u, dist.get(v)! + 1);
            next.push(u);
          }
      frontier = next;
    }
    return dist;
  };

  const agentCount = opts.agents ?? 3;
  const agents: MeshAgent[] = [];
  for (let k = 0; k < agentCount; k++) {
    agents.push({
      site: k % 2 === 0 ? 's1' : 's2',
      agent: `agent-${k}`,
      node: nodes[Math.floor((k * count) / agentCount)]!,
    });
  }

  const events: MeshEvent[] = [];
  let t = opts.t0 ?? T0;
  let packetId = 1000;
  const tick = () => (t += 250);
  for (const a of agents) events.push(nodeDb({ site: a.site, agent: a.agent, myNodeNum: a.node, takenAt: tick() }));

  const relaysUsed = new Map<string, Map<number, Set<number>>>();
  /** The agent nearest to `node` hears its broadcast; header fields as the radio would set them. */
  const hear = (node: number) => {
    let best: { a: MeshAgent; p: number[] } | undefined;
    for (const a of agents) {
      const p = path(node, a.node);
      if (p && (!best || p.length < best.p.length)) best = { a, p };
    }
    if (!best) return undefined;
    const { a, p } = best;
    const hops = Math.max(0, p.length - 2);
    const last = p.length >= 2 ? p[p.length - 2]! : node;
    const relay = hops > 0 ? last & 0xff : 0;
    if (hops > 0) {
      const key = `${a.site}.${a.agent}`;
      const m = relaysUsed.get(key) ?? relaysUsed.set(key, new Map()).get(key)!;
      (m.get(relay) ?? m.set(relay, new Set()).get(relay)!).add(last);
    }
    return {
      a,
      rx: {
        site: a.site,
        agent: a.agent,
        hopStart: HOP_START,
        hopLimit: HOP_START - hops,
        rxSnr: snrOf.get(`${last}>${a.node}`) ?? 0,
        relayNode: relay,
      },
    };
  };

  for (let round = 0; round < (opts.rounds ?? 1); round++) {
    for (const n of nodes) {
      const h = hear(n);
      if (!h || n === h.a.node) continue;
      const neighbours = [...(inc.get(n) ?? [])]
        .sort((x, y) => x - y)
        .map((u) => ({ nodeId: u, snr: snrOf.get(`${u}>${n}`)! }));
      events.push(neighborInfoRx({ ...h.rx, from: n, id: packetId++, receivedAt: tick() }, n, neighbours));
    }
    for (const a of agents) {
      const dist = hopsTo(a.node);
      for (const n of nodes) {
        if (n === a.node || !dist.has(n)) continue;
        const p = path(n, a.node)!;
        const hops = p.length - 2;
        const last = p[p.length - 2]!;
        if (hops > 0) {
          const key = `${a.site}.${a.agent}`;
          const m = relaysUsed.get(key) ?? relaysUsed.set(key, new Map()).get(key)!;
          (m.get(last & 0xff) ?? m.set(last & 0xff, new Set()).get(last & 0xff)!).add(last);
        }
        events.push(
          textRx({
            site: a.site,
            agent: a.agent,
            from: n,
            id: packetId++,
            receivedAt: tick(),
            hopStart: HOP_START,
            hopLimit: HOP_START - hops,
            rxSnr: snrOf.get(`${last}>${a.node}`)!,
            relayNode: hops > 0 ? last & 0xff : 0,
          }),
        );
      }
    }
  }
  const traces = opts.traces ?? 6;
  let req = 1;
  for (const a of agents) {
    const targets = nodes.filter((n) => n !== a.node && (hopsTo(a.node).get(n) ?? 0) >= 1).slice(0, traces);
    for (const [i, target] of targets.entries()) {
      const towards = path(a.node, target)!;
      const back = path(target, a.node)!;
      const snrs = (p: number[]) =>
        p.slice(1).map((to, k) => (i % 5 === 4 && k === 0 ? null : snrOf.get(`${p[k]}>${to}`)!));
      events.push(
        trace({
          site: a.site,
          agent: a.agent,
          requestId: req++,
          from: a.node,
          to: target,
          at: tick(),
          towards: { route: towards, snr: snrs(towards) },
          back: { route: back, snr: snrs(back) },
        }),
      );
    }
    events.push(
      trace({
        site: a.site,
        agent: a.agent,
        requestId: req++,
        from: a.node,
        to: nodes[count - 1]!,
        at: tick(),
        outcome: 'timeout',
      }),
    );
  }
  return { nodes, links, agents, events, hopsTo, relaysUsed };
}
