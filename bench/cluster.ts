// `npm run bench -- cluster [receptions] [kills]`: the pipeline on a clustered hub, all cases in one run.
// Receptions are published on a site's leaf (the agent's windowed publisher, contract Msg-Ids), sourced by the hub's
// MESH stream and committed by `mmm ingest` (SQLite, a child process from source); a case's rate runs from the first
// publish until ingest acked the last one (it acks only after the store committed).
// - raw baseline: 20,000 plain R1 JetStream publishes on the single hub (bench/_baseline.ts), same run;
// - r1: one hub node, MESH with one replica, one ingest;
// - r3: three hub nodes, MESH with three replicas, one ingest; then `kills` times (default 5) kill -9 of MESH's leader
//   under a steady load, the longest pause in ingest's progress (rows committed) in the 20 s after each kill (median reported as
//   failover_gap_s; beside it the same for the hub publisher's acks, write_gap_s, and for messages sourced from the
//   leaf, source_gap_s; the node is restarted and the cluster healthy again before the next kill);
// - r3-2ingest: the same as r3 with two ingest copies sharing the durable consumer;
// - sites-10: ten leaves, each publishing a tenth at the same time, into the three-node hub, one ingest.
// Prints one line per case: {"scenario":"cluster","case":…,"receptions_per_s":…,"ratio_to_raw":…,"failover_gap_s":…}.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JetStreamPublisher } from '@mmm/common';
import { DUPLICATE_WINDOW_MS, msgIdOf, streams, subjects } from '@mmm/schemas';
import { type HubCluster, leafConnections, startHubAndLeaves, startHubCluster, waitFor } from '@mmm/testkit';
import Database from 'better-sqlite3';
import { connect, type JetStreamManager, type NatsConnection, nanos, StorageType } from 'nats';
import { bulkReceptions } from '../services/ingest/src/testing/bulk.js';
import { rawPublishRate } from './_baseline.js';
import { cpuSeconds } from './_proc.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAIN = fileURLToPath(new URL('../services/cli/src/main.ts', import.meta.url));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const N = Number(args[0] ?? 20_000);
const KILLS = Number(args[1] ?? 5);
const WINDOW = 512;
const TEN = Array.from({ length: 10 }, (_, i) => `bs${String(i + 1).padStart(2, '0')}`);
const ONE = 'bsone';
/** Published on the hub itself and captured by MESH, as the API's legacy site is. */
const HUB_SITE = 'bshub';
const log = (...a: unknown[]) => console.error(new Date().toISOString(), ...a);
const r2 = (x: number) => Math.round(x * 100) / 100;

let clock = Date.now() - 6 * 3_600_000;
let nextPacketId = 1;
/** Encoded contract receptions re-homed to `site`, never sharing a Msg-Id or packet key with another call. */
function receptions(n: number, site: string): { subject: string; data: Uint8Array; msgId: string }[] {
  const base = clock;
  clock += n * 60 + 60_000;
  const first = nextPacketId;
  nextPacketId += n;
  const enc = new TextEncoder();
  return bulkReceptions(n, base, first, first).map((e) => {
    const ev = { ...(e.event as object), site } as Parameters<typeof msgIdOf>[0] & { agent: string };
    return {
      subject: subjects.rx(site, ev.agent, 'position'),
      data: enc.encode(JSON.stringify(ev)),
      msgId: msgIdOf(ev),
    };
  });
}

async function publish(nc: NatsConnection, out: ReturnType<typeof receptions>, ackTimeoutMs?: number): Promise<void> {
  const pub = new JetStreamPublisher(nc.jetstream(), { window: WINDOW, ackTimeoutMs });
  const oldest: Promise<unknown>[] = [];
  for (const o of out) {
    oldest.push(pub.publish(o.subject, o.data, o.msgId));
    if (oldest.length >= 2 * WINDOW) await oldest.shift();
  }
  await Promise.all(oldest);
}

