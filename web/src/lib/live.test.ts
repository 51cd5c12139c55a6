import { describe, expect, it } from 'vitest';
import { backoffMs } from './backoff.js';
import { DETAILED_ROW, PACKET_ROW } from './fixtures.test-data.js';
import { LiveStore, type NodeChange } from './live.svelte.js';

// Messages exactly as docs/api.md's /api/live protocol sends them, applied to the store.
describe('live store', () => {
  it('applies a snapshot, then node/agent/link/reception messages, notifying changed node ids', () => {
    const s = new LiveStore();
    const changes: NodeChange[] = [];
    s.onNodes((c) => changes.push(c));
    const rx: string[] = [];
    s.onReception((p) => rx.push(p.key));

    s.handle({ type: 'hello', protocol: 1, server_time: '2026-11-27T19:40:00.000Z', heartbeat_s: 15 });
    s.handle({
      type: 'snapshot',
      seq: 0,
      nodes: [DETAILED_ROW],
      agents: [{ agent_id: 'gw-1', location_name: 'Roof', coordinates: null, status: 'active' }],
      links: [{ from_node_id: '!deadbeef', to_node_id: '!00c0ffee', snr_latest: 5, quality: 0.8 }],
    });
    s.flush();
    expect(s.snapshots).toBe(1);
    expect(s.nodes.get('!deadbeef')?.lat).toBe(52.53);
    expect(s.agents.get('gw-1')?.lat).toBeNull();
    expect(s.links.size).toBe(1);
    expect(changes).toEqual([{ all: true }]);

    s.handle({ type: 'node', seq: 1, node: { ...DETAILED_ROW, position: [52.6, 13.5] } });
    s.handle({ type: 'node', seq: 2, node: { ...DETAILED_ROW, node_id: '!00c0ffee', position: [52.7, 13.6] } });
    s.handle({ type: 'reception', seq: 3, packet: PACKET_ROW });
    s.handle({ type: 'link_removed', seq: 4, from_node_id: '!deadbeef', to_node_id: '!00c0ffee' });
    const v = s.version;
    s.flush();
    expect(s.version).toBe(v + 1);
    expect(changes[1]).toEqual({ all: false, ids: new Set(['!deadbeef', '!00c0ffee']) });
    expect(s.nodes.get('!deadbeef')?.lat).toBe(52.6);
    expect(rx).toEqual([PACKET_ROW.id]);
    expect(s.receptions[0]?.type).toBe('text');
    expect(s.links.size).toBe(0);
    expect(s.gaps).toBe(0);
  });

  it('counts sequence gaps and ignores unknown or broken messages', () => {
    const s = new LiveStore();
    s.handle({ type: 'snapshot', seq: 0, nodes: [], agents: [], links: [] });
    s.handle({ type: 'heartbeat', seq: 1 });
    s.handle({ type: 'node', seq: 5, node: { node_id: '!00000001' } });
    expect(s.gaps).toBe(1);
    s.handle({ type: 'something-new', seq: 6 });
    s.handle({ type: 'node', seq: 7, node: 'garbage' });
    s.handle({ type: 'snapshot', seq: 8, nodes: 'not a list', agents: null });
    s.flush();
    expect(s.nodes.size).toBe(0);
  });

  it('keeps a bounded list of recent receptions', () => {
    const s = new LiveStore();
    for (let i = 1; i <= 600; i++) s.handle({ type: 'reception', seq: i, packet: { ...PACKET_ROW, id: `rx${i}` } });
    expect(s.receptions).toHaveLength(500);
    expect(s.receptions[0]?.key).toBe('rx600');
  });
});

describe('reconnect backoff', () => {
  it('doubles from 0.5 s to a 15 s cap with ±20 % jitter', () => {
    expect(backoffMs(0, () => 0.5)).toBe(500);
    expect(backoffMs(1, () => 0.5)).toBe(1000);
    expect(backoffMs(4, () => 0.5)).toBe(8000);
    expect(backoffMs(10, () => 0.5)).toBe(15000);
    expect(backoffMs(0, () => 0)).toBe(400);
    expect(backoffMs(0, () => 1)).toBe(600);
  });
});
