import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Link, streams } from '@mmm/schemas';
import { freePort, type NatsServer, startHubCluster, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection, StorageType } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LEASE_TTL_S, graphSettings } from './config.js';
import { TopologyGraph } from './domain/graph.js';
import { observe } from './domain/observe.js';
import { syntheticMesh } from './test-mesh.js';
import { createHubStream, hubLastSeq, kvJson, publishEvents, testConfig } from './test-nats.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const MAIN = join(ROOT, 'services/cli/src/main.ts');
/** What the issue asks of a standby: the topology updates again within this long of the writer's kill -9. */
const TAKEOVER_LIMIT_MS = 15_000;

interface Copy {
  proc: ChildProcess;
  ops: number;
  output: () => string;
}

/** One real `mmm route-analysis` process (not the bin wrapper), so kill -9 hits the service itself. */
function copy(file: string, ops: number): Copy {
  const proc = spawn(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', MAIN, 'route-analysis', '--config', file],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MMM_FROM_SOURCE: '1', MMM_OPS_PORT: String(ops) },
    },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  proc.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  return { proc, ops, output: () => out };
}

async function role(c: Copy): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${c.ops}/healthz`, { signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { role?: string }).role;
  } catch {
    return undefined;
  }
}

const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

let server: NatsServer;
let nc: NatsConnection;
let dir: string;
const copies: Copy[] = [];

beforeAll(async () => {
  server = await startNatsServer({ name: 'route-analysis-failover' });
  nc = await connect({ servers: server.url });
  dir = mkdtempSync(join(tmpdir(), 'mmm-ra-failover-'));
});

afterAll(async () => {
  for (const c of copies) c.proc.kill('SIGKILL');
  await Promise.all(copies.map((c) => exited(c.proc)));
  await nc?.close();
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('route analysis as two copies with a writer lease', () => {
  it('has one writer; after kill -9 of the writer the standby takes over and the topology keeps updating within 15 s, each event counted once', async () => {
    const jsm = await nc.jetstreamManager();
    await createHubStream(jsm);
    const file = join(dir, 'ra.ini');
    // The default lease TTL: what an operator runs.
    writeFileSync(
      file,
      `[nats]\nurl = ${server.url}\n[route_analysis]\nflush_interval = 200\nlinks_interval = 0\nbatch = 200\ninstance_id = copy\n`,
    );
    const mesh = syntheticMesh(41, { nodes: 30, rounds: 20, t0: Date.now() - 10 * 60_000 });
    const events = mesh.events;
    const half = Math.floor(events.length / 2);
    const js = nc.jetstream();
    const meta = () => kvJson<{ lastSeq: number }>(nc, 'meta', 'mesh_topology_state');
    await publishEvents(js, events.slice(0, half));

    const a = copy(file, await freePort());
    copies.push(a);
    await waitFor('copy a to become the writer', async () => (await role(a)) === 'writer', 90_000, 250);
    const b = copy(file, await freePort());
    copies.push(b);
    await waitFor('copy b to stand by', async () => (await role(b)) === 'standby', 90_000, 250);
    const first = await hubLastSeq(jsm);
    await waitFor(
      'the writer to checkpoint the first half',
      async () => ((await meta())?.lastSeq ?? 0) >= first,
      60_000,
    );
    // A standby really stands by: it stays one for several lease renewals.
    await new Promise((r) => setTimeout(r, DEFAULT_LEASE_TTL_S * 1000));
    expect(await role(b)).toBe('standby');
    expect(await role(a)).toBe('writer');

    a.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await exited(a.proc);
    await publishEvents(js, events.slice(half));
    const last = await hubLastSeq(jsm);
    await waitFor(
      'the standby to take over and checkpoint the second half',
      async () => ((await meta())?.lastSeq ?? 0) >= last,
      TAKEOVER_LIMIT_MS,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\ncopy b:\n${b.output()}`);
    });
    const gapMs = Date.now() - killedAt;
    expect(await role(b)).toBe('writer');
    process.stderr.write(`route-analysis takeover: topology updated ${gapMs} ms after kill -9 of the writer\n`);

    const links = (await kvJson<Link[]>(nc, 'links'))!;
    const expected = new TopologyGraph(graphSettings(testConfig(server.url)));
    for (const ev of events) for (const o of observe(ev)) expected.apply(o);
    expected.flush(Date.now());
    expect(links).toEqual(expected.allLinks());
    expect((await jsm.consumers.info(streams.hub, 'route-analysis')).num_pending).toBe(0);

    // A clean stop hands the lease over at once: a fresh copy becomes the writer without waiting for the TTL.
    const c = copy(file, await freePort());
    copies.push(c);
    await waitFor('copy c to stand by', async () => (await role(c)) === 'standby', 90_000, 250);
    b.proc.kill('SIGTERM');
    await exited(b.proc);
    await waitFor('copy c to take over after the clean stop', async () => (await role(c)) === 'writer', 30_000, 100);
  }, 300_000);

  it('on a three-node hub with R3 buckets: the lease survives kill -9 of the node leading its bucket (still one writer), and the standby takes over from a killed writer', async () => {
    const hub = await startHubCluster({ nodes: 3 });
    const hnc = await connect({ servers: hub.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const local: Copy[] = [];
    try {
      const jsm = await hnc.jetstreamManager({ timeout: 20_000 });
      await jsm.streams.add({
        name: streams.hub,
        subjects: ['mesh.v1.s1.>', 'mesh.v1.s2.>'],
        storage: StorageType.File,
        num_replicas: 3,
        duplicate_window: 120_000_000_000,
      });
      const file = join(dir, 'ra-cluster.ini');
      writeFileSync(
        file,
        `[nats]\nurl = ${hub.urls.join(',')}\n[route_analysis]\nflush_interval = 200\nlinks_interval = 0\nbatch = 200\nreplicas = 3\n`,
      );
      const mesh = syntheticMesh(43, { nodes: 24, rounds: 18, t0: Date.now() - 10 * 60_000 });
      const third = Math.floor(mesh.events.length / 3);
      const js = hnc.jetstream();
      const meta = () => kvJson<{ lastSeq: number }>(hnc, 'meta', 'mesh_topology_state');
      // Publishes are retried as a whole (Msg-Ids make that safe): one may land in an election after a kill.
      const send = (evs: typeof mesh.events) =>
        waitFor('publish', () => publishEvents(js, evs).then(() => true), 60_000, 500);
      const caughtUp = async (what: string, ms: number) => {
        const last = (await jsm.streams.info(streams.hub)).state.last_seq;
        await waitFor(what, async () => ((await meta())?.lastSeq ?? 0) >= last, ms, 100);
      };
      await send(mesh.events.slice(0, third));
      const a = copy(file, await freePort());
      const b = copy(file, await freePort());
      local.push(a, b);
      copies.push(a, b);
      const roles = async () => (await Promise.all([role(a), role(b)])).sort().join(',');
      await waitFor('one writer and one standby', async () => (await roles()) === 'standby,writer', 120_000, 250);
      await caughtUp('the first third checkpointed', 60_000);
      const lease = await jsm.streams.info('KV_mesh_topology_lease');
      expect(lease.config.num_replicas).toBe(3);
      expect((await jsm.streams.info('KV_mesh_topology_state')).config.num_replicas).toBe(3);

      // The node leading the lease bucket dies: a new bucket leader is elected; the writer keeps (or retakes) its
      // lease, and at no point are there two writers.
      const bucketLeader = hub.node(lease.cluster!.leader!);
      await bucketLeader.kill('SIGKILL');
      let both = 0;
      const watching = (async () => {
        const end = Date.now() + 15_000;
        while (Date.now() < end) {
          if ((await roles()) === 'writer,writer') both++;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await send(mesh.events.slice(third, 2 * third));
      await caughtUp('the second third checkpointed with a hub node down', 60_000);
      await watching;
      expect(both, 'observations of two writers at once').toBe(0);
      await bucketLeader.restart();
      await hub.waitForHealthy(60_000, { serverOnly: true });
      for (const stream of [streams.hub, 'KV_mesh_topology_lease', 'KV_mesh_topology_state'])
        await hub.waitForStreamLeader(stream, { current: true, timeoutMs: 60_000 });

      // Now the writer process dies: the standby takes over on the replicated buckets. (Killing a second hub node as
      // well was tried: on the loaded two-core box the degraded cluster then sometimes refused to create the durable
      // consumer for over a minute, which is the cluster's recovery, not the lease.)
      const writer = (await role(a)) === 'writer' ? a : b;
      const standby = writer === a ? b : a;
      writer.proc.kill('SIGKILL');
      await exited(writer.proc);
      await send(mesh.events.slice(2 * third));
      await caughtUp('the standby to take over and checkpoint the rest', 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\nstandby:\n${standby.output()}`);
      });
      expect(await role(standby)).toBe('writer');
      const expected = new TopologyGraph(graphSettings(testConfig(hub.urls.join(','))));
      for (const ev of mesh.events) for (const o of observe(ev)) expected.apply(o);
      expected.flush(Date.now());
      // Reads may be served by any replica (direct get): poll until one that is current answers.
      const want = JSON.stringify(expected.allLinks());
      const links = await waitFor(
        'the snapshot to hold every link',
        async () => {
          const l = await kvJson<Link[]>(hnc, 'links');
          return JSON.stringify(l) === want ? l : undefined;
        },
        20_000,
        250,
      ).catch(async () => kvJson<Link[]>(hnc, 'links'));
      expect(links).toEqual(expected.allLinks());
    } finally {
      for (const c of local) c.proc.kill('SIGKILL');
      await Promise.all(local.map((c) => exited(c.proc)));
      await hnc.close();
      await hub.dispose();
    }
  }, 400_000);
});
