import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURES_DIR, waitFor } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, KEYS, type Stack, startStack } from '../testing.js';

const run = promisify(execFile);
const LOAD = join(FIXTURES_DIR, '..', '..', 'bench', 'legacy-load.mjs');

// Bodies exactly as the original Python agent sends them (original-inventory.md §1.8, §2.3).
const pyIso = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
const now = Date.now();
const location = { name: 'Legacy Roof', coordinates: [40.01, -105.27] };
const dataBody = {
  agent_id: 'gw-legacy',
  location,
  timestamp: pyIso(now),
  packets: [
    {
      timestamp: pyIso(now - 3000),
      from_node: '!0000beef',
      to_node: '^all',
      packet_id: 1001,
      channel: 0,
      hop_limit: 3,
      want_ack: false,
      rssi: null,
      snr: null,
      type: 'text_message',
      payload: 'hello from python',
    },
    {
      timestamp: pyIso(now - 2500),
      from_node: '!0000beef',
      to_node: '^all',
      packet_id: 1002,
      channel: 0,
      hop_limit: 3,
      want_ack: false,
      rssi: -80,
      snr: 5.5,
      type: 'position',
      payload: { latitude: 40.02, longitude: -105.28, altitude: 1650, time: Math.floor(now / 1000) },
    },
    {
      timestamp: pyIso(now - 2000),
      from_node: '!0000beef',
      to_node: '^all',
      packet_id: 1003,
      channel: 0,
      hop_limit: 3,
      want_ack: false,
      rssi: -81,
      snr: 4,
      type: 'telemetry',
      payload: {
        device_metrics: {
          battery_level: 0,
          voltage: 3.7,
          channel_utilization: 0,
          air_util_tx: 0.5,
          uptime_seconds: 10,
        },
      },
    },
    {
      timestamp: pyIso(now - 1500),
      from_node: '!0000beef',
      to_node: '^all',
      packet_id: 1004,
      channel: 0,
      hop_limit: 3,
      want_ack: false,
      rssi: null,
      snr: null,
      type: 'user_info',
      payload: { id: '!0000beef', long_name: 'Bob Legacy', short_name: 'BOBL', macaddr: 'aa:bb:cc:dd:ee:ff' },
    },
    {
      timestamp: pyIso(now - 1000),
      from_node: '!00c0ffee',
      to_node: '!0000beef',
      packet_id: 1005,
      channel: 0,
      hop_limit: 2,
      want_ack: true,
      rssi: null,
      snr: null,
      type: 'encrypted',
      payload: null,
      portnum: 'TEXT_MESSAGE_APP',
    },
    {
      timestamp: pyIso(now - 900),
      from_node: 'garbage',
      to_node: '^all',
      packet_id: 1006,
      type: 'text_message',
      payload: 'bad sender',
    },
  ],
  node_status: [
    { node_id: '!0000beef', last_seen: pyIso(now), battery_level: 0, position: [40.02, -105.28], rssi: -80, snr: 5.5 },
  ],
};

