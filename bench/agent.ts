// `npm run bench -- agent [seconds] [--no-build] [--from-source] [--prof DIR]`: packets/s one agent (`mmm agent`, a child process) decodes and publishes to its
// leaf while the simulator feeds it flat out, with the agent's RSS and CPU. Baseline: raw JetStream publishes/s
// (600-byte messages, 256 in flight, Msg-Id set) to the same nats-server in the same run.
// Prints one line: {"scenario":"agent","packets_per_s":…,"raw_publish_per_s":…,"ratio":…,"rss_mb":…,"cpu_pct":…}
// The agent runs as built for production (bin/mmm.js on dist/, built first by this script), because RSS under
// tsx includes the TypeScript loader; `--from-source` runs it through tsx instead. packets_per_cpu_s and the load
// average are printed too: on a shared box the agent may be starved, and packets per CPU-second is what it costs.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streams, subjects } from '@mmm/schemas';
import { startSimulator } from '@mmm/simulator';
import { startNatsServer, waitFor } from '@mmm/testkit';
import { connect } from 'nats';
import { rawPublishRate } from './_baseline.js';
import { cpuSeconds, rssMb } from './_proc.js';

const fromSource = process.argv.includes('--from-source');
const seconds = Number(process.argv[2] && /^\d+$/.test(process.argv[2]) ? process.argv[2] : 10);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** `mmm agent` exactly as an operator runs it: the built launcher (bin/mmm.js → dist/main.js). */
const BIN = fileURLToPath(new URL('../services/cli/bin/mmm.js', import.meta.url));
const SITE = 'bench';
const MAIN = fileURLToPath(new URL('../services/cli/src/main.ts', import.meta.url));

if (!fromSource && !process.argv.includes('--no-build')) {
  process.stderr.write('building @mmm/cli and what it depends on (turbo; cached when unchanged)\n');
  execFileSync(process.execPath, [join(ROOT, 'node_modules/turbo/bin/turbo'), 'run', 'build', '--filter=@mmm/cli...'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
const dir = mkdtempSync(join(tmpdir(), 'mmm-bench-agent-'));
const leaf = await startNatsServer({ name: 'bench-leaf', domain: SITE });
const sim = await startSimulator({ nodes: 50, rate: 1_000_000, seed: 1 });
let child: ChildProcess | undefined;
try {
  const nc = await connect({ servers: leaf.url });
  const raw = await rawPublishRate(nc);
  const ini = join(dir, 'agent.ini');
  writeFileSync(
    ini,
    `[agent]\nid = bench1\nlocation_name = bench\n[meshtastic]\nconnection_type = tcp\ntcp_host = 127.0.0.1:${sim.port}\n` +
      `[nats]\nurl = ${leaf.url}\nsite = ${SITE}\n[route_discovery]\nenabled = false\n`,
  );
  const args = ['agent', '--config', ini, '--log-level', 'warn'];
  // --prof <dir>: write a V8 CPU profile of the agent (open it in Chrome DevTools).
  const profDir = process.argv.includes('--prof') ? process.argv[process.argv.indexOf('--prof') + 1] : undefined;
  const nodeFlags = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  child = fromSource
    ? spawn(process.execPath, ['--conditions=development', '--import', 'tsx', MAIN, ...args], {
        stdio: ['ignore', 'ignore', 'inherit'],
      })
    : spawn(process.execPath, [...nodeFlags, BIN, ...args], {
        cwd: ROOT,
        env: { ...process.env, MMM_FROM_SOURCE: '' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
  const pid = child.pid!;
  const jsm = await nc.jetstreamManager();
  const count = async () =>
    (await jsm.streams.info(streams.site(SITE), { subjects_filter: subjects.rxFilter({ site: SITE }) })).state.messages;
  await waitFor(
    'the agent to publish',
    async () => ((await jsm.streams.info(streams.site(SITE)).catch(() => undefined))?.state.messages ?? 0) > 1000,
    120_000,
    200,
  );
  await new Promise((r) => setTimeout(r, 2_000)); // warm-up: JIT, windows full
  const c0 = await count();
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  let rss = 0;
  while (performance.now() - t0 < seconds * 1000) {
    rss = Math.max(rss, rssMb(pid));
    await new Promise((r) => setTimeout(r, 250));
  }
  const c1 = await count();
  const elapsed = (performance.now() - t0) / 1000;
  const cpuUsed = cpuSeconds(pid) - cpu0;
  const cpu = (cpuUsed / elapsed) * 100;
  const perSec = (c1 - c0) / elapsed;
  console.log(
    JSON.stringify({
      scenario: 'agent',
      packets_per_s: Math.round(perSec),
      raw_publish_per_s: Math.round(raw),
      ratio: Number((perSec / raw).toFixed(2)),
      rss_mb: Math.round(rss),
      cpu_pct: Math.round(cpu),
      packets_per_cpu_s: Math.round((c1 - c0) / Math.max(cpuUsed, 0.01)),
      load_avg_1m: Number(loadavg()[0]!.toFixed(1)),
      from_source: fromSource,
      seconds,
    }),
  );
  await nc.close();
} finally {
  if (child?.pid && child.exitCode === null) {
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  await sim.stop();
  await leaf.dispose();
  rmSync(dir, { recursive: true, force: true });
}
