// `npm run bench -- mqtt [envelopes] [--no-build] [--from-source]`: envelopes/s from Mosquitto through `mmm mqtt` (a
// child process, built as for production) into the leaf's site stream, beside the raw JetStream publish rate on the
// same leaf in the same run, and the bridge's RSS.
// Prints one line: {"scenario":"mqtt","envelopes_per_s":…,"raw_publish_per_s":…,"ratio":…,"bridge_rss_mb":…}
// The envelopes are the distinct good ones of the real public-feed capture (most encrypted: each is decrypted), each
// re-sent under many gateway ids so every one is a distinct reception. They are queued in Mosquitto for the bridge's
// persistent session while it is stopped, then drained: the rate is the bridge's, not the publisher's.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, fromBinary, Mqtt, toBinary } from '@mmm/meshtastic';
import { streams, subjects } from '@mmm/schemas';
import { fixturePath, freePort, httpOk, startMosquitto, startNatsServer, waitFor } from '@mmm/testkit';
import mqtt from 'mqtt';
import { connect } from 'nats';
import { rawPublishRate } from './_baseline.js';
import { cpuSeconds, rssMb } from './_proc.js';

const fromSource = process.argv.includes('--from-source');
const TOTAL = Number(process.argv[2] && /^\d+$/.test(process.argv[2]) ? process.argv[2] : 20_000);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = fileURLToPath(new URL('../services/cli/bin/mmm.js', import.meta.url));
const MAIN = fileURLToPath(new URL('../services/cli/src/main.ts', import.meta.url));
const SITE = 'bench-mqtt';

if (!fromSource && !process.argv.includes('--no-build')) {
  process.stderr.write('building @mmm/cli and what it depends on (turbo; cached when unchanged)\n');
  execFileSync(process.execPath, [join(ROOT, 'node_modules/turbo/bin/turbo'), 'run', 'build', '--filter=@mmm/cli...'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** The good envelopes of the capture, re-wrapped under gateway i so each (gateway, packet) is a new reception. */
function envelopes(): { topic: string; payload: Buffer }[] {
  const seen = new Set<string>();
  const good = readFileSync(fixturePath('friendlydev_mqtt_serviceenvelopes.b64.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        const env = fromBinary(Mqtt.ServiceEnvelopeSchema, Buffer.from(l, 'base64'));
        if (!env.packet) return [];
        // The capture repeats some packets: under one gateway id they would be one reception, not two.
        const key = `${env.packet.from}:${env.packet.id}:${env.packet.rxTime}`;
        if (seen.has(key)) return [];
        seen.add(key);
        return [env];
      } catch {
        return [];
      }
    });
  const out: { topic: string; payload: Buffer }[] = [];
  for (let i = 0; out.length < TOTAL; i++) {
    const e = good[i % good.length]!;
    const gw = `!${(0xbe000000 + Math.floor(i / good.length)).toString(16)}`;
    const payload = toBinary(
      Mqtt.ServiceEnvelopeSchema,
      create(Mqtt.ServiceEnvelopeSchema, { packet: e.packet, channelId: e.channelId, gatewayId: gw }),
    );
    out.push({ topic: `msh/EU_868/2/e/${e.channelId}/${gw}`, payload: Buffer.from(payload) });
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'mmm-bench-mqtt-'));
const leaf = await startNatsServer({ name: 'bench-mqtt-leaf', domain: SITE });
const broker = await startMosquitto();
let child: ChildProcess | undefined;
const opsPort = await freePort();
const ini = join(dir, 'mqtt.ini');
writeFileSync(
  ini,
  `[nats]\nurl = ${leaf.url}\nsite = ${SITE}\n[status]\nops_port = ${opsPort}\n[broker_bench]\nurl = ${broker.url}\ntopics = "msh/#"\nclient_id = bench-bridge\n`,
);
const startBridge = async () => {
  const args = ['mqtt', '--config', ini, '--log-level', process.env.MMM_BENCH_LOG ?? 'warn'];
  const c = fromSource
    ? spawn(process.execPath, ['--conditions=development', '--import', 'tsx', MAIN, ...args], {
        stdio: ['ignore', 'ignore', 'inherit'],
      })
    : spawn(process.execPath, [BIN, ...args], {
        cwd: ROOT,
        env: { ...process.env, MMM_FROM_SOURCE: '' },
        stdio: ['ignore', process.env.MMM_BENCH_LOG ? 'inherit' : 'ignore', 'inherit'],
      });
  child = c;
  await waitFor('the bridge to be ready', () => httpOk(`http://127.0.0.1:${opsPort}/readyz`), 120_000, 200);
  return c;
};
const stopBridge = async (c: ChildProcess) => {
  if (c.exitCode !== null) return;
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
  if (c.exitCode === null) c.kill('SIGKILL');
};
try {
  const nc = await connect({ servers: leaf.url });
  const raw = await rawPublishRate(nc);
  // First start: the broker learns the bridge's persistent session and subscription.
  child = await startBridge();
  await stopBridge(child);
  process.stderr.write(`queueing ${TOTAL} envelopes in Mosquitto for the stopped bridge\n`);
  const pub = await mqtt.connectAsync(broker.url, { clientId: 'bench-pub' });
  const msgs = envelopes();
  for (let i = 0; i < msgs.length; i += 500) {
    await Promise.all(msgs.slice(i, i + 500).map((m) => pub.publishAsync(m.topic, m.payload, { qos: 1 })));
  }
  await pub.endAsync();
  const jsm = await nc.jetstreamManager();
  const count = async () =>
    (await jsm.streams.info(streams.site(SITE), { subjects_filter: subjects.rxFilter({ site: SITE }) })).state.messages;
  child = await startBridge();
  const pid = child.pid!;
  let rss = 0;
  let first: { t: number; n: number } | undefined;
  let n = 0;
  const cpu0 = cpuSeconds(pid);
  const deadline = performance.now() + 600_000;
  for (;;) {
    if (performance.now() > deadline) throw new Error(`only ${n} of ${TOTAL} receptions stored after 10 minutes`);
    rss = Math.max(rss, rssMb(pid));
    n = await count();
    if (!first && n > 0) first = { t: performance.now(), n };
    if (n >= TOTAL) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const elapsed = (performance.now() - first!.t) / 1000;
  const perSec = (n - first!.n) / elapsed;
  console.log(
    JSON.stringify({
      scenario: 'mqtt',
      envelopes_per_s: Math.round(perSec),
      raw_publish_per_s: Math.round(raw),
      ratio: Number((perSec / raw).toFixed(2)),
      bridge_rss_mb: Math.round(rss),
      bridge_cpu_s: Number((cpuSeconds(pid) - cpu0).toFixed(2)),
      envelopes_per_cpu_s: Math.round((n - first!.n) / Math.max(cpuSeconds(pid) - cpu0, 0.01)),
      envelopes: TOTAL,
      load_avg_1m: Number(loadavg()[0]!.toFixed(1)),
      from_source: fromSource,
    }),
  );
  await nc.close();
} finally {
  if (child) await stopBridge(child);
  await broker.dispose();
  await leaf.dispose();
  rmSync(dir, { recursive: true, force: true });
}
