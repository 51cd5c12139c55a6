import { AckPolicy, connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubCluster, startHubCluster } from './nats-cluster.js';
import { leafConnections } from './nats-server.js';
import { waitFor } from './proc.js';

const enc = new TextEncoder();

describe('three-node hub cluster + leaf (real nats-servers)', () => {
  let hub: HubCluster;
  let leafNc: NatsConnection;
  let hubNc: NatsConnection;
  beforeAll(async () => {
    hub = await startHubCluster({ nodes: 3, sites: ['site1', 'site2'], cuttableSites: ['site2'] });
    leafNc = await connect({ servers: hub.leaves.site1!.url, maxReconnectAttempts: -1 });
    hubNc = await connect({ servers: hub.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    await waitFor('leaf link', async () => (await leafConnections(hub.leaves.site1!)) > 0);
  }, 60_000);
  afterAll(async () => {
    await leafNc?.close();
    await hubNc?.close();
    await hub?.dispose();
  });

  async function hubCount(): Promise<number> {
    return (await (await hubNc.jetstreamManager({ timeout: 2000 })).streams.info('MESH')).state.messages;
  }

  it('starts three routed nodes in domain hub with one meta leader', async () => {
    expect(hub.nodes.map((n) => n.name)).toEqual(['hub-0', 'hub-1', 'hub-2']);
    expect(hub.urls).toHaveLength(3);
    expect(new Set(hub.leafUrls).size).toBe(3);
    const leader = await hub.waitForMetaLeader();
    expect(hub.nodes).toContain(leader);
    const res = await fetch(`http://127.0.0.1:${hub.nodes[0]!.monitorPort}/routez`);
    expect(((await res.json()) as { num_routes: number }).num_routes).toBeGreaterThanOrEqual(2);
  });

  it('keeps an R3 stream sourcing a leaf exactly once across a kill -9 of the stream leader', async () => {
    const ljsm = await leafNc.jetstreamManager();
    await ljsm.streams.add({ name: 'MESH_site1', subjects: ['mesh.v1.site1.>'], duplicate_window: 120_000_000_000 });
    // Long API timeouts: on a loaded two-core box an R3 create or a lookup right after an election takes seconds.
    const hjsm = await hubNc.jetstreamManager({ timeout: 30_000 });
    await hjsm.streams.add({
      name: 'MESH',
      num_replicas: 3,
      duplicate_window: 120_000_000_000,
      sources: [{ name: 'MESH_site1', external: { api: '$JS.site1.API', deliver: '' } }],
    });
    await hjsm.consumers.add('MESH', { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
    const js = leafNc.jetstream();
    for (let i = 0; i < 200; i++)
      await js.publish('mesh.v1.site1.gw.rx.text', enc.encode(`m${i}`), { msgID: `m-${i}` });
    await waitFor('200 sourced', async () => (await hubCount()) === 200, 30_000);

    const victim = await hub.waitForStreamLeader('MESH', { current: true });
    await victim.kill('SIGKILL');
    expect(victim.running).toBe(false);
    for (let i = 200; i < 500; i++)
      await js.publish('mesh.v1.site1.gw.rx.text', enc.encode(`m${i}`), { msgID: `m-${i}` });
    await waitFor('500 sourced with one node down', async () => (await hubCount()) === 500, 60_000, 250);
    const next = await hub.waitForStreamLeader('MESH');
    expect(next).not.toBe(victim);

    // The consumer's own leader is elected after the stream's: look it up until it answers.
    const consumer = await waitFor(
      'the durable consumer after the election',
      () => hubNc.jetstream({ timeout: 30_000 }).consumers.get('MESH', 'reader'),
      60_000,
    );
    const seen = new Map<string, number>();
    await waitFor(
      'the durable consumer to deliver all 500',
      async () => {
        const batch = await consumer.fetch({ max_messages: 250, expires: 1000 });
        for await (const m of batch) {
          const id = m.headers?.get('Nats-Msg-Id') ?? '';
          seen.set(id, (seen.get(id) ?? 0) + 1);
          m.ack();
        }
        return seen.size >= 500;
      },
      60_000,
      0,
    );
    expect(seen.size).toBe(500);
    expect([...seen.values()].every((c) => c === 1)).toBe(true);

    await victim.restart();
    expect(victim.running).toBe(true);
    await hub.waitForStreamLeader('MESH', { current: true, timeoutMs: 60_000 });
    // A consumer replica on a node back from kill -9 reports current only once its group moves again (nats-server
    // 2.9 keeps an idle consumer group quiet): one more message through the durable is what any live stack sees.
    await js.publish('mesh.v1.site1.gw.rx.text', enc.encode('after'), { msgID: 'm-after' });
    await waitFor('the message after the restart sourced', async () => (await hubCount()) === 501, 60_000, 250);
    await waitFor(
      'the message after the restart delivered once',
      async () => {
        const batch = await consumer.fetch({ max_messages: 10, expires: 1000 });
        for await (const m of batch) {
          const id = m.headers?.get('Nats-Msg-Id') ?? '';
          seen.set(id, (seen.get(id) ?? 0) + 1);
          m.ack();
        }
        return seen.has('m-after');
      },
      60_000,
      0,
    );
    expect(seen.size).toBe(501);
    expect([...seen.values()].every((c) => c === 1)).toBe(true);
    await hub.waitForHealthy(60_000);
  }, 180_000);

  it('cuts a site off every hub node and heals it: the leaf keeps running and links again', async () => {
    const leaf = hub.leaves.site2!;
    await waitFor('site2 linked', async () => (await leafConnections(leaf)) > 0, 30_000);
    await hub.cutSite('site2');
    await waitFor('site2 cut off', async () => (await leafConnections(leaf)) === 0, 30_000);
    // still unreachable a few reconnect attempts later (the leaf retries every second)
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await leafConnections(leaf)).toBe(0);
    expect(leaf.process.running).toBe(true);
    await hub.healSite('site2');
    await waitFor('site2 linked again', async () => (await leafConnections(leaf)) > 0, 30_000);
  }, 90_000);
});
