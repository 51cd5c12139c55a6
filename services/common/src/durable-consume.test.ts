import { type HubCluster, startHubCluster, waitFor } from '@mmm/testkit';
import { AckPolicy, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeDurable } from './durable-consume.js';
import { connectNats, ensureConsumer } from './nats.js';
import { JetStreamPublisher } from './publisher.js';

const enc = new TextEncoder();
const STREAM = 'WORK';
const DURABLE = 'worker';
const ensure = (jsm: JetStreamManager) =>
  ensureConsumer(jsm, STREAM, { durable_name: DURABLE, ack_policy: AckPolicy.Explicit, ack_wait: 10_000_000_000 });

describe('consumeDurable on a three-node hub (real nats-servers, kill -9)', () => {
  let hub: HubCluster;
  let nc: NatsConnection;
  let pubNc: NatsConnection;
  beforeAll(async () => {
    hub = await startHubCluster({ nodes: 3 });
    nc = await connectNats({ servers: hub.urls, name: 'consumer' });
    pubNc = await connectNats({ servers: hub.urls, name: 'publisher' });
    const jsm = await pubNc.jetstreamManager();
    await jsm.streams.add({ name: STREAM, subjects: ['work.>'], num_replicas: 3, duplicate_window: 120_000_000_000 });
    await ensure(jsm);
  }, 60_000);
  afterAll(async () => {
    await nc?.close();
    await pubNc?.close();
    await hub?.dispose();
  });

  it('keeps delivering across kills of the consumer leader and a deleted consumer, each message acked once', async () => {
    const abort = new AbortController();
    const seen = new Map<number, number>();
    let unflaggedRepeats = 0;
    const seqs = new Set<number>();
    const bySeq = new Map<number, number>();
    // A publish retried across a stream leader change may be stored twice (2.9's dedup state is the leader's):
    // the idempotent store absorbs those; they are counted, not failed.
    const storedTwice = new Set<number>();
    let deleted = false;
    const rebinds: string[] = [];
    let lastAt = Date.now();
    const gaps: number[] = [];
    const reading = (async () => {
      for await (const m of consumeDurable({
        nc,
        stream: STREAM,
        durable: DURABLE,
        maxMessages: 200,
        ensure,
        signal: abort.signal,
        onRebind: (r) => rebinds.push(r),
      })) {
        const i = Number(new TextDecoder().decode(m.data));
        if (!seen.has(i)) {
          const now = Date.now();
          gaps.push(now - lastAt);
          lastAt = now;
        }
        // ingest's idempotent store relies on it: a message delivered again by the same consumer says so
        if (seqs.has(m.seq) && !m.redelivered && !deleted) unflaggedRepeats++;
        const firstSeq = bySeq.get(i);
        if (firstSeq === undefined) bySeq.set(i, m.seq);
        else if (firstSeq !== m.seq) storedTwice.add(i);
        seqs.add(m.seq);
        seen.set(i, (seen.get(i) ?? 0) + 1);
        m.ack();
      }
    })();

    // A steady publisher (retrying each message with its Msg-Id while the cluster elects leaders).
    const pub = new JetStreamPublisher(pubNc.jetstream(), { window: 64 });
    let published = 0;
    let acked = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        const batch: Promise<unknown>[] = [];
        for (let k = 0; k < 20; k++, published++)
          batch.push(
            pub.publish(`work.${published % 5}`, enc.encode(String(published)), `w-${published}`).then(() => {
              acked++;
            }),
          );
        await Promise.all(batch);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const kills = 3;
    const resumeMs: number[] = [];
    const pubResumeMs: number[] = [];
    for (let k = 0; k < kills; k++) {
      const before = seen.size;
      await waitFor('progress before the kill', () => seen.size > before + 100, 60_000, 100);
      const leader = await waitFor('the consumer leader', () => hub.consumerLeader(STREAM, DURABLE), 30_000, 250);
      await leader.kill('SIGKILL');
      const killedAt = Date.now();
      const atKill = seen.size;
      const ackedAtKill = acked;
      const pubResumed = waitFor('publishing to resume', () => acked > ackedAtKill, 60_000, 50).then(
        () => Date.now() - killedAt,
      );
      await waitFor('delivery to resume with the leader dead', () => seen.size > atKill, 60_000, 50);
      resumeMs.push(Date.now() - killedAt);
      pubResumeMs.push(await pubResumed);
      await waitFor('delivery to go on with the leader dead', () => seen.size > atKill + 100, 60_000, 100);
      await leader.restart();
      await hub.waitForStreamLeader(STREAM, { current: true, timeoutMs: 60_000 });
    }
    // The consumer deleted under the reader: it is recreated (from the start, so everything is redelivered).
    deleted = true;
    await (await pubNc.jetstreamManager()).consumers.delete(STREAM, DURABLE);
    const atDelete = published;
    await waitFor('delivery after the consumer was recreated', () => published > atDelete + 100, 30_000, 100);
    publishing = false;
    await publisher;
    await waitFor(`all ${published} delivered`, () => seen.size === published, 90_000, 200);
    abort.abort();
    await reading;

    if (process.env.MMM_TEST_LOG) {
      const hist = new Map<number, number>();
      for (const c of seen.values()) hist.set(c, (hist.get(c) ?? 0) + 1);
      console.error(
        'rebinds',
        rebinds,
        'longest gap ms',
        Math.max(...gaps),
        'resume after kill ms',
        resumeMs,
        'publish resumed ms',
        pubResumeMs,
        'deliveries per message',
        hist,
        'unflagged repeats',
        unflaggedRepeats,
        'stored twice',
        storedTwice.size,
      );
    }
    expect(seen.size).toBe(published);
    // the server says so either on the pull (409) or on nats.js's own lookup
    expect(rebinds.some((r) => r === 'consumer_deleted' || r === 'consumer_not_found')).toBe(true);
    expect(unflaggedRepeats).toBe(0);
  }, 300_000);
});
