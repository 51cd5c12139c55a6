import { createClient } from '@clickhouse/client';
import { AckPolicy, connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickHouse } from './clickhouse-server.js';
import { type HubAndLeaves, leafConnections, startHubAndLeaves } from './nats-server.js';
import { waitFor } from './proc.js';

const enc = new TextEncoder();

describe('hub + leaf JetStream sourcing (real nats-servers)', () => {
  let mesh: HubAndLeaves;
  let leafNc: NatsConnection;
  beforeAll(async () => {
    mesh = await startHubAndLeaves(['site1']);
    leafNc = await connect({ servers: mesh.leaves.site1!.url, maxReconnectAttempts: -1 });
    await waitFor('leaf link', async () => (await leafConnections(mesh.hub)) > 0);
  });
  afterAll(async () => {
    await leafNc?.close();
    await mesh?.dispose();
  });

  async function hubCount(): Promise<number> {
    const nc = await connect({ servers: mesh.hub.url });
    try {
      return (await (await nc.jetstreamManager()).streams.info('MESH')).state.messages;
    } finally {
      await nc.close();
    }
  }

  it('delivers leaf messages to a durable consumer on the hub, exactly once across a kill -9 of the hub', async () => {
    const ljsm = await leafNc.jetstreamManager();
    await ljsm.streams.add({ name: 'MESH_site1', subjects: ['mesh.v1.site1.>'], duplicate_window: 120_000_000_000 });
    const hubNc = await connect({ servers: mesh.hub.url });
    const hjsm = await hubNc.jetstreamManager();
    await hjsm.streams.add({
      name: 'MESH',
      duplicate_window: 120_000_000_000,
      sources: [{ name: 'MESH_site1', external: { api: '$JS.site1.API', deliver: '' } }],
    });
    await hubNc.close();
    const js = leafNc.jetstream();
    for (let i = 0; i < 100; i++)
      await js.publish('mesh.v1.site1.gw.rx.text', enc.encode(`m${i}`), { msgID: `m-${i}` });
    await waitFor('100 sourced', async () => (await hubCount()) === 100);

    await mesh.hub.kill('SIGKILL');
    for (let i = 100; i < 600; i++)
      await js.publish('mesh.v1.site1.gw.rx.text', enc.encode(`m${i}`), { msgID: `m-${i}` });
    // a retry of an already stored id is a no-op on the leaf
    const dup = await js.publish('mesh.v1.site1.gw.rx.text', enc.encode('m5'), { msgID: 'm-5' });
    expect(dup.duplicate).toBe(true);
    await mesh.hub.restart();
    await waitFor('600 sourced after the hub returns', async () => (await hubCount()) === 600, 30_000);

    const nc = await connect({ servers: mesh.hub.url });
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add('MESH', { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
    const consumer = await nc.jetstream().consumers.get('MESH', 'reader');
    const seen = new Map<string, number>();
    while (seen.size < 600) {
      const batch = await consumer.fetch({ max_messages: 200, expires: 1000 });
      for await (const m of batch) {
        const id = m.headers?.get('Nats-Msg-Id') ?? '';
        seen.set(id, (seen.get(id) ?? 0) + 1);
        m.ack();
      }
    }
    expect(seen.size).toBe(600);
    expect([...seen.values()].every((c) => c === 1)).toBe(true);
    await nc.close();
  });
});

describe('clickhouse-server (real)', () => {
  it('writes and reads a MergeTree table', async () => {
    const ch = await startClickHouse();
    const client = createClient({ url: ch.url });
    try {
      await client.command({
        query: `CREATE TABLE t (ts DateTime, node UInt32, snr Float32, name String)
                ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (node, ts)`,
      });
      await client.insert({
        table: 't',
        format: 'JSONEachRow',
        values: [
          { ts: 1_700_000_000, node: 1, snr: 6.25, name: "it's <b>" },
          { ts: 1_700_000_060, node: 2, snr: 0, name: 'café' },
        ],
      });
      const rows = await (
        await client.query({ query: 'SELECT node, snr, name FROM t ORDER BY node', format: 'JSONEachRow' })
      ).json();
      expect(rows).toEqual([
        { node: 1, snr: 6.25, name: "it's <b>" },
        { node: 2, snr: 0, name: 'café' },
      ]);
    } finally {
      await client.close();
      await ch.dispose();
    }
  });
});
