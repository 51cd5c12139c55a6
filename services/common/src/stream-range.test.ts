import { type NatsServer, startNatsServer } from '@mmm/testkit';
import { AckPolicy, connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStreamRange } from './stream-range.js';

const STREAM = 'RANGE';
const enc = new TextEncoder();

describe('readStreamRange (real nats-server)', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let midTimeMs = 0;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: STREAM, subjects: ['r.>'] });
    const js = nc.jetstream();
    for (let i = 1; i <= 300; i++) {
      if (i === 201) {
        // A clear gap in time, so a start time falls between message 200 and 201.
        await new Promise((r) => setTimeout(r, 50));
        midTimeMs = Date.now();
        await new Promise((r) => setTimeout(r, 50));
      }
      await js.publish(i % 2 === 0 ? 'r.even' : 'r.odd', enc.encode(String(i)));
    }
  }, 60_000);
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  const read = async (opts: Omit<Parameters<typeof readStreamRange>[2], 'stream'>) => {
    const seen: number[] = [];
    const res = await readStreamRange(nc.jetstream(), await nc.jetstreamManager(), { stream: STREAM, ...opts }, (m) => {
      seen.push(Number(new TextDecoder().decode(m.data)));
    });
    return { seen, res };
  };

  it('reads everything from the first message, in order, in several fetches', async () => {
    const { seen, res } = await read({ batch: 64 });
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(res).toEqual({ read: 300, lastSeq: 300, left: 0 });
  });

  it('starts at a sequence or a time, filters, and stops at untilSeq', async () => {
    expect((await read({ from: { seq: 291 } })).seen).toEqual([291, 292, 293, 294, 295, 296, 297, 298, 299, 300]);
    const byTime = await read({ from: { timeMs: midTimeMs } });
    expect(byTime.seen[0]).toBe(201);
    expect(byTime.seen).toHaveLength(100);
    const odd = await read({ filter: 'r.odd', from: { seq: 281 } });
    expect(odd.seen).toEqual([281, 283, 285, 287, 289, 291, 293, 295, 297, 299]);
    const until = await read({ untilSeq: 120, batch: 50 });
    expect(until.seen.at(-1)).toBeGreaterThanOrEqual(120);
    expect(until.seen.length).toBeLessThan(300);
    expect(until.res.left).toBeGreaterThan(0);
  });

  it('removes its consumer afterwards, and replaces a named one a crashed reader left', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add(STREAM, { name: 'reader', filter_subject: 'r.even', ack_policy: AckPolicy.None });
    const { seen } = await read({ name: 'reader', filter: 'r.odd', from: { seq: 299 } });
    expect(seen).toEqual([299]);
    const left: string[] = [];
    for await (const c of jsm.consumers.list(STREAM)) left.push(c.name);
    expect(left).toEqual([]);
  });

  it('gives up at the deadline and says how many were left', async () => {
    const { res } = await read({ batch: 1, deadlineMs: 0 });
    expect(res.read).toBe(0);
    expect(res.left).toBe(300);
  });
});
