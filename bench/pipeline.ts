// `npm run bench -- pipeline [receptions] [backlog] [--store S] [--prof DIR] [--verbose]`: receptions/s end to end
// per history store. Receptions are published on a site's leaf nats-server (its MESH_<site> stream), sourced by the
// hub's MESH stream, consumed by `mmm ingest` (a child process, from source) and committed in the store.
// Per store, in this order:
// - hub only: the same publish with no ingest running, until the hub's stream holds it all (the ceiling on this box);
// - raw baseline: the same messages published to a plain file-storage stream on the leaf (Msg-Id set, the agent's
//   publisher), ingest running idle;
// - end to end: published on the leaf until ingest acked them all (it acks only after the store committed);
// - drain: ingest stopped, a backlog (default 100k) published and sourced (sourcing alone is timed here), ingest
//   started again; drain_100k_s runs from its consumer pulling to the last ack (scaled to 100k).
// Prints one line per store: {"scenario":"pipeline","store":…,"receptions_per_s":…,"raw_publish_per_s":…,"ratio":…,
// "drain_100k_s":…, …} (bench/README.md explains each field).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureStream, JetStreamPublisher } from '@mmm/common';
import { DUPLICATE_WINDOW_MS, msgIdOf, streams, subjects } from '@mmm/schemas';
import { startClickHouse, startHubAndLeaves, waitFor } from '@mmm/testkit';
import Database from 'better-sqlite3';
import { connect, type JetStreamManager, type NatsConnection, StorageType } from 'nats';
import { ClickHouseStore } from '../services/ingest/src/clickhouse/store.js';
import { bulkReceptions } from '../services/ingest/src/testing/bulk.js';
import type { SimEvent } from '../services/ingest/src/testing/sim-hour.js';
import { cpuMeter } from './_proc.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAIN = fileURLToPath(new URL('../services/cli/src/main.ts', import.meta.url));
const SITE = 'benchsite';
const args = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith('--') && !['--prof', '--store'].includes(all[i - 1]!));
// --store clickhouse|sqlite: run one store only.
const ONLY = process.argv.includes('--store') ? process.argv[process.argv.indexOf('--store') + 1] : undefined;
const N = Number(args[0] ?? 100_000);
const BACKLOG = Number(args[1] ?? 100_000);
const WINDOW = 512;
// --prof <dir>: V8 CPU profiles of each ingest process (open them in Chrome DevTools).
const PROF = process.argv.includes('--prof') ? process.argv[process.argv.indexOf('--prof') + 1] : undefined;
const log = (...a: unknown[]) => console.error(new Date().toISOString(), ...a);

/** Base time for events: a fresh window per call so runs never collide on Msg-Ids or packet keys. */
let clock = Date.now() - 6 * 3_600_000;
let nextPacketId = 1;
function receptions(n: number, seed: number): SimEvent[] {
  const base = clock;
  clock += n * 60 + 60_000;
  // bulkReceptions builds site s1/s2 events; re-home them to the bench site, which the leaf stream captures.
  // Packets of different calls never share a (from, id): each call starts where the last one's ids ended.
  const firstId = nextPacketId;
  nextPacketId += n;
  return bulkReceptions(n, base, seed, firstId).map((e) => {
    const ev = { ...(e.event as object), site: SITE } as SimEvent['event'] & { agent: string; port: 'position' };
    return { subject: subjects.rx(SITE, ev.agent, 'position'), event: ev, at: e.at };
  });
}

interface Outgoing {
  subject: string;
  data: Uint8Array;
  msgId: string;
}

/** Encoded before any clock starts: the publisher stands in for the agents, whose cost is not the pipeline's. */
function encode(events: readonly SimEvent[], subject?: string): Outgoing[] {
  const enc = new TextEncoder();
  return events.map((e, i) => ({
    subject: subject ?? e.subject,
    data: enc.encode(JSON.stringify(e.event)),
    msgId: subject ? `raw${i}` : msgIdOf(e.event),
  }));
}

/**
 * Publishes like an agent does: through the windowed publisher with a bounded backlog (never 100k promises queued
 * at once). Returns seconds taken.
 */
async function publish(nc: NatsConnection, out: readonly Outgoing[]): Promise<number> {
  const pub = new JetStreamPublisher(nc.jetstream(), { window: WINDOW });
  const oldest: Promise<unknown>[] = [];
  const start = performance.now();
  for (const o of out) {
    oldest.push(pub.publish(o.subject, o.data, o.msgId));
    if (oldest.length >= 2 * WINDOW) await oldest.shift();
  }
  await Promise.all(oldest);
  return (performance.now() - start) / 1000;
}

async function rawPublishRate(nc: NatsConnection): Promise<number> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['benchraw.>'], storage: StorageType.File });
  const seconds = await publish(nc, encode(receptions(N, 99), 'benchraw.x'));
  await jsm.streams.delete('BENCH_RAW');
  return N / seconds;
}

