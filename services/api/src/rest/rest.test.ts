import { waitFor } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, links, nodedb, rx, type Stack, startStack, status, trace } from '../testing.js';

const GW = 0xa1b2c3d4;
const BOB = 0x0000beef;
const CAROL = 0x00c0ffee;
const OLD = 0x000000aa;

// The original's documented response fields (original-inventory.md §2.3); ours may add fields, never drop these.
const ORIGINAL = {
  agent: ['agent_id', 'location_name', 'coordinates', 'last_seen', 'packet_count', 'status'],
  packet: [
    'id',
    'agent_id',
    'agent_location',
    'timestamp',
    'from_node',
    'from_node_display',
    'from_hw_model',
    'from_role',
    'from_hops',
    'to_node',
    'to_node_display',
    'to_hw_model',
    'to_role',
    'to_hops',
    'type',
    'payload',
    'rssi',
    'snr',
  ],
  node: [
    'node_id',
    'agent_id',
    'agent_location',
    'last_seen',
    'battery_level',
    'position',
    'rssi',
    'snr',
    'updated_at',
  ],
  detailed: [
    'node_id',
    'short_name',
    'long_name',
    'macaddr',
    'hw_model',
    'role',
    'battery_level',
    'position',
    'rssi',
    'snr',
    'updated_at',
    'voltage',
    'channel_utilization',
    'air_util_tx',
    'uptime_seconds',
    'hops_away',
    'packet_count',
    'agent_count',
    'seeing_agents',
    'agent_routes',
    'recent_packets',
  ],
  route: [
    'discovery_id',
    'source_node_id',
    'target_node_id',
    'agent_id',
    'route_path',
    'hop_count',
    'total_time_ms',
    'discovery_timestamp',
    'response_timestamp',
    'success',
    'source_name',
    'source_long_name',
    'target_name',
    'target_long_name',
    'agent_location',
  ],
  connection: [
    'from_node_id',
    'to_node_id',
    'agent_id',
    'snr',
    'rssi',
    'link_quality',
    'first_seen',
    'last_seen',
    'packet_count',
    'from_name',
    'from_long_name',
    'to_name',
    'to_long_name',
    'agent_location',
  ],
};
const hasAll = (row: Record<string, unknown>, keys: string[]) =>
  expect(Object.keys(row)).toEqual(expect.arrayContaining(keys));

