import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { nodeIdFromNum, streams } from '@mmm/schemas';
import { packetKey, type Simulator, startSimulator } from '@mmm/simulator';
import { waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningAgent, startAgent } from '../agent.js';
import { agentIni, quietLog, type Stack, settingsFrom, startStack } from '../testing/test-stack.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  status: number;
}

/** The original server's agent API, as far as an agent can tell: records every request, answers `status`. */
async function legacyServer() {
  const received: Received[] = [];
  const state = { status: 200 };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      const status = state.status;
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text || '{}'), status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { status: 'success' } : { error: 'boom' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    received,
    state,
    ok: (path: string) => received.filter((r) => r.path === path && r.status === 200),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('legacy [server_*] destination', () => {
  let stack: Stack;
  let sim: Simulator;
  let agent: RunningAgent;
  let http: Awaited<ReturnType<typeof legacyServer>>;
  let leafNc: NatsConnection;
  afterAll(async () => {
    await agent?.stop();
    await sim?.stop();
    await leafNc?.close();
    await http?.close();
    await stack?.dispose();
  });

  it('posts register/data/nodedb/routes in the original shapes, acks nothing while the server fails, and catches up', async () => {
    stack = await startStack();
    sim = await startSimulator({ seed: 51, nodes: 8, rate: 25, traceDelayMs: [100, 200], traceRateLimitMs: 500 });
    http = await legacyServer();
    const excluded = sim.nodes.find((n) => n.num !== sim.myNodeNum)!.num;
    const ini = agentIni({ leafUrl: stack.leafUrl, simPort: sim.port })
      .replace('[route_discovery]\nenabled = false\n', '[route_discovery]\nenabled = true\ntimeout = 5\n')
      .concat(
        `[server_legacy]\nurl = http://127.0.0.1:${http.port}/\napi_key = secret-key\nreport_interval = 1\nmax_retries = 2\ntimeout = 2\nexclude_nodes = ${nodeIdFromNum(excluded)}\n`,
      )
      .concat('[nodedb]\ninterval_minutes = 0.05\n');
    agent = await startAgent(settingsFrom(ini, { traceGapMs: 1_000 }), { log: quietLog() });
    leafNc = await connect({ servers: stack.leafUrl });
    const jsm = await leafNc.jetstreamManager();
    const durable = 'legacy_agent1_legacy';

    await waitFor(
      'registration and a data post',
      () => http.ok('/api/agent/register').length > 0 && http.ok('/api/agent/data').length > 0,
      20_000,
    );
    // Server down: requests keep coming (probing), the ack floor does not move.
    http.state.status = 500;
    await waitFor('a failed post', () => http.received.some((r) => r.status === 500), 10_000);
    const floorAtFailure = (await jsm.consumers.info(streams.site('site1'), durable)).ack_floor.stream_seq;
    await waitFor('three failed posts', () => http.received.filter((r) => r.status === 500).length >= 3, 20_000);
    const during = await jsm.consumers.info(streams.site('site1'), durable);
    expect(during.ack_floor.stream_seq).toBe(floorAtFailure);
    expect(during.num_ack_pending).toBeGreaterThan(0);
    // Recovery: every packet arrives (the excluded node's never), each once.
    http.state.status = 200;
    await waitFor('a route post', () => http.ok('/api/agent/routes').length > 0, 30_000);
    sim.pause();
    agent.traces?.stop();
    // Replies to traceroutes already sent may still arrive after the pause, so the expectation is re-read.
    const expectedNow = () => new Set([...sim.sent.ids].filter((k) => !k.startsWith(`${excluded.toString(16)}:`)));
    const posted = () =>
      http
        .ok('/api/agent/data')
        .flatMap((r) =>
          (r.body.packets as Record<string, unknown>[]).map((p) =>
            packetKey(Number.parseInt(String(p.from_node).slice(1), 16), p.packet_id as number),
          ),
        );
    await waitFor('every packet posted', () => [...expectedNow()].every((k) => posted().includes(k)), 30_000, 250);
    const expected = expectedNow();
    expect(new Set(posted())).toEqual(expected);
    expect(posted().length).toBe(expected.size);

    for (const r of http.received) expect(r.headers['x-api-key']).toBe('secret-key');
    expect(http.ok('/api/agent/register')[0]!.body).toEqual({
      agent_id: 'agent1',
      location: { name: 'Test bench', coordinates: [52.5, 13.4] },
    });
    const data = http.ok('/api/agent/data')[0]!.body;
    expect(data).toMatchObject({ agent_id: 'agent1', location: { name: 'Test bench' } });
    expect(typeof data.timestamp).toBe('string');
    const pkt = (data.packets as Record<string, unknown>[])[0]!;
    for (const k of [
      'timestamp',
      'from_node',
      'to_node',
      'packet_id',
      'channel',
      'hop_limit',
      'want_ack',
      'rssi',
      'snr',
      'type',
      'payload',
    ])
      expect(pkt).toHaveProperty(k);
    expect(Array.isArray(data.node_status)).toBe(true);
    const types = new Set(
      http.ok('/api/agent/data').flatMap((r) => (r.body.packets as { type: string }[]).map((p) => p.type)),
    );
    expect(
      [...types].every((t) =>
        ['text_message', 'position', 'telemetry', 'user_info', 'routing', 'traceroute', 'encrypted', 'other'].includes(
          t,
        ),
      ),
    ).toBe(true);
    const nodedb = http.ok('/api/agent/nodedb').at(-1)!.body as {
      agent_id: string;
      nodes: Record<string, { user?: { longName?: string } }>;
    };
    expect(nodedb.agent_id).toBe('agent1');
    expect(Object.keys(nodedb.nodes).length).toBeGreaterThan(3);
    expect(nodedb.nodes[nodeIdFromNum(excluded)]).toBeUndefined();
    const routes = http.ok('/api/agent/routes')[0]!.body as {
      discovery_type: string;
      routes: { route_path: string[]; target_node_id: string; success: boolean }[];
    };
    expect(routes.discovery_type).toBe('traceroute');
    for (const r of routes.routes) {
      expect(r.route_path.at(-1)).toBe(r.target_node_id);
      expect(r.route_path[0]).toBe(nodeIdFromNum(sim.myNodeNum));
      expect(r.target_node_id).not.toBe(nodeIdFromNum(excluded));
    }
  }, 120_000);
});
