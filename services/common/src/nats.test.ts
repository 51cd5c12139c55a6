import { type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, ensureConsumer, ensureStream } from './nats.js';
import { JetStreamPublisher } from './publisher.js';

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer({ name: 'common-nats' });
  nc = await connectNats({ servers: server.url, name: 'test' });
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

describe('ensureStream / ensureConsumer', () => {
  it('create once, are no-ops when unchanged, and update what changed', async () => {
    const jsm = await nc.jetstreamManager();
    const a = await ensureStream(jsm, { name: 'T1', subjects: ['t1.>'], duplicate_window: 120_000_000_000 });
    const b = await ensureStream(jsm, { name: 'T1', subjects: ['t1.>'], duplicate_window: 120_000_000_000 });
    expect(b.created).toEqual(a.created);
    const c = await ensureStream(jsm, { name: 'T1', subjects: ['t1.>', 't1b.>'] });
    expect(c.config.subjects).toEqual(['t1.>', 't1b.>']);
    await ensureConsumer(jsm, 'T1', { durable_name: 'w', ack_policy: 'explicit' as never, max_ack_pending: 10 });
    const d = await ensureConsumer(jsm, 'T1', {
      durable_name: 'w',
      ack_policy: 'explicit' as never,
      max_ack_pending: 20,
    });
    expect(d.config.max_ack_pending).toBe(20);
  });
});

describe('JetStreamPublisher', () => {
  it('stores every message exactly once across a kill -9 of the server, retrying with the same Msg-Id', async () => {
    const jsm = await nc.jetstreamManager();
    await ensureStream(jsm, { name: 'PUB', subjects: ['pub.>'], duplicate_window: 120_000_000_000 });
    const pub = new JetStreamPublisher(nc.jetstream(), { window: 64, ackTimeoutMs: 1000, retryMaxMs: 500 });
    const n = 3000;
    const enc = new TextEncoder();
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      all.push(pub.publish(`pub.m`, enc.encode(`{"i":${i}}`), `m-${i}`));
      if (i === 1000) {
        await server.kill('SIGKILL');
        setTimeout(() => void server.restart(), 1500);
      }
    }
    await Promise.all(all);
    expect(pub.pending).toBe(0);
    const info = await waitFor('stream count', async () => {
      const s = await jsm.streams.info('PUB');
      return s.state.messages === n ? s : undefined;
    });
    expect(info.state.messages).toBe(n);
    expect(pub.published).toBe(n);
  });
});