const children = new Set<ChildProcess>();
function startIngest(config: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', MAIN, 'ingest', '-c', config], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  if (child.exitCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

async function siteStream(url: string, site: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url });
  await (await nc.jetstreamManager()).streams.add({
    name: streams.site(site),
    subjects: [subjects.siteAll(site)],
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
  return nc;
}

async function hubStream(jsm: JetStreamManager, sites: string[], replicas: number): Promise<void> {
  await jsm.streams.add({
    name: streams.hub,
    subjects: [subjects.siteAll(HUB_SITE)],
    storage: StorageType.File,
    num_replicas: replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    sources: sites.map((s) => ({
      name: streams.site(s),
      external: { api: `$JS.${streams.domain(s)}.API`, deliver: '' },
    })),
  });
}

interface Case {
  jsm: JetStreamManager;
  urls: string[];
  dir: string;
  name: string;
  copies: number;
  /** Leaf connections and how many receptions each publishes (all at once). */
  publishers: { nc: NatsConnection; site: string; n: number }[];
  /** Processes whose CPU seconds are reported: hub nodes, leaves (summed per group; read when the case starts). */
  pids: () => Record<string, (number | undefined)[]>;
}

/** Fresh store and durable; returns receptions/s from the first publish until ingest acked the last. */
async function endToEnd(c: Case): Promise<{
  rate: number;
  sourced: number;
  cpu: Record<string, number>;
  ingests: ChildProcess[];
  durable: string;
}> {
  await c.jsm.streams.purge(streams.hub);
  const durable = `bench_${c.name.replace(/[^a-z0-9]/g, '_')}`;
  const config = join(c.dir, `${c.name}.ini`);
  writeFileSync(
    config,
    `[nats]\nurl = ${c.urls.join(',')}\n[ingest]\ndurable = ${durable}\nops_port = 0\nensure_streams = false\n[sqlite]\npath = ${join(c.dir, `${c.name}.db`)}\n`,
  );
  const ingests: ChildProcess[] = [];
  for (let i = 0; i < c.copies; i++) ingests.push(await startIngest(config));
  const total = c.publishers.reduce((n, p) => n + p.n, 0);
  const batches = c.publishers.map((p) => ({ nc: p.nc, out: receptions(p.n, p.site) }));
  const groups = { ...c.pids(), ingest: ingests.map((i) => i.pid), bench: [process.pid] };
  const meter = Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, pids.map((p) => cpuSeconds(p))]));
  const start = performance.now();
  let sourced = 0;
  const publishing = Promise.all(batches.map((b) => publish(b.nc, b.out)));
  await waitFor(
    `${c.name}: ${total} receptions acked`,
    async () => {
      const si = await c.jsm.streams.info(streams.hub);
      if (si.state.messages < total) return false;
      sourced ||= total / ((performance.now() - start) / 1000);
      const ci = await c.jsm.consumers.info(streams.hub, durable);
      return ci.ack_floor.stream_seq >= si.state.last_seq;
    },
    600_000,
    50,
  );
  const rate = total / ((performance.now() - start) / 1000);
  const cpu = Object.fromEntries(
    Object.entries(groups).map(([k, pids]) => [
      k,
      r2(pids.reduce<number>((sum, p, i) => sum + cpuSeconds(p) - meter[k]![i]!, 0)),
    ]),
  );
  await publishing;
  log(c.name, Math.round(rate), 'receptions/s', JSON.stringify(cpu));
  return { rate, sourced, cpu, ingests, durable };
}

/** Longest interval in [from, to] with no progress, given the times progress was seen. */
function longestGap(times: number[], from: number, to: number): number {
  let last = from;
  let longest = 0;
  for (const t of times.filter((x) => x > from && x <= to).sort((a, b) => a - b)) {
    longest = Math.max(longest, t - last);
    last = t;
  }
  return r2(Math.max(longest, to - last) / 1000);
}

/**
 * kill -9 of MESH's leader under a steady load (about 200 receptions/s published on the hub itself, as the API's
 * legacy site does, and 200/s on the site's leaf). In the 20 s after each kill, the longest pause in: ingest's
 * position (its consumer's ack floor), the hub publisher's acks (the stream's own failover), and sourced arrivals from
 * the leaf. The node comes back and the cluster is healthy before the next kill.
 */
