import { Mesh } from '@mmm/meshtastic';
import { HOSTILE_NAME, NAMES } from './names.js';
import { Prng } from './prng.js';

/** A node of the virtual mesh. Index 0 is the gateway: the radio the clients are connected to. */
export interface SimNode {
  readonly num: number;
  /** `!xxxxxxxx` */
  readonly id: string;
  readonly longName: string;
  readonly shortName: string;
  readonly hwModel: number;
  /** Config.DeviceConfig.Role, 0..12. */
  readonly role: number;
  readonly lat: number;
  readonly lon: number;
  /** Metres. */
  readonly altitude: number;
  /** Relays between this node and the gateway (0 = heard directly); 0 for the gateway itself. */
  readonly hopsAway: number;
  /** The hop limit this node sends with (hop_start on the wire). */
  readonly hopLimit: number;
  readonly publicKey: Uint8Array;
  readonly macaddr: Uint8Array;
  /** Trackers wander a little between position reports. */
  readonly mobile: boolean;
  readonly batteryLevel: number;
  readonly voltage: number;
  /** Seconds since boot when the simulator started. */
  readonly uptimeAtStart: number;
}

/** One direction of a radio link: `to` hears `from` with this SNR (dB, 0.25 dB steps) and RSSI (dBm). */
export interface SimLink {
  readonly from: number;
  readonly to: number;
  readonly snr: number;
  readonly rssi: number;
  readonly distanceKm: number;
}

export interface WorldOptions {
  nodes: number;
  seed: number;
  hostileNames?: boolean;
  /** Centre of the mesh; defaults to Berlin. */
  center?: readonly [lat: number, lon: number];
}

export type MutableNode = { -readonly [K in keyof SimNode]: SimNode[K] };

export const DEFAULT_CENTER = [52.52, 13.405] as const;
export const MIN_NODES = 2;
export const MAX_NODES = 2000;
/** Links are drawn so that a node has about this many neighbours on average (more in big, dense meshes). */
const TARGET_DEGREE = 4;
/** A city-sized mesh: beyond this the region stops growing and gets denser, so paths stay within 7 hops. */
const MAX_RADIUS_KM = 25;
/** Radius over range: keeps the gateway (at the centre) within about five hops of the edge. */
const MAX_RADIUS_IN_RANGES = 5;
/** Routers and repeaters sit on roofs and hills: they hear (and are heard) this much farther. */
const HIGH_SITE_RANGE = 1.8;
const HIGH_SITE_ROLES = new Set([2, 4, 11]);
/** Firmware hop limits stop at 7: no node is more relays away than that allows. */
export const MAX_HOPS_AWAY = 6;
const HOP_LIMIT_CHOICES = [3, 3, 3, 3, 3, 4, 5, 7] as const;
const KM_PER_DEG_LAT = 111.32;

const HW_MODELS: readonly number[] = [
  Mesh.HardwareModel.TBEAM,
  Mesh.HardwareModel.HELTEC_V3,
  Mesh.HardwareModel.RAK4631,
  Mesh.HardwareModel.T_ECHO,
  Mesh.HardwareModel.STATION_G2,
  Mesh.HardwareModel.HELTEC_WIRELESS_TRACKER,
  Mesh.HardwareModel.TLORA_V2_1_1P6,
  Mesh.HardwareModel.SEEED_XIAO_S3,
  Mesh.HardwareModel.TRACKER_T1000_E,
  Mesh.HardwareModel.HELTEC_WSL_V3,
];
/** CLIENT dominates real meshes; the first 13 nodes still cover every role 0..12. */
const ROLE_WEIGHTS = { 0: 50, 1: 10, 2: 6, 8: 15, 12: 5, 5: 6, 6: 4, 11: 4 } as const;
const MOBILE_ROLES = new Set([5, 9, 10]);

export function nodeId(num: number): string {
  return `!${(num >>> 0).toString(16).padStart(8, '0')}`;
}

function quarter(db: number): number {
  return Math.round(db * 4) / 4;
}

function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const dLat = (a.lat - b.lat) * KM_PER_DEG_LAT;
  const dLon = (a.lon - b.lon) * KM_PER_DEG_LAT * Math.cos(((a.lat + b.lat) / 2) * (Math.PI / 180));
  return Math.hypot(dLat, dLon);
}

/** The virtual mesh: nodes, directed links and each node's best path to the gateway. Deterministic for a seed. */
export class World {
  readonly nodes: MutableNode[] = [];
  readonly byNum = new Map<number, MutableNode>();
  /** from -> to -> link */
  private readonly out = new Map<number, Map<number, SimLink>>();
  /** Next hop towards the gateway for every node but the gateway. */
  private readonly parent = new Map<number, number>();

  constructor(readonly opts: WorldOptions) {
    if (!Number.isInteger(opts.nodes) || opts.nodes < MIN_NODES || opts.nodes > MAX_NODES) {
      throw new RangeError(`nodes must be a whole number from ${MIN_NODES} to ${MAX_NODES}, got ${opts.nodes}`);
    }
    const rng = new Prng(opts.seed);
    this.placeNodes(rng.fork(1));
    const linkRng = rng.fork(2);
    this.linkNodes(linkRng);
    this.computePaths(linkRng);
  }