/** Resolves once the hub's stream holds at least `n` messages. */
async function hubHolds(jsm: JetStreamManager, n: number, what: string, pollMs: number): Promise<void> {
  await waitFor(what, async () => (await jsm.streams.info(streams.hub)).state.messages >= n, 600_000, pollMs);
}

/**
 * Receptions/s from the publisher to the hub's stream with no ingest running; the hub stream is purged afterwards
 * (run before the store's durable consumer exists).
 */
async function hubOnlyRate(leaf: NatsConnection, jsm: JetStreamManager): Promise<number> {
  const before = (await jsm.streams.info(streams.hub)).state.messages;
  const events = encode(receptions(N, 3));
  const start = performance.now();
  const publishing = publish(leaf, events);
  await hubHolds(jsm, before + N, 'receptions sourced to the hub', 50);
  const rate = N / ((performance.now() - start) / 1000);
  await publishing;
  await jsm.streams.purge(streams.hub);
  return rate;
}

const children = new Set<ChildProcess>();

/** `mmm ingest` from source; resolves once it logs that it runs (its output goes to stderr with --verbose). */
function startIngest(config: string): Promise<ChildProcess> {
  const prof = PROF ? ['--cpu-prof', `--cpu-prof-dir=${PROF}`] : [];
  const child = spawn(
    process.execPath,
    [...prof, '--conditions=development', '--import', 'tsx', MAIN, 'ingest', '-c', config],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`ingest not running after 300 s:\n${out.slice(-2000)}`)), 300_000);
    const onData = (d: Buffer) => {
      out = (out + d.toString()).slice(-8192);
      if (process.argv.includes('--verbose')) process.stderr.write(d);
      if (out.includes('"ingest running"')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ingest exited with ${code}:\n${out.slice(-2000)}`));
    });
  });
}

async function stopIngest(child: ChildProcess): Promise<void> {
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

interface Servers {
  hubUrl: string;
  /** On the bench's one connection to the hub: stream and consumer state for every measurement. */
  hubJsm: JetStreamManager;
  hubPid: number | undefined;
  leafPid: number | undefined;
}

async function runStore(store: 'clickhouse' | 'sqlite', leaf: NatsConnection, servers: Servers, dir: string) {
  const { hubUrl, hubJsm: jsm } = servers;
  const ch = store === 'clickhouse' ? await startClickHouse() : undefined;
  const dbPath = join(dir, `${store}.db`);
  const durable = `bench_${store}`;
  const config = join(dir, `${store}.ini`);
  writeFileSync(
    config,
    `[nats]\nurl = ${hubUrl}\n[ingest]\ndurable = ${durable}\nops_port = 0\n` +
      (ch ? `[clickhouse]\nurl = ${ch.url}\ndatabase = bench\n` : `[sqlite]\npath = ${dbPath}\n`),
  );
  const reader = ch ? new ClickHouseStore({ url: ch.url, database: 'bench' }) : undefined;
  let lite: Database.Database | undefined;
  const count = async (): Promise<number> => {
    if (reader) return (await reader.query<{ n: number }>('SELECT count() AS n FROM receptions'))[0]!.n;
    lite ??= new Database(dbPath, { readonly: true, fileMustExist: true });
    return (lite.prepare('SELECT count(*) AS n FROM receptions').get() as { n: number }).n;
  };
  try {
    // Each store starts from an empty hub stream (sources keep their position, nothing is sourced again).
    await jsm.streams.purge(streams.hub);
    // The ceiling: the same publish with nothing consuming (publisher → leaf → hub). On a box where every stage
    // shares the same cores, no ingest can make the pipeline faster than this.
    const hubOnly = await hubOnlyRate(leaf, jsm);
    log(store, 'hub only', Math.round(hubOnly), '/s');
    let ingest = await startIngest(config);
    // The baseline right before the end-to-end run, with ingest and the store up: a shared box's load drifts.
    const rawRate = await rawPublishRate(leaf);
    log(store, 'raw publish', Math.round(rawRate), '/s');
    const before = await count();
    const events = encode(receptions(N, 1));
    // Where the time goes: when the hub stream holds them all (sourcing), and when the store does (ingest).
    const hubBefore = (await jsm.streams.info(streams.hub)).state.messages;
    // CPU seconds per process over the end-to-end run: on two cores they share, this shows what the pipeline costs.
    const cpu = cpuMeter({
      bench: process.pid,
      leaf: servers.leafPid,
      hub: servers.hubPid,
      ingest: ingest.pid,
      store: ch?.pid,
    });
    const start = performance.now();
    const publishing = publish(leaf, events);
    // One poll of the hub for both moments: when its stream holds them all (sourced), and when ingest has acked them
    // all (it acks only after the store committed). Consumer state is cheap to poll; a count(*) over SQLite's table
    // every 50 ms would itself take much of a core from the pipeline.
    let sourcedRate = 0;
    await waitFor(
      'end-to-end receptions acked',
      async () => {
        if ((await jsm.streams.info(streams.hub)).state.messages < hubBefore + N) return false;
        sourcedRate ||= N / ((performance.now() - start) / 1000);
        const ci = await jsm.consumers.info(streams.hub, durable);
        return ci.num_pending === 0 && ci.num_ack_pending === 0;
      },
      600_000,
      50,
    );
    const e2e = N / ((performance.now() - start) / 1000);
    const cpuE2e = cpu();
    // and the rows are there.
    await waitFor('end-to-end receptions', async () => (await count()) >= before + N, 10_000, 50);
    await publishing;
    log(store, 'end to end', Math.round(e2e), '/s');

    await stopIngest(ingest);
    // Counted in the stream, not as consumer pending: a pull request of the stopped process may still hold a few.
    const held = (await jsm.streams.info(streams.hub)).state.messages;
    const backlog = encode(receptions(BACKLOG, 2));
    // Sourcing alone: the hub's source is taken off while the backlog is published to the leaf and put back with the
    // clock running, so the hub catches up with nothing else running (it resumes after the last message it holds).
    const hubConfig = (await jsm.streams.info(streams.hub)).config;
    await jsm.streams.update(streams.hub, { ...hubConfig, sources: [] });
    await publish(leaf, backlog);
    const sourceStart = performance.now();
    await jsm.streams.update(streams.hub, hubConfig);
    // The hub must hold the whole backlog before the drain clock starts: drain measures ingest, not sourcing.
    await hubHolds(jsm, held + BACKLOG, 'backlog sourced to the hub', 20);
    const sourcingAlone = BACKLOG / ((performance.now() - sourceStart) / 1000);
    await new Promise((r) => setTimeout(r, 500));
    const holds = (await jsm.streams.info(streams.hub)).state.messages;
    if (holds !== held + BACKLOG) throw new Error(`hub holds ${holds} messages, expected ${held + BACKLOG}`);
    const base = await count();
    ingest = await startIngest(config);
    // From the moment ingest runs (its consumer is pulling), not from process start: tsx start-up is not ingest.
    const drainStart = performance.now();
    await waitFor(
      'backlog acked',
      async () => {
        const ci = await jsm.consumers.info(streams.hub, durable);
        return ci.num_pending === 0 && ci.num_ack_pending === 0;
      },
      900_000,
      50,
    );
    const drain = ((performance.now() - drainStart) / 1000) * (100_000 / BACKLOG);
    await waitFor('backlog rows', async () => (await count()) >= base + BACKLOG, 10_000, 50);
    await stopIngest(ingest);
    const ingestAlone = 100_000 / drain;
    // What the pipeline would do if its stages did not share two cores with each other and the publisher: its
    // slowest stage, each measured alone.
    const stageBound = Math.min(sourcingAlone, ingestAlone, rawRate);
    const r = (x: number) => Math.round(x * 100) / 100;
    console.log(
      JSON.stringify({
        scenario: 'pipeline',
        store,
        receptions_per_s: Math.round(e2e),
        raw_publish_per_s: Math.round(rawRate),
        ratio: r(e2e / rawRate),
        sourced_per_s: Math.round(sourcedRate),
        cpu_s: cpuE2e,
        // The same per reception: what each process costs for one reception, much less sensitive to a loaded box
        // than the rates.
        cpu_us_per_reception: Object.fromEntries(
          Object.entries(cpuE2e).map(([k, s]) => [k, Math.round((s * 1e6) / N)]),
        ),
        drain_100k_s: r(drain),
        sourcing_alone_per_s: Math.round(sourcingAlone),
        ingest_alone_per_s: Math.round(ingestAlone),
        stage_bound_ratio: r(stageBound / rawRate),
        hub_only_per_s: Math.round(hubOnly),
        hub_only_ratio: r(hubOnly / rawRate),
        n: N,
        backlog: BACKLOG,
        load_avg_1m: r(loadavg()[0]!),
      }),
    );
  } finally {
    lite?.close();
    await reader?.close();
    await ch?.dispose();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mmm-bench-pipeline-'));
  const mesh = await startHubAndLeaves([SITE]);
  const leafNc = await connect({ servers: mesh.leaves[SITE]!.url });
  const hubNc = await connect({ servers: mesh.hub.url });
  try {
    const common = { storage: StorageType.File, duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000 };
    await ensureStream(await leafNc.jetstreamManager(), {
      name: streams.site(SITE),
      subjects: [subjects.siteAll(SITE)],
      ...common,
    });
    const hubJsm = await hubNc.jetstreamManager();
    await ensureStream(hubJsm, {
      name: streams.hub,
      ...common,
      sources: [{ name: streams.site(SITE), external: { api: `$JS.${streams.domain(SITE)}.API`, deliver: '' } }],
    });
    for (const store of (['clickhouse', 'sqlite'] as const).filter((s) => !ONLY || s === ONLY))
      await runStore(
        store,
        leafNc,
        { hubUrl: mesh.hub.url, hubJsm, hubPid: mesh.hub.pid, leafPid: mesh.leaves[SITE]!.pid },
        dir,
      );
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await leafNc.close();
    await hubNc.close();
    await mesh.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