async function failoverGaps(hub: HubCluster, hubNc: NatsConnection, leaf: NatsConnection, dbPath: string) {
  // Ingest's progress is the rows it committed (max(rowid) is an index lookup). Its consumer's ack floor would not
  // do: one ack lost in the election pins the floor until that message is redelivered after ack_wait.
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const committed = () => (db.prepare('SELECT max(rowid) AS n FROM receptions').get() as { n: number | null }).n ?? 0;
  // Short request timeouts: a request stalled by the election must not hide when progress resumed.
  const jsm = await hubNc.jetstreamManager({ timeout: 1000 });
  let steady = true;
  const hubAcks: number[] = [];
  const loop = async (nc: NatsConnection, site: string, acks?: number[]) => {
    while (steady) {
      // A short ack timeout: a publish lost in the election is retried within a second, so the pause measured is the
      // stream's and not the publisher's default 5 s timeout.
      await publish(nc, receptions(20, site), 1000)
        .then(() => acks?.push(performance.now()))
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const load = Promise.all([loop(hubNc, HUB_SITE, hubAcks), loop(leaf, ONE)]);
  const ingest: number[] = [];
  const write: number[] = [];
  const sourced: number[] = [];
  try {
    for (let k = 0; k < KILLS; k++) {
      await hub.waitForHealthy(120_000, { serverOnly: true });
      const leader = await hub.waitForStreamLeader(streams.hub, { current: true, timeoutMs: 120_000 });
      await new Promise((r) => setTimeout(r, 3000));
      const seen = { ingest: [] as number[], sourced: [] as number[] };
      let rows = committed();
      let lastSourced = -1;
      await leader.kill('SIGKILL');
      const killedAt = performance.now();
      const until = killedAt + 20_000;
      while (performance.now() < until) {
        await Promise.all([
          (async () => {
            const n = committed();
            if (n > rows) seen.ingest.push(performance.now());
            rows = Math.max(rows, n);
          })(),
          jsm.streams
            .getMessage(streams.hub, { last_by_subj: subjects.rx(ONE, 'a1', 'position') })
            .then((m) => {
              if (lastSourced >= 0 && m.seq > lastSourced) seen.sourced.push(performance.now());
              lastSourced = Math.max(lastSourced, m.seq);
            })
            .catch(() => undefined),
        ]);
        await new Promise((r) => setTimeout(r, 100));
      }
      ingest.push(longestGap(seen.ingest, killedAt, until));
      write.push(longestGap(hubAcks, killedAt, until));
      sourced.push(longestGap(seen.sourced, killedAt, until));
      log(
        `kill ${k + 1}: ${leader.name} (MESH leader); longest pause in 20 s: ingest ${ingest.at(-1)} s, hub publish acks ${write.at(-1)} s, sourced from the leaf ${sourced.at(-1)} s`,
      );
      await leader.restart();
    }
  } finally {
    steady = false;
    await load;
    db.close();
  }
  return { ingest, write, sourced };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

function line(c: Record<string, unknown>): void {
  console.log(JSON.stringify({ scenario: 'cluster', ...c, load_avg_1m: r2(loadavg()[0]!) }));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mmm-bench-cluster-'));
  const open: NatsConnection[] = [];
  try {
    // One hub node: the raw R1 baseline and the r1 case.
    const single = await startHubAndLeaves([ONE]);
    let raw: number;
    let r1: number;
    let r1Extra: Record<string, unknown> = {};
    try {
      const hubNc = await connect({ servers: single.hub.url });
      open.push(hubNc);
      const jsm = await hubNc.jetstreamManager({ timeout: 20_000 });
      raw = await rawPublishRate(hubNc);
      log('raw R1 publish', Math.round(raw), '/s');
      const leaf = await siteStream(single.leaves[ONE]!.url, ONE);
      open.push(leaf);
      await hubStream(jsm, [ONE], 1);
      const res = await endToEnd({
        jsm,
        urls: [single.hub.url],
        dir,
        name: 'r1',
        copies: 1,
        publishers: [{ nc: leaf, site: ONE, n: N }],
        pids: () => ({ hub: [single.hub.pid], leaves: [single.leaves[ONE]!.pid] }),
      });
      r1 = res.rate;
      r1Extra = { sourced_per_s: Math.round(res.sourced), cpu_s: res.cpu };
      for (const i of res.ingests) await stopIngest(i);
    } finally {
      for (const nc of open.splice(0)) await nc.close();
      await single.dispose();
    }
    line({
      case: 'r1',
      receptions_per_s: Math.round(r1),
      raw_r1_publish_per_s: Math.round(raw),
      ratio_to_raw: r2(r1 / raw),
      failover_gap_s: null,
      n: N,
      ...r1Extra,
    });

    const hub = await startHubCluster({ nodes: 3, sites: [ONE, ...TEN] });
    try {
      await Promise.all(
        [ONE, ...TEN].map((s) =>
          waitFor(`leaf ${s}`, async () => (await leafConnections(hub.leaves[s]!)) > 0, 60_000, 250),
        ),
      );
      const hubNc = await connect({ servers: hub.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
      open.push(hubNc);
      const jsm = await hubNc.jetstreamManager({ timeout: 5_000 });
      await hubStream(jsm, [ONE, ...TEN], 3);
      const leaves = new Map<string, NatsConnection>();
      for (const s of [ONE, ...TEN]) {
        const nc = await siteStream(hub.leaves[s]!.url, s);
        open.push(nc);
        leaves.set(s, nc);
      }
      const one = [{ nc: leaves.get(ONE)!, site: ONE, n: N }];
      // Read at each case: a node restarted after a kill has a new pid.
      const hubPids = () => hub.nodes.map((n) => n.pid);
      const onePids = () => ({ hub: hubPids(), leaves: [hub.leaves[ONE]!.pid] });

      const r3 = await endToEnd({ jsm, urls: hub.urls, dir, name: 'r3', copies: 1, publishers: one, pids: onePids });
      const gaps = await failoverGaps(hub, hubNc, leaves.get(ONE)!, join(dir, 'r3.db'));
      for (const i of r3.ingests) await stopIngest(i);
      await hub.waitForHealthy(120_000, { serverOnly: true });
      await hub.waitForStreamLeader(streams.hub, { current: true, timeoutMs: 120_000 });
      line({
        case: 'r3',
        receptions_per_s: Math.round(r3.rate),
        raw_r1_publish_per_s: Math.round(raw),
        ratio_to_raw: r2(r3.rate / raw),
        ratio_to_r1: r2(r3.rate / r1),
        failover_gap_s: median(gaps.ingest),
        failover_gaps_s: gaps.ingest,
        write_gap_s: median(gaps.write),
        source_gap_s: median(gaps.sourced),
        source_gaps_s: gaps.sourced,
        n: N,
        sourced_per_s: Math.round(r3.sourced),
        cpu_s: r3.cpu,
      });

      const two = await endToEnd({
        jsm,
        urls: hub.urls,
        dir,
        name: 'r3-2ingest',
        copies: 2,
        publishers: one,
        pids: onePids,
      });
      for (const i of two.ingests) await stopIngest(i);
      line({
        case: 'r3-2ingest',
        receptions_per_s: Math.round(two.rate),
        raw_r1_publish_per_s: Math.round(raw),
        ratio_to_raw: r2(two.rate / raw),
        ratio_to_r3: r2(two.rate / r3.rate),
        failover_gap_s: null,
        n: N,
        sourced_per_s: Math.round(two.sourced),
        cpu_s: two.cpu,
      });

      const ten = await endToEnd({
        jsm,
        urls: hub.urls,
        dir,
        name: 'sites-10',
        copies: 1,
        publishers: TEN.map((s) => ({ nc: leaves.get(s)!, site: s, n: Math.floor(N / TEN.length) })),
        pids: () => ({ hub: hubPids(), leaves: TEN.map((s) => hub.leaves[s]!.pid) }),
      });
      for (const i of ten.ingests) await stopIngest(i);
      line({
        case: 'sites-10',
        receptions_per_s: Math.round(ten.rate),
        raw_r1_publish_per_s: Math.round(raw),
        ratio_to_raw: r2(ten.rate / raw),
        ratio_to_one_site: r2(ten.rate / r3.rate),
        failover_gap_s: null,
        n: Math.floor(N / TEN.length) * TEN.length,
        sourced_per_s: Math.round(ten.sourced),
        cpu_s: ten.cpu,
      });
    } finally {
      for (const nc of open.splice(0)) await nc.close();
      await hub.dispose();
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
