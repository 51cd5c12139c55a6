// `npm run bench -- legacy [seconds]`: packets/s accepted through POST /api/agent/data with 100-packet bodies in the
// original agent's wire format, driven by the shared load generator (../shared/bench/legacy-load.mjs, a separate
// process: 4 agents x 4 requests in flight). Every accepted body is republished to JetStream before the 200, so the
// raw JetStream publish rate of the same run is the baseline. Prints one line:
// {"scenario":"legacy","packets_per_s":…,"raw_publish_per_s":…,"ratio":…,"post_p95_ms":…}

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger, parseConfig } from '@mmm/common';
import { FIXTURES_DIR, startNatsServer } from '@mmm/testkit';
import { connect } from 'nats';
import { apiConfigSpec } from '../services/api/src/config.js';
import { startApi } from '../services/api/src/main.js';
import { provisionStreams } from '../services/api/src/testing.js';
import { rawPublishRate } from './_baseline.js';

const seconds = Number(process.argv[2] ?? 20);
const LOAD = join(FIXTURES_DIR, '..', '..', 'bench', 'legacy-load.mjs');
const AGENTS = 4;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mmm-bench-legacy-'));
  const nats = await startNatsServer({ name: 'bench-legacy' });
  const nc = await connect({ servers: nats.url });
  try {
    const raw = Math.round(await rawPublishRate(nc));
    await provisionStreams(nc, ['legacy']);
    // The generator names its agents <prefix>-<n>: process i plays agent bench<i>-1 with that agent's own key.
    const keys = Array.from({ length: AGENTS }, (_, i) => `bench${i + 1}-1 = bench-key-${i + 1}-0123456789`).join('\n');
    const ini = `[server]\nport = 0\ninstance_id = bench\n[nats]\nurl = ${nats.url}\n[database]\npath = ${join(dir, 'api.db')}\n[history]\nsqlite_path = ${join(dir, 'none.db')}\n[api_keys]\n${keys}\n`;
    const svc = await startApi(
      parseConfig(apiConfigSpec, ini, 'bench.ini', { env: {} }),
      createLogger({ name: 'api', level: 'silent' }),
    );
    try {
      const runs = await Promise.all(
        Array.from({ length: AGENTS }, (_, i) =>
          promisify(execFile)(
            process.execPath,
            [
              LOAD,
              'ingest',
              '--url',
              `http://127.0.0.1:${svc.port}`,
              '--api-key',
              `bench-key-${i + 1}-0123456789`,
              '--agents',
              '1',
              '--agent-prefix',
              `bench${i + 1}`,
              '--concurrency',
              '4',
              '--batch',
              '100',
              '--duration',
              String(seconds),
              '--nodes',
              '200',
              '--setup',
              'register',
              '--quiet',
            ],
            { timeout: (seconds + 120) * 1000 },
          ),
        ),
      );
      const res = runs.map(
        (r) =>
          JSON.parse(
            r.stdout
              .trim()
              .split('\n')
              .pop()!
              .replace(/^RESULT /, ''),
          ) as Record<string, number>,
      );
      const pps = res.reduce((a, r) => a + (r.pkts_per_s_mean ?? 0), 0);
      const errors = res.reduce((a, r) => a + (r.errors ?? 0), 0);
      const stored = (await (await nc.jetstreamManager()).streams.info('MESH')).state.messages;
      process.stdout.write(
        `${JSON.stringify({ scenario: 'legacy', packets_per_s: Math.round(pps), raw_publish_per_s: raw, ratio: Math.round((pps / raw) * 1000) / 1000, post_p50_ms: Math.max(...res.map((r) => r.lat_ms_p50 ?? 0)), post_p95_ms: Math.max(...res.map((r) => r.lat_ms_p95 ?? 0)), errors, accepted: res.reduce((a, r) => a + (r.packets_accepted ?? 0), 0), stream_messages: stored, seconds })}\n`,
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
