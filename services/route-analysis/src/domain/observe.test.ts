import { describe, expect, it } from 'vitest';
import { neighborInfoRx, nodeDb, routeDiscoveryRx, T0, textRx, trace } from '../test-events.js';
import { observe } from './observe.js';
import type { LinkObservation, Observation } from './types.js';

const links = (obs: Observation[]) =>
  obs.filter((o): o is LinkObservation => o.kind === 'link').map((l) => [l.from, l.to, l.snr, l.evidence, l.key]);

describe('observe', () => {
  it('reads a traceroute outcome as links hop by hop, both ways, SNR measured at the receiving end', () => {
    const ev = trace({
      requestId: 0x42,
      from: 1,
      to: 3,
      towards: { route: [1, 2, 3], snr: [6.5, null] },
      back: { route: [3, 2, 1], snr: [-3, 4.25] },
    });
    expect(links(observe(ev))).toEqual([
      [1, 2, 6.5, 'traceroute', 'tr:1:66'],
      [2, 3, null, 'traceroute', 'tr:1:66'],
      [3, 2, -3, 'traceroute', 'tr:1:66'],
      [2, 1, 4.25, 'traceroute', 'tr:1:66'],
    ]);
    expect(observe(ev)).toContainEqual({ kind: 'agent-node', site: 's1', agent: 'a1', node: 1, t: T0 });
  });

  it('takes no links from a timed-out traceroute and skips unknown (0xffffffff) hops', () => {
    expect(links(observe(trace({ requestId: 1, from: 1, to: 3, outcome: 'timeout' })))).toEqual([]);
    const ev = trace({ requestId: 2, from: 1, to: 3, towards: { route: [1, 0xffffffff, 3], snr: [1, 2] }, back: null });
    expect(links(observe(ev))).toEqual([]);
  });

  it('reads a zero-hop reception as a direct link to the agent with rxSnr', () => {
    const obs = observe(textRx({ from: 7, id: 9, hopStart: 3, hopLimit: 3, rxSnr: -7.5 }));
    expect(obs).toContainEqual({
      kind: 'direct-to-agent',
      site: 's1',
      agent: 'a1',
      from: 7,
      snr: -7.5,
      t: T0,
      key: 'rx:7:9',
    });
    expect(obs).toContainEqual({ kind: 'hops', site: 's1', agent: 'a1', node: 7, hops: 0, t: T0 });
  });

  it('treats hopStart 0 as unknown, MQTT-carried packets as no radio evidence, and multi-hop packets as relay hints', () => {
    expect(observe(textRx({ from: 7, id: 9, hopStart: 0, hopLimit: 0 })).map((o) => o.kind)).toEqual(['node']);
    expect(observe(textRx({ from: 7, id: 9, viaMqtt: true })).map((o) => o.kind)).toEqual(['node']);
    const relayed = observe(textRx({ from: 7, id: 9, hopStart: 3, hopLimit: 1, relayNode: 0x1ab }));
    expect(relayed).toContainEqual({ kind: 'relay', site: 's1', agent: 'a1', relayByte: 0xab, t: T0 });
    expect(relayed).toContainEqual({ kind: 'hops', site: 's1', agent: 'a1', node: 7, hops: 2, t: T0 });
    expect(relayed.some((o) => o.kind === 'direct-to-agent')).toBe(false);
  });

  it('attributes a zero-hop MQTT reception to the gateway that heard it, not to the agent', () => {
    const obs = observe(textRx({ from: 7, id: 9, source: 'mqtt', gatewayId: '!0000beef', rxSnr: 3 }));
    expect(links(obs)).toEqual([[7, 0xbeef, 3, 'direct', 'rx:7:9:48879']]);
    expect(obs.some((o) => o.kind === 'hops' || o.kind === 'direct-to-agent')).toBe(false);
  });

  it('reads neighbor info as links neighbour -> reporter, keyed by the report packet so several agents count once', () => {
    const ev = neighborInfoRx({ from: 5, id: 77, hopStart: 3, hopLimit: 2 }, 5, [
      { nodeId: 6, snr: 7.5 },
      { nodeId: 8, snr: -2 },
    ]);
    expect(links(observe(ev))).toEqual([
      [6, 5, 7.5, 'neighborinfo', 'ni:5:77'],
      [8, 5, -2, 'neighborinfo', 'ni:5:77'],
    ]);
    const other = neighborInfoRx({ agent: 'a2', from: 5, id: 77, receivedAt: T0 + 5 }, 5, [{ nodeId: 6, snr: 7.5 }]);
    expect(links(observe(other))[0]![4]).toBe('ni:5:77');
  });

  it('reads an overheard traceroute reply with the same key as the originator’s outcome', () => {
    // Reply from 3 to 1 for request 0x42: forward path complete, return path with all SNRs (delivered at 1).
    const ev = routeDiscoveryRx(
      { from: 3, to: 1, id: 500, requestId: 0x42 },
      { route: [2], snrTowards: [26, -128], routeBack: [2], snrBack: [-12, 17] },
    );
    expect(links(observe(ev))).toEqual([
      [1, 2, 6.5, 'traceroute', 'tr:1:66'],
      [2, 3, null, 'traceroute', 'tr:1:66'],
      [3, 2, -3, 'traceroute', 'tr:1:66'],
      [2, 1, 4.25, 'traceroute', 'tr:1:66'],
    ]);
  });

  it('reads a request in flight only as far as it has SNRs for', () => {
    const ev = routeDiscoveryRx(
      { from: 1, to: 3, id: 0x42 },
      { route: [2], snrTowards: [26], routeBack: [], snrBack: [] },
    );
    expect(links(observe(ev))).toEqual([[1, 2, 6.5, 'traceroute', 'tr:1:66']]);
  });

  it('reads the node DB: own node, hop counts, and zero-hop entries as direct links', () => {
    const lastHeard = Math.floor(T0 / 1000) - 60;
    const obs = observe(
      nodeDb({
        myNodeNum: 1,
        nodes: [
          { num: 2, hopsAway: 0, snr: 5.5, lastHeard },
          { num: 3, hopsAway: 2, lastHeard },
          { num: 4, hopsAway: 0, snr: 1, lastHeard, viaMqtt: true },
        ],
      }),
    );
    expect(obs).toContainEqual({ kind: 'agent-node', site: 's1', agent: 'a1', node: 1, t: T0 });
    expect(links(obs)).toEqual([[2, 1, 5.5, 'direct', `ndb:2:${lastHeard}`]]);
    expect(obs).toContainEqual({ kind: 'hops', site: 's1', agent: 'a1', node: 3, hops: 2, t: lastHeard * 1000 });
    expect(obs.some((o) => o.kind === 'hops' && o.node === 4)).toBe(false);
  });
});
