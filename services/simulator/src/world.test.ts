import { describe, expect, it } from 'vitest';
import { HOSTILE_NAME } from './names.js';
import { routeDiscovery } from './traceroute.js';
import { MAX_HOPS_AWAY, World } from './world.js';

describe('World', () => {
  it('is the same mesh for the same seed and a different one for another seed', () => {
    const a = new World({ nodes: 30, seed: 42 });
    const b = new World({ nodes: 30, seed: 42 });
    const c = new World({ nodes: 30, seed: 43 });
    expect(b.nodes).toEqual(a.nodes);
    expect(b.links()).toEqual(a.links());
    expect(c.nodes.map((n) => n.num)).not.toEqual(a.nodes.map((n) => n.num));
  });

  it('is connected: every node has a path to the gateway over existing links, within firmware hop limits', () => {
    for (const seed of [1, 2, 3, 99]) {
      for (const nodes of [2, 7, 40, 150]) {
        const w = new World({ nodes, seed });
        for (const n of w.nodes) {
          const path = w.pathToGateway(n.num);
          expect(path[0]).toBe(n.num);
          expect(path.at(-1)).toBe(w.gateway.num);
          for (let i = 1; i < path.length; i++) expect(w.link(path[i - 1]!, path[i]!)).toBeDefined();
          if (n !== w.gateway) expect(n.hopsAway).toBe(path.length - 2);
          expect(n.hopsAway).toBeLessThanOrEqual(MAX_HOPS_AWAY);
          expect(n.hopLimit).toBeGreaterThanOrEqual(n.hopsAway);
          expect(n.hopLimit).toBeLessThanOrEqual(7);
        }
      }
    }
  });

  it('has links both ways with their own SNR on the 0.25 dB grid, in LongFast range', () => {
    const w = new World({ nodes: 50, seed: 5 });
    const links = w.links();
    expect(links.length).toBeGreaterThan(50);
    for (const l of links) {
      expect(w.link(l.to, l.from)).toBeDefined();
      expect(Number.isInteger(l.snr * 4)).toBe(true);
      expect(l.snr).toBeGreaterThanOrEqual(-20);
      expect(l.snr).toBeLessThanOrEqual(14);
      expect(l.rssi).toBeLessThan(-30);
      expect(l.rssi).toBeGreaterThanOrEqual(-130);
    }
    expect(links.some((l) => w.link(l.to, l.from)!.snr !== l.snr)).toBe(true);
  });

  it('gives a mix of multi-hop paths, every role 0..12, non-ASCII names and plausible positions', () => {
    const w = new World({ nodes: 40, seed: 3 });
    expect(new Set(w.nodes.map((n) => n.role))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
    expect(Math.max(...w.nodes.map((n) => n.hopsAway))).toBeGreaterThanOrEqual(2);
    expect(w.nodes.some((n) => [...n.longName].some((ch) => ch.codePointAt(0)! > 0x7f))).toBe(true);
    expect(w.nodes.some((n) => /\p{Extended_Pictographic}/u.test(n.longName))).toBe(true);
    for (const n of w.nodes) {
      expect(Math.abs(n.lat - 52.52)).toBeLessThan(0.5);
      expect(Math.abs(n.lon - 13.405)).toBeLessThan(0.8);
      expect(n.id).toBe(`!${n.num.toString(16).padStart(8, '0')}`);
    }
    expect(new Set(w.nodes.map((n) => n.num & 0xff)).size).toBe(40); // relay_node bytes are unambiguous
  });

  it('names one node with an HTML payload only when asked', () => {
    expect(new World({ nodes: 5, seed: 1 }).nodes.some((n) => n.longName === HOSTILE_NAME[0])).toBe(false);
    expect(new World({ nodes: 5, seed: 1, hostileNames: true }).nodes.some((n) => n.longName === HOSTILE_NAME[0])).toBe(
      true,
    );
  });

  it('rejects node counts it cannot build', () => {
    expect(() => new World({ nodes: 1, seed: 1 })).toThrow(/nodes must be a whole number from 2/);
    expect(() => new World({ nodes: 2.5, seed: 1 })).toThrow(RangeError);
  });

  it('answers traceroutes with the path and the SNR (dB x4) of each link', () => {
    const w = new World({ nodes: 40, seed: 3 });
    const far = w.nodes.reduce((a, b) => (b.hopsAway > a.hopsAway ? b : a));
    const rd = routeDiscovery(w, far.num);
    const towards = [w.gateway.num, ...rd.route, far.num];
    const back = [far.num, ...rd.routeBack, w.gateway.num];
    expect(rd.route.length).toBe(far.hopsAway);
    expect(rd.snrTowards).toHaveLength(rd.route.length + 1);
    expect(rd.snrBack).toHaveLength(rd.routeBack.length + 1);
    expect(rd.snrTowards).toEqual(towards.slice(1).map((to, i) => w.link(towards[i]!, to)!.snr * 4));
    expect(rd.snrBack).toEqual(back.slice(1).map((to, i) => w.link(back[i]!, to)!.snr * 4));
  });
});

describe('dropping a link', () => {
  it('takes both directions away and reroutes; refuses to cut a node off; restoring gives the same world back', () => {
    const w = new World({ nodes: 30, seed: 7 });
    const key = (l: { from: number; to: number }) => `${l.from}>${l.to}`;
    const before = w.links().map(key).sort();
    const paths = w.nodes.map((n) => w.pathToGateway(n.num).join(','));
    const degree = (n: number) => w.heardBy(n).length;
    // A node heard by only one neighbour hangs on that link: dropping it would cut the node off.
    const lonely = w.nodes.find((n) => n.num !== w.gateway.num && degree(n.num) === 1);
    if (lonely) {
      const [only] = w.heardBy(lonely.num);
      expect(() => w.dropLink(only!.from, lonely.num)).toThrow(/would cut/);
      expect(w.links().map(key).sort()).toEqual(before);
    }
    // A link on some node's route between two well-connected nodes: dropping it reroutes that node. Some such links
    // are still bridges (refused, world unchanged); the first that is not is dropped.
    const candidates = w.nodes
      .filter((n) => n.num !== w.gateway.num)
      .map((n) => w.pathToGateway(n.num))
      .filter((p) => degree(p[0]!) > 1 && degree(p[1]!) > 1);
    let a = 0;
    let b = 0;
    let dropped: ReturnType<World['dropLink']> | undefined;
    for (const p of candidates) {
      try {
        dropped = w.dropLink(p[0]!, p[1]!);
        [a, b] = [p[0]!, p[1]!];
        break;
      } catch (err) {
        expect((err as Error).message).toMatch(/would cut/);
        expect(w.links().map(key).sort()).toEqual(before);
      }
    }
    expect(dropped).toBeDefined();
    expect(w.links().map(key)).not.toContain(`${a}>${b}`);
    expect(w.links().map(key)).not.toContain(`${b}>${a}`);
    expect(w.heardBy(b).map((l) => l.from)).not.toContain(a);
    expect(w.pathToGateway(a)[1]).not.toBe(b);
    for (const n of w.nodes) expect(w.pathToGateway(n.num).at(-1)).toBe(w.gateway.num);
    expect(() => w.dropLink(a, b)).toThrow(/no link/);
    w.restoreLink(...dropped!);
    expect(w.links().map(key).sort()).toEqual(before);
    expect(w.nodes.map((n) => w.pathToGateway(n.num).join(','))).toEqual(paths);
  });
});
