// `mmm export` and `mmm api` as real processes: the exported file equals the API's own export, errors are clear, and
// a million-row export keeps both processes' memory flat.

import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import Database from 'better-sqlite3';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySqliteDdl } from '../history/seed.js';
import { provisionStreams } from '../testing.js';
import { PACKET_COLUMNS } from './columns.js';

const REPO = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
const ROWS = 1_000_000;
const RSS_LIMIT_MB = 150;
/** What the API may grow by while it streams ~200 MB of CSV: half the output at most, so never a copy of it (35-62 MB measured). */
const API_GROWTH_LIMIT_MB = 100;
/**
 * V8's defaults let short-lived garbage pile up (young generation grown to 2 × 16 MB, the old one to ~4 × the live
 * size before a full collection): the API's resident size then says more about the collector's pace than about what
 * the export keeps. These flags (the agent's, services/agent/src/heap.ts) make it collect garbage promptly, so the
 * measured growth is what the export holds.
 */
const COMPACT_HEAP = ['--semi-space-growth-factor=1', '--heap-growing-percent=50'];
const TOKEN = 'export-cli-token-0123456789';

/** `mmm <args>` from source, without bin/mmm.js's launcher process, so the pid is the process doing the work. */
function mmm(args: string[], node: string[] = []): ChildProcess {
  return spawn(
    process.execPath,
    [...node, '--conditions=development', '--import', 'tsx', 'services/cli/src/main.ts', ...args],
    {
      cwd: REPO,
      env: { ...process.env, MMM_FROM_SOURCE: '1', MMM_API_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs to the end, sampling the process's resident memory; returns exit code, stderr and the peak. */
async function run(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string; peakMb: number }> {
  const child = mmm(args);
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  let peakMb = 0;
  const timer = setInterval(() => {
    peakMb = Math.max(peakMb, rssMb(child.pid!));
  }, 100);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearInterval(timer);
  return { code, stderr, stdout, peakMb };
}

/** A million receptions written straight into ingest's SQLite schema by one SQL statement. */
function seedMillion(path: string, now: number): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  applySqliteDdl(db);
  db.exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS - 1})
    INSERT INTO receptions SELECT 'rx:berlin:gw-' || (i % 4) || ':' || i, 'berlin', 'gw-' || (i % 4), 65536 + (i % 300),
      4294967295, i, CASE i % 3 WHEN 0 THEN 'text' WHEN 1 THEN 'position' ELSE 'telemetry' END, 1, 0, '', 0,
      ${now} - 3600000 + (i * 3), 5.25, -90, 3, 2, 1, 0, 0, 0, 0, 0, 0, 'none', 'radio', '', 0, 0,
      CASE i % 3 WHEN 0 THEN '{"text":"hello, \\"mesh\\" ' || i || '"}'
        WHEN 1 THEN '{"latitudeI":525000000,"longitudeI":134000000,"altitude":40}'
        ELSE '{"deviceMetrics":{"batteryLevel":80,"voltage":3.9}}' END, '', 1, i, 0 FROM n`);
  db.close();
}

describe('mmm export against a running mmm api', () => {
  let nats: NatsServer;
  let api: ChildProcess | undefined;
  let url = '';
  const dir = mkdtempSync(join(tmpdir(), 'mmm-export-cli-'));
  const now = Date.now();
  let apiPeakMb = 0;
  let sampler: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    nats = await startNatsServer({ name: 'export-cli' });
    const nc = await connect({ servers: nats.url });
    await provisionStreams(nc);
    await nc.close();
    seedMillion(join(dir, 'history.db'), now);
    const port = await freePort();
    writeFileSync(join(dir, 'tokens'), `read ${TOKEN}\n`);
    writeFileSync(
      join(dir, 'api.ini'),
      `[server]\nport = ${port}\n[nats]\nurl = ${nats.url}\n[database]\npath = ${join(dir, 'api.db')}\n[web]\ndir = ${join(dir, 'no-web')}\n[history]\nsqlite_path = ${join(dir, 'history.db')}\n[auth]\ntokens_file = ${join(dir, 'tokens')}\n`,
    );
    api = mmm(['api', '-c', join(dir, 'api.ini'), '--log-level', 'warn'], COMPACT_HEAP);
    url = `http://127.0.0.1:${port}`;
    await waitFor('the API is up', async () => (await fetch(`${url}/healthz`)).ok, 90_000, 250);
  }, 180_000);

  afterAll(async () => {
    clearInterval(sampler);
    if (api && api.exitCode === null) {
      const exited = new Promise((r) => api!.once('exit', r));
      api.kill('SIGTERM');
      await exited;
    }
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the same bytes as the API export, to a file or stdout', { timeout: 120_000 }, async () => {
    const args = ['--api', url, '--token', TOKEN, '--type', 'text', '--since', new Date(now - 3_600_000).toISOString()];
    const until = new Date(now - 3_600_000 + 3 * 3000).toISOString();
    const viaApi = await (
      await fetch(
        `${url}/api/export/packets.ndjson?type=text&since=${new Date(now - 3_600_000).toISOString()}&until=${until}`,
        { headers: { authorization: `Bearer ${TOKEN}` } },
      )
    ).text();
    expect(viaApi.trimEnd().split('\n')).toHaveLength(1000);
    const out = join(dir, 'texts.ndjson');
    const toFile = await run(['export', 'packets', '-f', 'ndjson', ...args, '--until', until, '-o', out]);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(viaApi);
    // Not a terminal: the progress is JSON lines on stderr, the last one final.
    const last = JSON.parse(toFile.stderr.trimEnd().split('\n').at(-1)!);
    expect(last).toMatchObject({
      progress: 'export packets',
      unit: 'bytes',
      done: Buffer.byteLength(viaApi),
      final: true,
    });
    const toStdout = await run(['export', 'packets', '-f', 'ndjson', ...args, '--until', until]);
    expect(toStdout.stdout).toBe(viaApi);
  });

  it('says what is wrong: no token, a format the export lacks, a track without a node', {
    timeout: 120_000,
  }, async () => {
    const noToken = await run(['export', 'nodes', '--api', url]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/mmm export: the API answered 401: a read token is required/);
    const badFormat = await run(['export', 'links', '-f', 'csv', '--api', url]);
    expect(badFormat.code).toBe(1);
    expect(badFormat.stderr).toMatch(/links exports as geojson, not csv/);
    const noNode = await run(['export', 'track', '--api', url, '--token', TOKEN]);
    expect(noNode.stderr).toMatch(/needs --node/);
    const down = await run(['export', 'nodes', '--api', 'http://127.0.0.1:9', '--token', TOKEN]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach the API at http:\/\/127\.0\.0\.1:9/);
  });

  it(`exports ${ROWS} rows as CSV: the API grows < ${API_GROWTH_LIMIT_MB} MB, the CLI stays < ${RSS_LIMIT_MB} MB RSS`, {
    timeout: 600_000,
  }, async () => {
    const out = join(dir, 'all.csv');
    // Warm up (code paths compiled, pools allocated) before the baseline.
    await run([
      'export',
      'packets',
      '--api',
      url,
      '--token',
      TOKEN,
      '--type',
      'text',
      '--node',
      '!00010000',
      '-o',
      out,
    ]);
    const before = rssMb(api!.pid!);
    sampler = setInterval(() => {
      apiPeakMb = Math.max(apiPeakMb, rssMb(api!.pid!));
    }, 100);
    const started = Date.now();
    const r = await run(['export', 'packets', '--api', url, '--token', TOKEN, '--hours', '2', '-o', out]);
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    expect(r.code, r.stderr).toBe(0);
    let lines = 0;
    let header = '';
    for await (const line of createInterface({ input: createReadStream(out) })) {
      if (!lines) header = line;
      lines++;
    }
    expect(header).toBe(PACKET_COLUMNS.join(','));
    // One line per row: the payloads hold no line breaks.
    expect(lines).toBe(ROWS + 1);
    console.log(
      JSON.stringify({
        rows: ROWS,
        bytes: statSync(out).size,
        seconds,
        apiPeakMb: Math.round(apiPeakMb),
        apiBeforeMb: Math.round(before),
        rowsPerSecond: Math.round(ROWS / seconds),
        cliPeakMb: Math.round(r.peakMb),
      }),
    );
    // The API's own baseline run from source (tsx) is ~170 MB before any export; what the export adds is bounded.
    expect(apiPeakMb - before).toBeLessThan(API_GROWTH_LIMIT_MB);
    expect(r.peakMb).toBeLessThan(RSS_LIMIT_MB);
  });
});