describe('the original agent HTTP API republished into JetStream', () => {
  let s: Stack;
  const post = (path: string, body: unknown, key: string = KEYS['gw-legacy'], headers: Record<string, string> = {}) =>
    getJson(`${s.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    s = await startStack('[legacy]\nsite = legacy\n');
  });
  afterAll(async () => s?.dispose());

  it('accepts register, data, nodedb and routes with the original responses; the data shows up through REST', async () => {
    expect((await post('/api/agent/register', { agent_id: 'gw-legacy', location })).body).toEqual({
      status: 'success',
      agent_id: 'gw-legacy',
    });
    const data = await post('/api/agent/data', dataBody);
    expect(data.status).toBe(200);
    expect(data.body).toMatchObject({
      status: 'success',
      received: 5,
      rejected: [{ index: 5, error: expect.stringContaining('packets[5].from_node') }],
    });
    const nodedb = await post('/api/agent/nodedb', {
      agent_id: 'gw-legacy',
      timestamp: pyIso(now),
      nodes: {
        '!00c0ffee': {
          num: 0xc0ffee,
          user: {
            id: '!00c0ffee',
            longName: 'Carol',
            shortName: 'CAR',
            macaddr: '11:22:33:44:55:66',
            hwModel: 'RAK4631',
            role: 'ROUTER_LATE',
            isLicensed: false,
          },
          position: { latitude: 40.1, longitude: -105.1, altitude: 1600, time: 1 },
          deviceMetrics: { batteryLevel: 90, voltage: 4.1, channelUtilization: 3, airUtilTx: 1, uptimeSeconds: 5 },
          snr: 6,
          lastHeard: Math.floor(now / 1000) - 60,
          hopsAway: 1,
          isFavorite: false,
        },
      },
    });
    expect(nodedb.body).toEqual({ status: 'success', updated: 1 });
    const routes = await post('/api/agent/routes', {
      agent_id: 'gw-legacy',
      timestamp: pyIso(now),
      discovery_type: 'traceroute',
      routes: [
        {
          discovery_id: 'd-1',
          source_node_id: '!a1b2c3d4',
          target_node_id: '!00c0ffee',
          route_path: ['!a1b2c3d4', '!0000beef', '!00c0ffee'],
          hop_count: 2,
          total_time_ms: 2100,
          discovery_timestamp: pyIso(now - 2100),
          response_timestamp: pyIso(now),
          success: true,
          channel_index: 0,
          snr_towards: [5.25, 3],
          snr_back: [4, 2],
          route_back: ['!0000beef'],
          discovery_method: 'meshtastic_traceroute',
        },
      ],
    });
    expect(routes.body).toEqual({ status: 'success', routes_stored: 1 });

    await waitFor(
      'legacy events projected',
      async () => (await getJson(`${s.url}/api/routes?agent_id=gw-legacy`)).body.routes.length === 1,
    );
    const agents = (await getJson(`${s.url}/api/agents`)).body.agents;
    expect(agents).toEqual([
      expect.objectContaining({
        agent_id: 'gw-legacy',
        site: 'legacy',
        location_name: 'Legacy Roof',
        coordinates: [40.01, -105.27],
      }),
    ]);
    const packets = (await getJson(`${s.url}/api/packets?agent_id=gw-legacy`)).body.packets;
    expect(packets).toHaveLength(5);
    const byType = Object.fromEntries(packets.map((p: { type: string }) => [p.type, p]));
    expect(byType.text_message).toMatchObject({
      payload: 'hello from python',
      from_node: '!0000beef',
      to_node: '^all',
      source: 'legacy-http',
    });
    expect(byType.telemetry.payload.device_metrics).toMatchObject({ battery_level: 0, channel_utilization: 0 });
    expect(byType.encrypted).toMatchObject({ to_node: '!0000beef' });
    const nodes = (await getJson(`${s.url}/api/nodes/detailed`)).body.nodes;
    const bob = nodes.find((n: { node_id: string }) => n.node_id === '!0000beef');
    expect(bob).toMatchObject({
      short_name: 'BOBL',
      long_name: 'Bob Legacy',
      macaddr: 'aa:bb:cc:dd:ee:ff',
      battery_level: 0,
      position: [40.02, -105.28],
    });
    const carol = nodes.find((n: { node_id: string }) => n.node_id === '!00c0ffee');
    expect(carol).toMatchObject({
      hw_model: 'RAK4631',
      role: 'ROUTER_LATE',
      battery_level: 90,
      hops_away: 1,
      active: true,
    });
    expect(carol.agent_routes['gw-legacy'].route_path).toEqual(['!a1b2c3d4', '!0000beef', '!00c0ffee']);
    const r = (await getJson(`${s.url}/api/routes`)).body.routes[0];
    expect(r).toMatchObject({
      snr_towards: [5.25, 3],
      route_back: ['!00c0ffee', '!0000beef', '!a1b2c3d4'],
      trigger: 'legacy',
    });
  });

  it('deduplicates a re-sent body (lost response) through the Msg-Ids', async () => {
    const before = (await getJson(`${s.url}/api/stats`)).body.packets.total;
    expect((await post('/api/agent/data', dataBody)).status).toBe(200);
    expect((await post('/api/agent/register', { agent_id: 'gw-legacy', location })).status).toBe(200);
    const info = await (await s.nc.jetstreamManager()).streams.info('MESH');
    // 5 receptions + node_status + nodedb + route + 1 register = 9; the repeats added nothing.
    expect(info.state.messages).toBe(9);
    expect((await getJson(`${s.url}/api/stats`)).body.packets.total).toBe(before);
  });

  it('refuses unknown keys (401), a key writing as another agent (403), malformed (400) and oversized (413) bodies', async () => {
    expect((await post('/api/agent/data', dataBody, 'wrong-key')).status).toBe(401);
    expect((await post('/api/agent/data', dataBody, '')).body).toEqual({ error: 'Invalid API key' });
    const other = await post('/api/agent/data', { ...dataBody, agent_id: 'gw-other' });
    expect(other.status).toBe(403);
    expect(other.body.error).toContain('gw-other');
    expect((await post('/api/agent/register', { agent_id: 'gw-other', location }, KEYS['gw-other'])).status).toBe(200);
    expect((await post('/api/agent/data', '{"agent_id": "gw-legacy", ')).status).toBe(400);
    expect((await post('/api/agent/data', { agent_id: 'gw-legacy', packets: [] })).body.error).toContain('timestamp');
    expect(
      (await post('/api/agent/data', { agent_id: 'gw-legacy', timestamp: pyIso(now), packets: 'x' })).body.error,
    ).toContain('packets');
    expect((await post('/api/agent/nodedb', { agent_id: 'gw-legacy', timestamp: pyIso(now), nodes: [] })).status).toBe(
      400,
    );
    expect(
      (
        await post('/api/agent/routes', {
          agent_id: 'gw-legacy',
          timestamp: pyIso(now),
          routes: [{ route_path: ['nope'] }],
        })
      ).status,
    ).toBe(400);
    expect((await post('/api/agent/register', { agent_id: 'a.b' })).status).toBe(400);
    expect((await post('/api/agent/data', [1, 2])).status).toBe(400);
    const huge = {
      ...dataBody,
      packets: Array.from({ length: 5000 }, (_, i) => ({
        ...dataBody.packets[0],
        packet_id: i,
        payload: 'x'.repeat(300),
      })),
    };
    expect((await post('/api/agent/data', huge)).status).toBe(413);
  });

  it('takes the shared legacy load generator (the original wire format) without errors', async () => {
    const before = (await getJson(`${s.url}/api/stats`)).body.packets.total;
    // The generator names its agents <prefix>-<n>: load-1 is bound to this key.
    const { stdout } = await run(
      process.execPath,
      [
        LOAD,
        'ingest',
        '--url',
        s.url,
        '--api-key',
        KEYS['load-1'],
        '--agents',
        '1',
        '--agent-prefix',
        'load',
        '--total',
        '300',
        '--nodes',
        '20',
        '--quiet',
      ],
      { timeout: 60_000 },
    );
    const res = JSON.parse(
      stdout
        .trim()
        .split('\n')
        .pop()!
        .replace(/^RESULT /, ''),
    );
    expect(res).toMatchObject({ packets_accepted: 300, errors: 0 });
    await waitFor(
      '300 more receptions',
      async () => (await getJson(`${s.url}/api/stats`)).body.packets.total === before + 300,
    );
  });
});