describe('REST against a real nats-server fed with contract events', () => {
  let s: Stack;
  const now = Date.now();
  beforeAll(async () => {
    s = await startStack();
    await s.publish(status('gw-1', { name: 'Roof', myNodeNum: GW }));
    await s.publish(status('gw-2', { name: 'Hill', lat: null, lon: null }));
    await s.publish(
      rx(
        'nodeinfo',
        {
          id: '!0000beef',
          longName: 'Bob <script>alert(1)</script>',
          shortName: 'BOB',
          hwModel: 4,
          role: 2,
          macaddr: 'qrvM3e7/',
        },
        { from: BOB, at: now - 5000 },
      ),
    );
    await s.publish(
      rx(
        'nodeinfo',
        { id: '!00c0ffee', longName: 'Carol Hill', shortName: 'CAR', hwModel: 9, role: 11 },
        { from: CAROL, agent: 'gw-2', at: now - 5000 },
      ),
    );
    await s.publish(
      rx(
        'position',
        { latitudeI: 525310000, longitudeI: 134120000, altitude: 40, time: Math.floor(now / 1000) },
        { from: BOB, at: now - 4000 },
      ),
    );
    await s.publish(
      rx(
        'position',
        { latitudeI: 525320000, longitudeI: 134130000, altitude: 41, time: Math.floor(now / 1000) },
        { from: BOB, at: now - 3000 },
      ),
    );
    await s.publish(
      rx(
        'telemetry',
        {
          time: 1,
          deviceMetrics: { batteryLevel: 55, voltage: 3.8, channelUtilization: 0, airUtilTx: 2.3, uptimeSeconds: 999 },
        },
        { from: BOB, at: now - 2000, id: 777 },
      ),
    );
    // The same telemetry packet heard by a second agent: two receptions, one packet.
    await s.publish(
      rx(
        'telemetry',
        {
          time: 1,
          deviceMetrics: { batteryLevel: 55, voltage: 3.8, channelUtilization: 0, airUtilTx: 2.3, uptimeSeconds: 999 },
        },
        {
          from: BOB,
          agent: 'gw-2',
          at: now - 1900,
          id: 777,
          snr: -3,
          rssi: -110,
          hopStart: 3,
          hopLimit: 1,
          relay: 0xee,
        },
      ),
    );
    await s.publish(
      rx(
        'telemetry',
        { environmentMetrics: { temperature: 21.5, relativeHumidity: 40 } },
        { from: CAROL, agent: 'gw-2', at: now - 1500 },
      ),
    );
    await s.publish(rx('text', { text: 'hello mesh' }, { from: BOB, at: now - 1000 }));
    await s.publish(rx('text', { text: 'direct' }, { from: CAROL, to: BOB, agent: 'gw-2', at: now - 900 }));
    await s.publish(
      rx(
        'nodeinfo',
        { id: '!00c0ffee', longName: 'Carol Peak', shortName: 'CAR', hwModel: 9, role: 11 },
        { from: CAROL, agent: 'gw-2', at: now - 800 },
      ),
    );
    await s.publish(
      nodedb('gw-1', [
        {
          num: OLD,
          user: { longName: 'Old Timer', shortName: 'OLD', role: 12 },
          lastHeard: Math.floor((now - 5 * 3600_000) / 1000),
          hopsAway: 3,
        },
      ]),
    );
    await s.publish(trace('gw-1', GW, BOB, [GW, CAROL, BOB]));
    await s.publish(trace('gw-1', GW, CAROL, [], { outcome: 'timeout' }));
    await s.publish(
      links([
        { from: BOB, to: CAROL, snr: 7.5, quality: 0.9 },
        { from: CAROL, to: GW, snr: 2, quality: 0.4 },
      ]),
    );
    await waitFor('projection to catch up', async () => {
      const r = await getJson(`${s.url}/api/routes?successful_only=false`);
      return r.body.routes?.length === 2 && (await getJson(`${s.url}/api/connections`)).body.connections.length === 2;
    });
  });
  afterAll(async () => s?.dispose());

  it('lists agents in the original shape, null coordinates for an agent without a fix', async () => {
    const r = await getJson(`${s.url}/api/agents`);
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.agents.map((a: { agent_id: string }) => [a.agent_id, a]));
    hasAll(byId['gw-1'], ORIGINAL.agent);
    expect(byId['gw-1']).toMatchObject({
      location_name: 'Roof',
      coordinates: [52.52, 13.4],
      status: 'active',
      my_node_id: '!a1b2c3d4',
    });
    expect(byId['gw-2'].coordinates).toBeNull();
    expect(byId['gw-1'].packet_count).toBe(5);
    expect(byId['gw-1'].source).toBe('radio');
  });

  it('gives agent status with active nodes, recent heartbeats and radio/buffer health; 404 for an unknown agent', async () => {
    const r = await getJson(`${s.url}/api/agents/gw-1/status`);
    expect(r.status).toBe(200);
    expect(r.body.active_nodes.map((n: { node_id: string }) => n.node_id)).toContain('!0000beef');
    expect(r.body.recent_health[0]).toMatchObject({ connection_status: 'connected', packets_received: 42 });
    expect(r.body.health).toMatchObject({
      radio: { state: 'connected', transport: 'tcp', my_node_id: '!a1b2c3d4' },
      buffer: { stream_messages: 12, hub_connected: true },
    });
    expect((await getJson(`${s.url}/api/agents/nobody/status`)).status).toBe(404);
  });

  it('lists packets in the original shape with names, newest first, and honours every filter', async () => {
    const all = await getJson(`${s.url}/api/packets`);
    expect(all.status).toBe(200);
    expect(all.body.packets).toHaveLength(10);
    hasAll(all.body.packets[0], ORIGINAL.packet);
    const times = all.body.packets.map((p: { timestamp: string }) => p.timestamp);
    expect([...times].sort().reverse()).toEqual(times);
    const text = await getJson(`${s.url}/api/packets?type=text`);
    expect(text.body.packets.map((p: { payload: string }) => p.payload).sort()).toEqual(['direct', 'hello mesh']);
    expect((await getJson(`${s.url}/api/packets?type=text_message`)).body.packets).toHaveLength(2);
    const dm = await getJson(`${s.url}/api/packets?from_node=!00c0ffee&to_node=!0000beef`);
    expect(dm.body.packets).toHaveLength(1);
    expect(dm.body.packets[0]).toMatchObject({
      from_node: '!00c0ffee',
      from_node_display: 'CAR (Carol Peak)',
      to_node: '!0000beef',
      to_role: 'ROUTER',
      to_hw_model: 'TBEAM',
      type: 'text_message',
    });
    expect(
      (await getJson(`${s.url}/api/packets?agent_id=gw-2`)).body.packets.every(
        (p: { agent_id: string }) => p.agent_id === 'gw-2',
      ),
    ).toBe(true);
    expect((await getJson(`${s.url}/api/packets?agent_id=all`)).body.packets).toHaveLength(10);
    const tele = (await getJson(`${s.url}/api/packets?type=telemetry&agent_id=gw-1`)).body.packets[0];
    expect(tele.payload.device_metrics).toEqual({
      battery_level: 55,
      voltage: 3.8,
      channel_utilization: 0,
      air_util_tx: 2.3,
      uptime_seconds: 999,
    });
    const user = (await getJson(`${s.url}/api/packets?type=user_info&from_node=!0000beef`)).body.packets[0];
    expect(user.payload).toMatchObject({
      long_name: 'Bob <script>alert(1)</script>',
      short_name: 'BOB',
      macaddr: 'aa:bb:cc:dd:ee:ff',
      hw_model: 'TBEAM',
      role: 'ROUTER',
    });
    const page = await getJson(`${s.url}/api/packets?limit=2&offset=2`);
    expect(page.body.packets.map((p: { id: string }) => p.id)).toEqual(
      all.body.packets.slice(2, 4).map((p: { id: string }) => p.id),
    );
  });

  it('answers every reception of one packet with SNR, RSSI, hops and relay', async () => {
    const r = await getJson(`${s.url}/api/packets/!0000beef/777/receptions`);
    expect(r.status).toBe(200);
    expect(r.body.receptions).toHaveLength(2);
    expect(r.body.receptions[1]).toMatchObject({ agent_id: 'gw-2', snr: -3, rssi: -110, hops: 2, relay_node: 0xee });
    expect((await getJson(`${s.url}/api/packets/!0000beef/778/receptions`)).status).toBe(404);
  });

  it('returns one row per node in /api/nodes/detailed with the agents that hear it and their routes', async () => {
    const r = await getJson(`${s.url}/api/nodes/detailed`);
    expect(r.status).toBe(200);
    const ids = r.body.nodes.map((n: { node_id: string }) => n.node_id);
    expect(new Set(ids).size).toBe(ids.length);
    const bob = r.body.nodes.find((n: { node_id: string }) => n.node_id === '!0000beef');
    hasAll(bob, ORIGINAL.detailed);
    expect(bob).toMatchObject({
      short_name: 'BOB',
      hw_model: 'TBEAM',
      role: 'ROUTER',
      battery_level: 55,
      channel_utilization: 0,
      position: [52.532, 13.413],
      agent_count: 2,
      active: true,
    });
    expect(bob.seeing_agents.sort()).toEqual(['Hill', 'Roof']);
    expect(bob.agent_routes['gw-1']).toMatchObject({
      hop_count: 2,
      route_path: ['!a1b2c3d4', '!00c0ffee', '!0000beef'],
      route_type: 'traceroute',
    });
    const old = r.body.nodes.find((n: { node_id: string }) => n.node_id === '!000000aa');
    // Reported by a NodeDB now, but last heard 5 h ago: not active. Role 12 is named.
    expect(old).toMatchObject({ role: 'CLIENT_BASE', active: false, hops_away: 3 });
    const gw2 = await getJson(`${s.url}/api/nodes/detailed?agent_id=gw-2`);
    expect(gw2.body.nodes.map((n: { node_id: string }) => n.node_id).sort()).toEqual(['!0000beef', '!00c0ffee']);
    expect(
      (await getJson(`${s.url}/api/nodes/detailed?active_only=true`)).body.nodes.some(
        (n: { node_id: string }) => n.node_id === '!000000aa',
      ),
    ).toBe(false);
  });

  it('lists per-(node, agent) rows in /api/nodes', async () => {
    const r = await getJson(`${s.url}/api/nodes?agent_id=gw-2`);
    expect(r.status).toBe(200);
    hasAll(r.body.nodes[0], ORIGINAL.node);
    expect(r.body.nodes.every((n: { agent_id: string }) => n.agent_id === 'gw-2')).toBe(true);
  });

  it('gives node details with working telemetry history and neighbours from the topology', async () => {
    const r = await getJson(`${s.url}/api/nodes/!0000beef/details`);
    expect(r.status).toBe(200);
    expect(r.body.telemetry).toHaveLength(1);
    expect(r.body.telemetry[0].payload.device_metrics.battery_level).toBe(55);
    expect(r.body.packet_stats).toMatchObject({ seeing_agents: 2 });
    expect(r.body.neighbors).toEqual([
      expect.objectContaining({
        node_id: '!00c0ffee',
        display_name: 'CAR (Carol Peak)',
        avg_snr: 7.5,
        direction: 'out',
        evidence: ['traceroute'],
      }),
    ]);
    expect((await getJson(`${s.url}/api/nodes/!12345678/details`)).status).toBe(404);
  });

  it('records real name changes only', async () => {
    const r = await getJson(`${s.url}/api/nodes/!00c0ffee/name-history`);
    expect(r.body).toMatchObject({ node_id: '!00c0ffee', current_long_name: 'Carol Peak', current_short_name: 'CAR' });
    expect(r.body.history.map((h: { long_name: string }) => h.long_name)).toEqual(['Carol Peak', 'Carol Hill']);
  });

  it('returns a position track and telemetry series by variant and field', async () => {
    const p = await getJson(`${s.url}/api/nodes/!0000beef/positions`);
    expect(p.body.positions.map((x: { latitude: number }) => x.latitude)).toEqual([52.531, 52.532]);
    const t = await getJson(`${s.url}/api/nodes/!0000beef/telemetry?variant=deviceMetrics&field=channelUtilization`);
    expect(t.body.points).toEqual([expect.objectContaining({ values: { channelUtilization: 0 } })]);
    const e = await getJson(`${s.url}/api/nodes/!00c0ffee/telemetry?variant=environmentMetrics`);
    expect(e.body.points[0].values).toEqual({ temperature: 21.5, relativeHumidity: 40 });
  });

  it('serves routes, traceroutes with timeouts, connections and the topology graph', async () => {
    const routes = await getJson(`${s.url}/api/routes`);
    expect(routes.body.routes).toHaveLength(1);
    hasAll(routes.body.routes[0], ORIGINAL.route);
    expect(routes.body.routes[0]).toMatchObject({
      source_node_id: '!a1b2c3d4',
      target_node_id: '!0000beef',
      hop_count: 2,
      target_name: 'BOB',
      agent_location: 'Roof',
    });
    const tr = await getJson(`${s.url}/api/traceroutes`);
    expect(tr.body.routes.map((r: { outcome: string }) => r.outcome).sort()).toEqual(['success', 'timeout']);
    const c = await getJson(`${s.url}/api/connections?min_quality=0.5`);
    expect(c.body.connections).toHaveLength(1);
    hasAll(c.body.connections[0], ORIGINAL.connection);
    const g = await getJson(`${s.url}/api/topology/graph`);
    expect(g.body.links).toHaveLength(2);
    expect(g.body.nodes.length).toBe(3);
    const topo = await getJson(`${s.url}/api/topology`);
    const bob = topo.body.topology.find((n: { node_id: string }) => n.node_id === '!0000beef');
    expect(Object.keys(bob.agents).sort()).toEqual(['gw-1', 'gw-2']);
  });

  it('serves stats, map config, health, sites and the OpenAPI document', async () => {
    const st = await getJson(`${s.url}/api/stats`);
    expect(st.body).toMatchObject({
      agents: { total: 2, active: 2 },
      packets: { total: 10, recent_hour: 10 },
      nodes: { total: 4 },
    });
    expect(st.body.packet_types).toEqual(
      expect.arrayContaining([
        { type: 'text_message', count: 2 },
        { type: 'telemetry', count: 3 },
      ]),
    );
    expect((await getJson(`${s.url}/api/map/config`)).body).toMatchObject({
      center_lat: 39.8283,
      zoom_level: 4,
      force_center: false,
      tile_url: expect.stringContaining('openstreetmap'),
    });
    expect((await getJson(`${s.url}/api/health`)).body).toMatchObject({ status: 'ok', nats: true, store: true });
    expect((await getJson(`${s.url}/api/sites`)).body.sites).toEqual([
      expect.objectContaining({ site: 'berlin', agents: 2 }),
    ]);
    const doc = await getJson(`${s.url}/api/openapi.json`);
    for (const p of [
      '/api/agents',
      '/api/packets',
      '/api/nodes/detailed',
      '/api/nodes/{node_id}/details',
      '/api/routes',
      '/api/stats',
      '/api/agent/data',
    ]) {
      expect(Object.keys(doc.body.paths)).toContain(p);
    }
    // Error answers are documented with one schema, and their bodies are what the API really sends.
    const responses = (path: string, method = 'get') =>
      doc.body.paths[path][method].responses as Record<string, { content?: Record<string, { schema: unknown }> }>;
    const errorSchema = (path: string, code: string) => {
      const schema = responses(path)[code]?.content?.['application/json']?.schema as { $ref?: string } | undefined;
      const name = schema?.$ref?.split('/').pop();
      return JSON.stringify(name ? doc.body.components.schemas[name] : (schema ?? null));
    };
    expect(responses('/api/packets')['400']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/ErrorBody',
    });
    expect(errorSchema('/api/packets', '400')).toContain('statusCode');
    expect(errorSchema('/api/nodes/{node_id}/details', '404')).toContain('statusCode');
    expect(errorSchema('/api/packets', '503')).toContain('statusCode');
    expect(Object.keys(responses('/api/agents'))).not.toContain('404');
    const bad = await getJson(`${s.url}/api/packets?limit=-3`);
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body).sort()).toEqual(['error', 'message', 'statusCode']);
  });

  it('answers bad parameters with 400 naming the parameter', async () => {
    for (const [q, name] of [
      ['/api/packets?hours=abc', 'hours'],
      ['/api/packets?hours=100000', 'hours'],
      ['/api/packets?limit=0', 'limit'],
      ['/api/packets?type=bogus', 'type'],
      ['/api/packets?from_node=xyz', 'from_node'],
      ['/api/nodes/detailed?offset=-1', 'offset'],
      ['/api/connections?min_quality=2', 'min_quality'],
      ['/api/nodes/not-a-node/details', 'node_id'],
      ['/api/packets?from_node=99999999999', 'from_node'],
    ] as const) {
      const r = await getJson(`${s.url}${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.message, q).toContain(name);
    }
  });

  it('exposes Prometheus metrics, healthz and readyz, and a 503 page naming npm run build without a web build', async () => {
    const m = await (await fetch(`${s.url}/metrics`)).text();
    expect(m).toMatch(/mmm_api_events_consumed_total\{[^}]*kind="reception"/);
    expect(m).toMatch(/mmm_api_http_requests_total\{[^}]*route="\/api\/packets"/);
    expect(m).toContain('mmm_api_ws_clients');
    expect((await getJson(`${s.url}/healthz`)).status).toBe(200);
    expect((await getJson(`${s.url}/readyz`)).body).toEqual({ ready: true });
    const page = await fetch(`${s.url}/nodes/!0000beef`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('npm run build');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
