import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig, sampleConfig } from '@mmm/common';
import { type Link, streams } from '@mmm/schemas';
import { freePort, type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphSettings, routeAnalysisConfig } from './config.js';
import { TopologyGraph } from './domain/graph.js';
import { observe } from './domain/observe.js';
import { syntheticMesh } from './test-mesh.js';
import { createHubStream, hubLastSeq, kvJson, publishEvents, testConfig } from './test-nats.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const MAIN = join(ROOT, 'services/cli/src/main.ts');

/** The real `mmm route-analysis` process (not the bin wrapper), so kill -9 hits the service itself. */
function mmm(args: string[]): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MMM_FROM_SOURCE: '1' },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  return Object.assign(child, { output: () => out });
}

const exited = (c: ChildProcess) =>
  new Promise<number | null>((r) =>
    c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code)),
  );

let server: NatsServer;
let nc: NatsConnection;
let dir: string;

beforeAll(async () => {
  server = await startNatsServer({ name: 'route-analysis-cli' });
  nc = await connect({ servers: server.url });
  dir = mkdtempSync(join(tmpdir(), 'mmm-ra-cli-'));
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('mmm route-analysis', () => {
  it('writes a sample config that loads, and rejects unknown keys with exit code 2 naming the key', async () => {
    const file = join(dir, 'sample.ini');
    const sample = sampleConfig(routeAnalysisConfig);
    expect(sample).toMatch(/link_max_age = 45000/);
    const cfg = parseConfig(routeAnalysisConfig, sample, file, { env: {} });
    expect(cfg.route_analysis).toMatchObject({
      durable: 'route-analysis',
      bucket: 'mesh_topology',
      flush_interval: 1000,
    });
    writeFileSync(file, sample.replace('[route_analysis]\n', '[route_analysis]\nlink_max_agee = 5\n'));
    const b = mmm(['route-analysis', '--config', file]);
    expect(await exited(b)).toBe(2);
    expect(b.output()).toMatch(/\[route_analysis\] link_max_agee: unknown key/);
  });

  it('survives kill -9 mid-run: after a restart the snapshot equals the graph of every event counted once', async () => {
    const jsm = await nc.jetstreamManager();
    await createHubStream(jsm);
    const opsPort = await freePort();
    const file = join(dir, 'ra.ini');
    writeFileSync(
      file,
      `[nats]\nurl = ${server.url}\n[route_analysis]\nflush_interval = 200\nlinks_interval = 0\nbatch = 200\n[ops]\nport = ${opsPort}\n`,
    );
    const mesh = syntheticMesh(31, { nodes: 40, rounds: 25, t0: Date.now() - 10 * 60_000 });
    const events = mesh.events;
    const js = nc.jetstream();
    const state = () => kvJson<{ lastSeq: number }>(nc, 'meta', 'mesh_topology_state');

    let proc = mmm(['route-analysis', '--config', file]);
    try {
      const third = Math.floor(events.length / 3);
      await publishEvents(js, events.slice(0, third));
      await waitFor('a first checkpoint', async () => ((await state())?.lastSeq ?? 0) > 0, 60_000);
      // Keep publishing while it works, then kill it by pid between flushes of a batch.
      const publishing = publishEvents(js, events.slice(third, 2 * third));
      await waitFor('progress past the first third', async () => ((await state())?.lastSeq ?? 0) > third, 60_000);
      proc.kill('SIGKILL');
      expect(await exited(proc)).toBe(null);
      await publishing;
      const atKill = (await state())!.lastSeq;
      await publishEvents(js, events.slice(2 * third));
      // The same measurements again under new Msg-Ids: duplicates the hub stream did not drop.
      await publishEvents(js, events.slice(0, 200), ':again');
      expect(atKill).toBeLessThan(await hubLastSeq(jsm));

      proc = mmm(['route-analysis', '--config', file]);
      const last = await hubLastSeq(jsm);
      await waitFor('the restarted service to catch up', async () => ((await state())?.lastSeq ?? 0) >= last, 90_000);
      const links = (await kvJson<Link[]>(nc, 'links'))!;
      const expected = new TopologyGraph(graphSettings(testConfig(server.url)));
      for (const ev of events) for (const o of observe(ev)) expected.apply(o);
      expected.flush(Date.now());
      expect(links).toEqual(expected.allLinks());
      expect(links.length).toBe(mesh.links.length);
      // Ops endpoints of the running process.
      const health = (await (await fetch(`http://127.0.0.1:${opsPort}/healthz`)).json()) as {
        lastSeq: number;
        links: number;
      };
      expect(health).toMatchObject({ status: 'ok', lastSeq: last, links: mesh.links.length });
      const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      expect(metrics).toMatch(/mmm_route_analysis_events_total\{result="applied"/);
      expect((await jsm.consumers.info(streams.hub, 'route-analysis')).num_pending).toBe(0);
      proc.kill('SIGTERM');
      expect(await exited(proc)).toBe(0);
    } finally {
      proc.kill('SIGKILL');
    }
    // Two process starts through tsx and a few thousand events on a box shared with other test runs.
  }, 180_000);
});
