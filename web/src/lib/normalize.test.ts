import { describe, expect, it } from 'vitest';
import { DETAILED_ROW, PACKET_ROW } from './fixtures.test-data.js';
import {
  nodeId,
  normalizeType,
  pairLinks,
  toAgent,
  toAgentHealth,
  toLink,
  toMapConfig,
  toNeighbors,
  toNode,
  toPacket,
  toReception,
  toStats,
  toTelemetry,
  toTrace,
} from './normalize.js';

describe('mappers from the API shapes in docs/api.md', () => {
  it('maps a /api/nodes/detailed row', () => {
    const n = toNode(DETAILED_ROW);
    expect(n).toMatchObject({
      id: '!deadbeef',
      shortName: 'BOB',
      longName: 'Bob Base',
      hwModel: 'TBEAM',
      role: 'ROUTER',
      battery: 87,
      voltage: 4.01,
      channelUtil: 12.5,
      airUtilTx: 1.2,
      lat: 52.53,
      lon: 13.41,
      alt: 40,
      hops: 1,
      packets: 42,
      active: true,
      agents: ['gw-1', 'gw-2'],
      lastHeard: Date.UTC(2026, 10, 27, 19, 40),
    });
    expect(n.routes).toEqual([
      { agent: 'gw-1', path: ['!a1b2c3d4', '!00c0ffee', '!deadbeef'], hops: 2, at: Date.UTC(2026, 10, 27, 19, 0) },
    ]);
  });

  it('keeps zeros and treats a null position and 0,0 as no position', () => {
    const n = toNode({ node_id: '!00000001', battery_level: 0, channel_utilization: 0, position: null, role: null });
    expect(n.battery).toBe(0);
    expect(n.channelUtil).toBe(0);
    expect(n.lat).toBeNull();
    expect(n.role).toBe('CLIENT');
    expect(toNode({ node_id: '!00000002', position: [0, 0] }).lat).toBeNull();
    expect(toNode({ node_id: '!00000003', position: [95, 200] }).lat).toBeNull();
  });

  it('maps agents with and without coordinates', () => {
    const a = toAgent({
      agent_id: 'gw-1',
      site: 'berlin',
      location_name: 'Roof',
      coordinates: [52.52, 13.4],
      last_seen: '2026-11-27T19:40:01.000Z',
      packet_count: 1234,
      status: 'active',
      radio_state: 'connected',
    });
    expect(a).toMatchObject({
      id: 'gw-1',
      site: 'berlin',
      name: 'Roof',
      lat: 52.52,
      lon: 13.4,
      packets: 1234,
      active: true,
      radioState: 'connected',
    });
    const b = toAgent({ agent_id: 'auto', coordinates: null, status: 'inactive' });
    expect(b.lat).toBeNull();
    expect(b.lon).toBeNull();
    expect(b.active).toBe(false);
    expect(a.mqtt).toBe(false);
    expect(toAgent({ agent_id: 'gw-e2e52244', source: 'mqtt' }).mqtt).toBe(true);
  });

  it('maps agent health (buffer depth, last sync)', () => {
    const h = toAgentHealth({
      agent_id: 'gw-1',
      health: {
        radio: { state: 'connected', transport: 'tcp', reconnects: 2 },
        buffer: { in_flight: 3, stream_messages: 120, stream_bytes: 9000, hub_connected: true, hub_backlog: 7 },
        last_sync: '2026-11-27T19:40:00.000Z',
      },
    });
    expect(h).toEqual({
      bufferDepth: 120,
      inFlight: 3,
      hubConnected: true,
      hubBacklog: 7,
      lastSync: Date.UTC(2026, 10, 27, 19, 40),
      radioState: 'connected',
      transport: 'tcp',
      reconnects: 2,
    });
  });

  it('maps a packet row and its receptions', () => {
    const p = toPacket(PACKET_ROW);
    expect(p).toMatchObject({
      key: PACKET_ROW.id,
      packetId: 6699,
      from: '!deadbeef',
      to: '^all',
      fromName: 'BOB (Bob Base)',
      type: 'text',
      channel: 0,
      agent: 'gw-1',
      agentName: 'Roof',
      rssi: -92,
      snr: 6.25,
      hops: 1,
      payload: 'hello mesh',
    });
    const r = toReception({
      agent_id: 'gw-2',
      agent_location: 'Hill',
      timestamp: '2026-11-27T19:40:00.000Z',
      snr: -3,
      rssi: -110,
      hop_start: 3,
      hop_limit: 1,
      relay_node: 239,
    });
    expect(r).toMatchObject({
      agent: 'gw-2',
      agentName: 'Hill',
      snr: -3,
      rssi: -110,
      hopStart: 3,
      hopLimit: 1,
      relay: '0xef',
    });
    expect(toReception({ agent_id: 'x', relay_node: 0 }).relay).toBeNull();
    expect(r.viaMqtt).toBe(false);
    // An MQTT gateway's reception, and a packet that crossed MQTT before a radio heard it.
    expect(toReception({ agent_id: 'gw-55c76a9c', source: 'mqtt', via_mqtt: false }).viaMqtt).toBe(true);
    expect(toReception({ agent_id: 'agent-1', source: 'radio', via_mqtt: true }).viaMqtt).toBe(true);
  });

  it("maps the original's type names onto port names", () => {
    expect(normalizeType('text_message')).toBe('text');
    expect(normalizeType('user_info')).toBe('nodeinfo');
    expect(normalizeType('position')).toBe('position');
  });

  it('maps stats, map config, telemetry and traces', () => {
    expect(
      toStats({
        agents: { total: 3, active: 2 },
        packets: { total: 100, recent_hour: 7 },
        nodes: { total: 50, active: 0 },
        packet_types: [{ type: 'text_message', count: 4 }],
      }),
    ).toMatchObject({
      agentsTotal: 3,
      agentsActive: 2,
      packetsTotal: 100,
      packetsLastHour: 7,
      nodesTotal: 50,
      nodesActive: 0,
      packetTypes: [{ type: 'text', count: 4 }],
    });
    const cfg = toMapConfig({
      center_lat: 1,
      center_lon: 2,
      zoom_level: 9,
      force_center: true,
      tile_url: '',
      site_name: 'Berlin Mesh',
    });
    expect(cfg).toMatchObject({
      centerLat: 1,
      centerLon: 2,
      zoom: 9,
      forceCenter: true,
      tileUrl: '',
      siteName: 'Berlin Mesh',
    });
    expect(toMapConfig({}).tileUrl).toContain('openstreetmap');
    expect(toMapConfig({ tile_url: 'none' }).tileUrl).toBe('');
    expect(toMapConfig({ tile_url: 'OFF' }).tileUrl).toBe('');
    expect(
      toTelemetry({
        timestamp: '2026-11-27T19:40:00.000Z',
        agent_id: 'gw-1',
        values: { batteryLevel: 0, voltage: 3.7 },
      }),
    ).toEqual({
      at: Date.UTC(2026, 10, 27, 19, 40),
      values: { batteryLevel: 0, voltage: 3.7 },
    });
    const t = toTrace({
      source_node_id: '!a1b2c3d4',
      target_node_id: '!deadbeef',
      agent_id: 'gw-1',
      route_path: ['!a1b2c3d4', '!deadbeef'],
      snr_towards: [6.5],
      route_back: ['!deadbeef', '!a1b2c3d4'],
      snr_back: [null],
      outcome: 'success',
      discovery_timestamp: '2026-11-27T19:00:00.000Z',
    });
    expect(t).toMatchObject({
      from: '!a1b2c3d4',
      to: '!deadbeef',
      success: true,
      towards: ['!a1b2c3d4', '!deadbeef'],
      towardsSnr: [6.5],
      backSnr: [null],
    });
    expect(toTrace({ outcome: 'timeout', route_path: [] }).success).toBe(false);
  });

  it('pairs both directions of a link, and neighbours in and out', () => {
    const links = pairLinks([
      toLink({
        from_node_id: '!00000002',
        to_node_id: '!00000001',
        snr: -4,
        link_quality: 0.5,
        evidence: ['traceroute'],
      }),
      toLink({
        from_node_id: '!00000001',
        to_node_id: '!00000002',
        snr: 7,
        link_quality: 0.9,
        evidence: ['neighborinfo'],
      }),
    ]);
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ from: '!00000001', to: '!00000002', snr: 7, snrBack: -4, quality: 0.9 });
    expect([...links[0]!.evidence].sort()).toEqual(['neighborinfo', 'traceroute']);
    const ns = toNeighbors([
      {
        node_id: '!00000002',
        display_name: 'B',
        avg_snr: 5,
        direction: 'in',
        quality: 0.7,
        evidence: ['neighborinfo'],
      },
      {
        node_id: '!00000002',
        display_name: 'B',
        avg_snr: -2,
        direction: 'out',
        quality: 0.4,
        evidence: ['traceroute'],
      },
    ]);
    expect(ns).toHaveLength(1);
    expect(ns[0]).toMatchObject({ id: '!00000002', name: 'B', snrIn: 5, snrOut: -2, quality: 0.7 });
  });

  it('formats node numbers as ids', () => {
    expect(nodeId(0xdeadbeef)).toBe('!deadbeef');
    expect(nodeId(1)).toBe('!00000001');
    expect(nodeId(0xffffffff)).toBe('^all');
    expect(nodeId(undefined)).toBe('?');
  });
});
