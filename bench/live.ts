// `npm run bench -- live [seconds] [rate]`: publish-to-WebSocket latency at 500 receptions/s. A publisher sends
// reception events to JetStream at a steady rate (receivedAt = the publish time); the API consumes them into its
// projection and pushes them to a WebSocket client, which measures now - receivedAt for each. Prints one line:
// {"scenario":"live","rate_per_s":500,"p50_ms":…,"p99_ms":…,"received":…,"published":…,"raw_publish_per_s":…}
// Target: p99 <= 250 ms.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, parseConfig } from '@mmm/common';
import { startNatsServer, waitFor } from '@mmm/testkit';
import { connect } from 'nats';
import WebSocket from 'ws';
import { apiConfigSpec } from '../services/api/src/config.js';
import { startApi } from '../services/api/src/main.js';
import { msgIdOf, provisionStreams, rx, subjectOf } from '../services/api/src/testing.js';
import { rawPublishRate } from './_baseline.js';
import { pct, r1 } from './_stats.js';

const seconds = Number(process.argv[2] ?? 20);
const rate = Number(process.argv[3] ?? 500);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mmm-bench-live-'));
  const nats = await startNatsServer({ name: 'bench-live' });
  const nc = await connect({ servers: nats.url });
  try {
    const raw = Math.round(await rawPublishRate(nc));
    await provisionStreams(nc, ['berlin', 'legacy']);
    const ini = `[server]\nport = 0\ninstance_id = bench\n[nats]\nurl = ${nats.url}\n[database]\npath = ${join(dir, 'api.db')}\n[history]\nsqlite_path = ${join(dir, 'none.db')}\n`;
    const svc = await startApi(
      parseConfig(apiConfigSpec, ini, 'bench.ini', { env: {} }),
      createLogger({ name: 'api', level: 'silent' }),
    );
    try {
      await waitFor('consumer', async () => (await fetch(`http://127.0.0.1:${svc.port}/api/health`)).status === 200);
      const ws = new WebSocket(`ws://127.0.0.1:${svc.port}/api/live`);
      const lat: number[] = [];
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as { type: string; packet?: { timestamp: string } };
        if (m.type === 'reception' && m.packet) lat.push(Date.now() - Date.parse(m.packet.timestamp));
      });
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ type: 'subscribe', kinds: ['reception'] }));
      const js = nc.jetstream();
      const total = seconds * rate;
      const start = Date.now();
      const pending: Promise<unknown>[] = [];
      // Paced in 10 ms ticks: each tick publishes what the schedule says should have been sent by then.
      for (let sent = 0; sent < total; ) {
        const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate));
        for (; sent < due; sent++) {
          const ev = rx(
            'text',
            { text: `live ${sent}` },
            { from: 0x1000 + (sent % 500), id: sent + 1, at: Date.now() },
          );
          pending.push(js.publish(subjectOf(ev), JSON.stringify(ev), { msgID: msgIdOf(ev) }));
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      await Promise.all(pending);
      await waitFor('all delivered', () => lat.length >= total, 30_000).catch(() => undefined);
      ws.close();
      process.stdout.write(
        `${JSON.stringify({ scenario: 'live', rate_per_s: rate, seconds, published: total, received: lat.length, p50_ms: r1(pct(lat, 50)), p99_ms: r1(pct(lat, 99)), max_ms: r1(Math.max(...lat)), target_p99_ms: 250, raw_publish_per_s: raw })}\n`,
      );
    } finally {
      await svc.close();
    }
  } finally {
    await nc.close();
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
