// `npm run bench -- alerts [seconds]`: the alerts service with 1,000 rules over 10,000 nodes at 500 receptions/s.
// - receptions_per_s: receptions the service read and evaluated per second, from the first paced publish until it had
//   evaluated the last one; raw_publish_per_s: the paced publish rate reached (500/s asked); ratio: the two (1.0 keeps up).
// - notify_p50_ms / notify_p99_ms: from the triggering reception (its receivedAt, stamped at publish) to the webhook
//   request at a real HTTP receiver, for event rules (battery below its threshold with no hold time, text matching).
// - silence_p99_ms: from a silent node's deadline (last heard + duration) to the webhook request (target: 5 s).
// - raw_jetstream_per_s: the plain JetStream baseline (_baseline.ts) on the same server in the same run.
// Rules: 998 battery_low rules of 10 nodes each, one text_match over all nodes, one node_silent (10 s) over 20 nodes.

import { parseAlertsConfig, startAlerts } from '@mmm/alerts';
import { createLogger } from '@mmm/common';
import type { Reception } from '@mmm/schemas';
import { startNatsServer, waitFor } from '@mmm/testkit';
import { connect } from 'nats';
import { batteryRx, rx, textRx } from '../services/alerts/src/test-events.js';
import { configText, createHubStream, Receiver } from '../services/alerts/src/test-harness.js';
import { msgIdOf, subjectOf } from '../services/route-analysis/src/test-nats.js';
import { rawPublishRate } from './_baseline.js';

const SECONDS = Number(process.argv[2] ?? 30);
const NODES = 10_000;
const RATE = 500;
const BATTERY_RULES = 998;
const SILENT_NODES = 20;
const SILENT_S = 10;
const log = createLogger({ name: 'bench', level: 'silent' });
const nodeNum = (i: number) => 0x10000000 + i;
const id = (n: number) => `!${n.toString(16).padStart(8, '0')}`;

function rules(): string {
  const out: string[] = [];
  for (let r = 0; r < BATTERY_RULES; r++) {
    const nodes = Array.from({ length: 10 }, (_, k) => id(nodeNum(r * 10 + k))).join(',');
    out.push(`[rule_bat-${r}]\nkind = battery_low\nthreshold = 20\nduration = 0\nnodes = ${nodes}\n`);
  }
  out.push('[rule_sos]\nkind = text_match\npattern = \\bsos\\b\nduration = 60\n');
  const silent = Array.from({ length: SILENT_NODES }, (_, k) => id(nodeNum(NODES - 1 - k))).join(',');
  out.push(`[rule_silent]\nkind = node_silent\nduration = ${SILENT_S}\nnodes = ${silent}\n`);
  return out.join('\n');
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!) : null;
};

const server = await startNatsServer({ name: 'bench-alerts' });
const nc = await connect({ servers: server.url });
const receiver = await Receiver.start();
try {
  const jsm = await nc.jetstreamManager();
  await createHubStream(jsm);
  const js = nc.jetstream();
  const rawJetStream = await rawPublishRate(nc);
  const send = (evs: Reception[]) =>
    Promise.all(evs.map((e) => js.publish(subjectOf(e), JSON.stringify(e), { msgID: msgIdOf(e) })));

  // Every node heard once, healthy, before the service starts: its first evaluation establishes them.
  const t0 = Date.now();
  for (let i = 0; i < NODES; i += 500) {
    await send(
      Array.from({ length: Math.min(500, NODES - i) }, (_, k) => batteryRx({ from: nodeNum(i + k), at: t0 }, 80)),
    );
  }
  const cfg = parseAlertsConfig(
    configText({
      url: server.url,
      hook: receiver.url,
      rules: rules(),
      extra: 'flush_interval = 50\nsweep_interval = 1000',
    }),
  );
  const svc = await startAlerts(cfg, { log });
  await waitFor('established', () => svc.ready(), 300_000, 100);
  process.stderr.write(`service ready with ${svc.stats().rules} rules over ${NODES} nodes\n`);

  // Paced receptions: 50 every 100 ms. Every 50th triggers a battery alert (then recovers), every 250th is an SOS.
  // The silent nodes are heard once now, then never again.
  const total = SECONDS * RATE;
  const firstSeq = (await jsm.streams.info('MESH')).state.last_seq;
  const talking = NODES - SILENT_NODES;
  let sent = 0;
  let triggers = 0;
  await send(
    Array.from({ length: SILENT_NODES }, (_, k) => rx('routing', { from: nodeNum(NODES - 1 - k), at: Date.now() }, {})),
  );
  const start = performance.now();
  while (sent < total) {
    const tickStart = performance.now();
    const now = Date.now();
    const batch: Reception[] = [];
    for (let k = 0; k < RATE / 10 && sent < total; k++, sent++) {
      const from = nodeNum(sent % talking);
      if (sent % 250 === 125) {
        batch.push(textRx({ from, at: now }, `sos at marker ${sent}`));
        triggers++;
      } else if (sent % 50 === 0) {
        batch.push(batteryRx({ from, at: now }, 5));
        triggers++;
      } else batch.push(batteryRx({ from, at: now }, 80));
    }
    await send(batch);
    const wait = 100 - (performance.now() - tickStart);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const publishS = (performance.now() - start) / 1000;
  const lastSeq = (await jsm.streams.info('MESH')).state.last_seq;
  await waitFor('evaluated', () => svc.stats().lastSeq >= lastSeq, 600_000, 20);
  const evalS = (performance.now() - start) / 1000;
  const count = lastSeq - firstSeq;
  await waitFor(
    'silent nodes notified',
    () => receiver.got.filter((g) => g.alert.rule === 'silent').length >= SILENT_NODES,
    120_000,
    100,
  );
  await waitFor(
    'event notifications',
    () =>
      receiver.got.filter((g) => g.alert.rule !== 'silent' && g.notification === 'firing').length >= triggers * 0.95,
    120_000,
    100,
  );
  const firing = receiver.got.filter((g) => g.notification === 'firing');
  const event = firing.filter((g) => g.alert.rule !== 'silent').map((g) => g.at - g.alert.since);
  const silence = firing.filter((g) => g.alert.rule === 'silent').map((g) => g.at - g.alert.since);
  const receptionsPerS = count / evalS;
  const rawPublishPerS = count / publishS;
  process.stdout.write(
    `${JSON.stringify({
      scenario: 'alerts',
      rules: svc.stats().rules,
      nodes: NODES,
      receptions: count,
      receptions_per_s: Math.round(receptionsPerS),
      raw_publish_per_s: Math.round(rawPublishPerS),
      ratio: Math.round((receptionsPerS / rawPublishPerS) * 100) / 100,
      notify_p50_ms: pct(event, 50),
      notify_p99_ms: pct(event, 99),
      notifications: event.length,
      triggers,
      silence_p99_ms: pct(silence, 99),
      raw_jetstream_per_s: Math.round(rawJetStream),
    })}\n`,
  );
  await svc.stop();
} finally {
  await receiver.down();
  await nc.close();
  await server.dispose();
}