  get gateway(): MutableNode {
    return this.nodes[0]!;
  }

  private placeNodes(rng: Prng): void {
    const n = this.opts.nodes;
    const [clat, clon] = this.opts.center ?? DEFAULT_CENTER;
    const radiusKm = regionRadiusKm(n);
    const roles = [0, ...shuffle(rng, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])];
    const names = shuffle(rng, NAMES.slice(1));
    // The name carrying 0x94 0xC3 is always present (index 1) so every config exchange exercises deframers.
    names.unshift(NAMES[0]!);
    const usedNums = new Set<number>();
    const usedLastBytes = new Set<number>();
    for (let i = 0; i < n; i++) {
      let num: number;
      do num = rng.u32();
      while (num < 4 || num === 0xffffffff || usedNums.has(num) || (n <= 200 && usedLastBytes.has(num & 0xff)));
      usedNums.add(num);
      usedLastBytes.add(num & 0xff);
      const r = i === 0 ? 0 : radiusKm * Math.sqrt(rng.next());
      const theta = rng.range(0, 2 * Math.PI);
      const lat = clat + (r * Math.cos(theta)) / KM_PER_DEG_LAT;
      const lon = clon + (r * Math.sin(theta)) / (KM_PER_DEG_LAT * Math.cos((clat * Math.PI) / 180));
      const role = i < roles.length ? roles[i]! : Number(rng.weighted(ROLE_WEIGHTS));
      let [longName, shortName] =
        i === 0 ? ['Sim Gateway', 'GW'] : i - 1 < names.length ? names[i - 1]! : [`Node ${i}`, `N${i}`.slice(0, 4)];
      if (this.opts.hostileNames && i === 2) [longName, shortName] = HOSTILE_NAME;
      const mac = rng.bytes(6);
      mac.set([(num >>> 24) & 0xff, (num >>> 16) & 0xff, (num >>> 8) & 0xff, num & 0xff], 2);
      const node: MutableNode = {
        num,
        id: nodeId(num),
        longName,
        shortName,
        hwModel: rng.pick(HW_MODELS),
        role,
        lat: Math.round(lat * 1e7) / 1e7,
        lon: Math.round(lon * 1e7) / 1e7,
        altitude: rng.int(30, 120),
        hopsAway: 0,
        hopLimit: 3,
        publicKey: rng.bytes(32),
        macaddr: mac,
        mobile: MOBILE_ROLES.has(role),
        batteryLevel: rng.chance(0.2) ? 101 : rng.int(5, 100),
        voltage: Math.round(rng.range(3.4, 4.2) * 100) / 100,
        uptimeAtStart: rng.int(60, 30 * 86400),
      };
      this.nodes.push(node);
      this.byNum.set(num, node);
    }
  }

  private linkNodes(rng: Prng): void {
    const n = this.nodes.length;
    const radiusKm = regionRadiusKm(n);
    const rangeKm = Math.max(1.5, radiusKm * Math.sqrt(TARGET_DEGREE / n), radiusKm / MAX_RADIUS_IN_RANGES);
    const reach = this.nodes.map((node) => (HIGH_SITE_ROLES.has(node.role) ? rangeKm * HIGH_SITE_RANGE : rangeKm));
    for (const node of this.nodes) this.out.set(node.num, new Map());
    const comp = Array.from({ length: n }, (_, i) => i);
    const find = (i: number): number => {
      if (comp[i] !== i) comp[i] = find(comp[i]!);
      return comp[i]!;
    };
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const d = distanceKm(this.nodes[i]!, this.nodes[j]!);
        const r = Math.max(reach[i]!, reach[j]!);
        if (d > r) continue;
        this.addLinkPair(rng, i, j, d, r);
        comp[find(i)] = find(j);
      }
    }
    // A geometric graph can fall apart; join each stray component to its nearest node in the gateway's component,
    // as a long, weak link (a node on a hill, a lucky reflection).
    for (;;) {
      const root = find(0);
      let best: [number, number, number] | undefined;
      for (let i = 0; i < n; i++) {
        if (find(i) !== root) continue;
        for (let j = 0; j < n; j++) {
          if (find(j) === root) continue;
          const d = distanceKm(this.nodes[i]!, this.nodes[j]!);
          if (!best || d < best[2]) best = [i, j, d];
        }
      }
      if (!best) break;
      this.addLinkPair(rng, best[0], best[1], best[2], rangeKm);
      comp[find(best[1])] = root;
    }
  }

  private addLinkPair(rng: Prng, i: number, j: number, d: number, rangeKm: number): void {
    const a = this.nodes[i]!;
    const b = this.nodes[j]!;
    // LongFast decodes down to about -20 dB SNR; close nodes see +10 dB or more.
    const base = 10 - 22 * Math.min(d / rangeKm, 1.3) + rng.range(-2, 2);
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const snr = quarter(Math.max(-20, Math.min(14, base + rng.range(-1.5, 1.5))));
      const rssi = Math.round(Math.max(-130, Math.min(-40, -118 + 2.2 * (snr + 12) + rng.range(-3, 3))));
      this.out
        .get(from.num)!
        .set(to.num, { from: from.num, to: to.num, snr, rssi, distanceKm: Math.round(d * 1000) / 1000 });
    }
  }

  private computePaths(rng: Prng): void {
    // A sparse corner can leave nodes more hops out than any hop limit reaches. Real meshes that work have a lucky
    // long link there (a hilltop, a tall building): add the shortest one to a node near the gateway until all fit.
    for (;;) {
      const depth = this.breadthFirst();
      const deepest = this.nodes.reduce((a, b) => (depth.get(b.num)! > depth.get(a.num)! ? b : a));
      if (depth.get(deepest.num)! - 1 <= MAX_HOPS_AWAY) break;
      let best: { node: MutableNode; d: number } | undefined;
      for (const node of this.nodes) {
        if (depth.get(node.num)! > 2) continue;
        const d = distanceKm(node, deepest);
        if (!best || d < best.d) best = { node, d };
      }
      this.addLinkPair(rng, this.nodes.indexOf(deepest), this.nodes.indexOf(best!.node), best!.d, best!.d / 1.25);
    }
    for (const node of this.nodes) {
      if (node.num === this.gateway.num) continue;
      node.hopsAway = this.pathToGateway(node.num).length - 2;
      // Most owners keep the default 3, some raise it; nodes far out raise it so their packets still reach the gateway.
      node.hopLimit = Math.max(rng.pick(HOP_LIMIT_CHOICES), node.hopsAway);
    }
  }

  /** Breadth-first from the gateway, strongest links first, so a node's route is short and deterministic. */
  private breadthFirst(): Map<number, number> {
    const gw = this.gateway.num;
    const depth = new Map<number, number>([[gw, 0]]);
    this.parent.clear();
    const queue = [gw];
    for (let head = 0; head < queue.length; head++) {
      const cur = queue[head]!;
      const neighbours = [...this.out.get(cur)!.values()].sort((x, y) => y.snr - x.snr || x.to - y.to);
      for (const l of neighbours) {
        if (depth.has(l.to)) continue;
        depth.set(l.to, depth.get(cur)! + 1);
        this.parent.set(l.to, cur);
        queue.push(l.to);
      }
    }
    return depth;
  }

  /**
   * Takes the radio link between two nodes away, both directions (a hill fell between them): neighbour reports and
   * traceroutes follow the new routes. A link whose loss would cut a node off from the gateway, or a hop count past
   * what the mesh reaches, is refused and the world is left as it was. Returns the two directions removed.
   */
  dropLink(a: number, b: number): [SimLink, SimLink] {
    const ab = this.out.get(a)?.get(b);
    const ba = this.out.get(b)?.get(a);
    if (!ab || !ba) throw new RangeError(`there is no link between ${nodeId(a)} and ${nodeId(b)}`);
    this.out.get(a)!.delete(b);
    this.out.get(b)!.delete(a);
    const depth = this.breadthFirst();
    const cut = this.nodes.find((n) => !depth.has(n.num) || depth.get(n.num)! - 1 > MAX_HOPS_AWAY);
    if (cut) {
      this.restoreLink(ab, ba);
      throw new RangeError(`dropping the link ${nodeId(a)}-${nodeId(b)} would cut ${nodeId(cut.num)} off the gateway`);
    }
    this.updateHops();
    return [ab, ba];
  }

  /** Puts back what `dropLink` took. */
  restoreLink(...links: readonly SimLink[]): void {
    for (const l of links) this.out.get(l.from)!.set(l.to, l);
    this.breadthFirst();
    this.updateHops();
  }

  private updateHops(): void {
    for (const node of this.nodes)
      if (node.num !== this.gateway.num) node.hopsAway = this.pathToGateway(node.num).length - 2;
  }

  link(from: number, to: number): SimLink | undefined {
    return this.out.get(from)?.get(to);
  }

  links(): SimLink[] {
    return [...this.out.values()].flatMap((m) => [...m.values()]);
  }

  /** Links into `num`, i.e. the neighbours it hears and how well. */
  heardBy(num: number): SimLink[] {
    const out: SimLink[] = [];
    for (const m of this.out.values()) {
      const l = m.get(num);
      if (l) out.push(l);
    }
    return out;
  }

  /** Nodes a packet from `num` passes to reach the gateway: [num, relay…, gateway]. */
  pathToGateway(num: number): number[] {
    const path = [num];
    let cur = num;
    while (cur !== this.gateway.num) {
      const next = this.parent.get(cur);
      if (next === undefined) throw new Error(`node ${nodeId(num)} has no path to the gateway`);
      path.push(next);
      cur = next;
    }
    return path;
  }
}

function regionRadiusKm(nodes: number): number {
  return Math.min(MAX_RADIUS_KM, 3 + 2 * Math.sqrt(nodes));
}

function shuffle<T>(rng: Prng, items: readonly T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
