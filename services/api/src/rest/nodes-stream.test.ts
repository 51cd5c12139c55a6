import { waitFor } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, nodedb, type Stack, startStack } from '../testing.js';

/** More than the old silent cap of 500 and more than two of the stream's pages. */
const NODES = 1_234;

describe('/api/nodes/detailed without limit', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
    const now = Date.now();
    // Two snapshots of different agents, so each page also carries per-agent rows; heard at distinct times so the
    // order is the projection's (updated_at), newest first.
    const nodes = Array.from({ length: NODES }, (_, i) => ({
      num: 0x1000 + i,
      user: { longName: `Node ${i}`, shortName: `N${i % 1000}`, role: i % 3 },
      lastHeard: Math.floor((now - i * 1000) / 1000),
      hopsAway: i % 4,
    }));
    await s.publish(nodedb('gw-1', nodes, now));
    await s.publish(nodedb('gw-2', nodes.slice(0, 600), now));
    await waitFor(
      'nodes projected',
      async () => (await getJson(`${s.url}/api/nodes/detailed?limit=1&hours=168`)).body.total >= NODES,
      30_000,
      100,
    );
  }, 120_000);
  afterAll(() => s?.dispose());

  it('returns every node, streamed, each once; limit and offset still page', async () => {
    const res = await fetch(`${s.url}/api/nodes/detailed?hours=168`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    // Streamed: no length known up front.
    expect(res.headers.get('content-length')).toBeNull();
    const body = (await res.json()) as {
      nodes: { node_id: string; node_num: number; long_name: string; agent_count: number }[];
      total: number;
      limit: number;
      offset: number;
    };
    expect(body.total).toBe(NODES);
    expect(body.nodes).toHaveLength(NODES);
    expect(new Set(body.nodes.map((n) => n.node_num)).size).toBe(NODES);
    expect(body.nodes.find((n) => n.node_num === 0x1000 + 1000)).toMatchObject({
      node_id: '!000013e8',
      long_name: 'Node 1000',
      agent_count: 1,
    });
    expect(body.nodes.find((n) => n.node_num === 0x1000 + 5)?.agent_count).toBe(2);

    const paged = await getJson(`${s.url}/api/nodes/detailed?hours=168&limit=500`);
    expect(paged.body.nodes).toHaveLength(500);
    expect(paged.body.total).toBe(NODES);
    // The stream and a page list nodes in the same order.
    expect(paged.body.nodes.map((n: { node_num: number }) => n.node_num)).toEqual(
      body.nodes.slice(0, 500).map((n) => n.node_num),
    );

    const rest = await getJson(`${s.url}/api/nodes/detailed?hours=168&offset=1000`);
    expect(rest.body.nodes).toHaveLength(NODES - 1000);
    expect(rest.body).toMatchObject({ total: NODES, offset: 1000 });
    expect(rest.body.nodes.map((n: { node_num: number }) => n.node_num)).toEqual(
      body.nodes.slice(1000).map((n) => n.node_num),
    );
  });
});
