import { waitFor } from '@mmm/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rx, type Stack, startStack, status } from '../testing.js';

const BOB = 0x0000beef;
const CAROL = 0x00c0ffee;

interface Msg {
  type: string;
  seq?: number;
  [k: string]: unknown;
}

/** A live-feed client that records every message with its arrival time. */
function client(url: string) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/live`);
  const got: { at: number; m: Msg }[] = [];
  ws.on('message', (d) => got.push({ at: Date.now(), m: JSON.parse(d.toString()) as Msg }));
  const opened = new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  return {
    ws,
    got,
    opened,
    of: (type: string) => got.filter((g) => g.m.type === type).map((g) => g.m),
    send: (m: unknown) => ws.send(JSON.stringify(m)),
  };
}

describe('live WebSocket feed', () => {
  let s: Stack;
  const open: WebSocket[] = [];
  beforeAll(async () => {
    s = await startStack('[live]\nqueue_max = 50\nnode_rate_hz = 4\nheartbeat_s = 30\n');
    await s.publish(status('gw-1', { name: 'Roof' }));
    await s.publish(rx('position', { latitudeI: 525310000, longitudeI: 134120000 }, { from: BOB }));
    await s.publish(rx('position', { latitudeI: 485310000, longitudeI: 24120000 }, { from: CAROL }));
    await waitFor(
      'nodes projected',
      () => (s.api.db.prepare('SELECT count(*) AS c FROM nodes WHERE lat IS NOT NULL').get() as { c: number }).c === 2,
    );
  });
  afterEach(() => {
    for (const w of open.splice(0)) w.terminate();
  });
  afterAll(async () => s?.dispose());

  it('sends hello and a snapshot, then an event published on NATS within 1 s, with consecutive seq numbers', async () => {
    const c = client(s.url);
    open.push(c.ws);
    await c.opened;
    await waitFor('snapshot', () => c.of('snapshot').length === 1);
    expect(c.got[0]?.m).toMatchObject({ type: 'hello', protocol: 1 });
    const snap = c.of('snapshot')[0]!;
    expect((snap.nodes as { node_id: string }[]).map((n) => n.node_id).sort()).toEqual(['!0000beef', '!00c0ffee']);
    expect((snap.agents as { agent_id: string }[])[0]).toMatchObject({ agent_id: 'gw-1', location_name: 'Roof' });
    const t0 = Date.now();
    await s.publish(rx('text', { text: 'live!' }, { from: BOB }));
    await waitFor('reception', () => c.of('reception').length === 1, 2000, 5);
    const arrived = c.got.find((g) => g.m.type === 'reception')!;
    expect(arrived.at - t0).toBeLessThan(1000);
    expect(arrived.m.packet).toMatchObject({ type: 'text_message', payload: 'live!', from_node: '!0000beef' });
    await waitFor('node update', () => c.of('node').length >= 1, 2000, 5);
    const seqs = c.got.filter((g) => g.m.seq !== undefined).map((g) => g.m.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('applies a subscribe filter (kinds, nodes, bbox) to the snapshot and to deltas', async () => {
    const c = client(s.url);
    open.push(c.ws);
    await c.opened;
    await waitFor('first snapshot', () => c.of('snapshot').length === 1);
    c.send({ type: 'subscribe', kinds: ['node', 'reception'], bbox: [13, 52, 14, 53] });
    await waitFor('filtered snapshot', () => c.of('snapshot').length === 2);
    const snap = c.of('snapshot')[1]!;
    expect((snap.nodes as { node_id: string }[]).map((n) => n.node_id)).toEqual(['!0000beef']);
    expect(snap.agents).toEqual([]);
    await s.publish(rx('text', { text: 'from carol' }, { from: CAROL }));
    await s.publish(rx('text', { text: 'from bob' }, { from: BOB }));
    await waitFor('bob reception', () => c.of('reception').length >= 1, 2000, 5);
    await new Promise((r) => setTimeout(r, 400)); // let any wrongly routed carol message arrive
    expect(c.of('reception').map((m) => (m.packet as { payload: string }).payload)).toEqual(['from bob']);
    expect(c.of('node').every((m) => (m.node as { node_id: string }).node_id === '!0000beef')).toBe(true);
    c.send({ type: 'subscribe', bbox: [20, 60, 10, 50] });
    c.send('not json at all');
    await waitFor('errors', () => c.of('error').length === 2);
    expect(c.of('error')[0]!.message).toContain('bbox');
  });

  it('coalesces node updates to at most 4 per second per node', async () => {
    const c = client(s.url);
    open.push(c.ws);
    await c.opened;
    c.send({ type: 'subscribe', kinds: ['node'], nodes: ['!0000beef'] });
    await waitFor('snapshot', () => c.of('snapshot').length === 2);
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        s.publish(rx('position', { latitudeI: 525310000 + i, longitudeI: 134120000 }, { from: BOB })),
      ),
    );
    await waitFor(
      'last position',
      () => c.of('node').some((m) => (m.node as { position: number[] }).position[0] === (525310000 + 59) / 1e7),
      5000,
      10,
    );
    const secs = Math.max(1, (Date.now() - t0) / 1000);
    const n = c.of('node').length;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(Math.ceil(secs * 4) + 1);
  });

  it('does not buffer without bound for a client that stops reading: the queue is dropped and it is resynced', async () => {
    const c = client(s.url);
    open.push(c.ws);
    await c.opened;
    await waitFor('snapshot', () => c.of('snapshot').length === 1);
    const server = [...s.api.live.clients].at(-1)!;
    // Stop reading: the kernel buffers fill, the server's sends stop completing, its queue hits queue_max (50).
    (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const resyncsBefore = (await s.api.metrics.wsResyncs.get()).values[0]?.value ?? 0;
    const big = 'x'.repeat(4000);
    let maxQueued = 0;
    let maxBuffered = 0;
    const probe = setInterval(() => {
      maxQueued = Math.max(maxQueued, server.queued);
      maxBuffered = Math.max(maxBuffered, server.ws.bufferedAmount);
    }, 5);
    for (let b = 0; b < 10; b++) {
      await Promise.all(Array.from({ length: 300 }, () => s.publish(rx('text', { text: big }, { from: CAROL }))));
    }
    await waitFor(
      'resync counted',
      async () => ((await s.api.metrics.wsResyncs.get()).values[0]?.value ?? 0) > resyncsBefore,
      10_000,
    );
    clearInterval(probe);
    expect(maxQueued).toBeLessThanOrEqual(50);
    // What ws holds is bounded by the in-flight sends (16 x ~5 KB plus one snapshot), not by the 3000 events (12 MB).
    expect(maxBuffered).toBeLessThan(2 * 1024 * 1024);
    (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await waitFor(
      'resync and fresh snapshot',
      () =>
        c.of('resync').length >= 1 &&
        c.got.findLastIndex((g) => g.m.type === 'snapshot') > c.got.findIndex((g) => g.m.type === 'resync'),
      20_000,
    );
  });
});

describe('live feed heartbeats', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack('[live]\nheartbeat_s = 0.2\n');
  });
  afterAll(async () => s?.dispose());

  it('sends app heartbeats and closes a peer that stops answering pings', async () => {
    const c = client(s.url);
    await c.opened;
    await waitFor('heartbeat', () => c.of('heartbeat').length >= 2, 3000);
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)));
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await waitFor('server dropped the client', () => s.api.live.clients.size === 0, 5000);
    (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(typeof (await closed)).toBe('number');
  });
});
