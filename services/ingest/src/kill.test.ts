import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClickHouseServer, type NatsServer, startClickHouse, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from './clickhouse/store.js';
import { bulkReceptions } from './testing/bulk.js';
import { createHubStream, publishAll } from './testing/nats.js';
import { defaultBase, mulberry32 } from './testing/sim-hour.js';

const REPO = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const RECEPTIONS = 50_000;
const KILLS = 10;

/** `mmm ingest` as a user runs it, from source; its pid file names the process that does the work. */
function startIngestProcess(config: string, pidFile: string): { child: ChildProcess; running: Promise<void> } {
  rmSync(pidFile, { force: true });
  const child = spawn(
    process.execPath,
    ['services/cli/bin/mmm.js', 'ingest', '-c', config, '--pid-file', pidFile, '--log-level', 'info'],
    {
      cwd: REPO,
      env: { ...process.env, MMM_FROM_SOURCE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const running = new Promise<void>((ok, fail) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('"ingest running"')) ok();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) =>
      fail(new Error(`ingest exited (${code ?? signal}) before running:\n${out.slice(-2000)}`)),
    );
  });
  return { child, running };
}

async function killByPidFile(pidFile: string, child: ChildProcess): Promise<void> {
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(pid, 'SIGKILL');
  await gone;
}

describe('kill -9 of mmm ingest during a 50k-reception run (ClickHouse)', () => {
  let nats: NatsServer;
  let ch: ClickHouseServer;
  let nc: NatsConnection;
  let store: ClickHouseStore;
  let dir: string;
  let last: ChildProcess | undefined;

  beforeAll(async () => {
    [nats, ch] = await Promise.all([startNatsServer(), startClickHouse()]);
    nc = await connect({ servers: nats.url });
    await createHubStream(nc);
    dir = mkdtempSync(join(tmpdir(), 'mmm-ingest-kill-'));
    store = new ClickHouseStore({ url: ch.url, database: 'killtest' });
  });
  afterAll(async () => {
    if (last && last.exitCode === null && last.signalCode === null) last.kill('SIGTERM');
    await store?.close();
    await nc?.drain();
    await Promise.all([nats?.dispose(), ch?.dispose()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing and stores nothing twice', { timeout: 600_000 }, async () => {
    const config = join(dir, 'ingest.ini');
    const pidFile = join(dir, 'ingest.pid');
    writeFileSync(
      config,
      `[nats]\nurl = ${nats.url}\n[clickhouse]\nurl = ${ch.url}\ndatabase = killtest\n[ingest]\nops_port = 0\nbatch_max = 2000\nbatch_ms = 200\nack_wait = 5\n`,
    );
    const events = bulkReceptions(RECEPTIONS, defaultBase(), 3);
    // Each life gets its own slice of the run published while it works, so every life has something to store and
    // dies mid-slice however fast the machine is (a fast box could otherwise store all 50k before the tenth kill).
    const slice = Math.ceil(RECEPTIONS / (KILLS + 1));
    const publishing: Promise<void>[] = [];
    const rnd = mulberry32(11);
    const count = async () => (await store.query<{ n: number }>('SELECT count() AS n FROM receptions'))[0]!.n;
    let kills = 0;
    const progress: number[] = [];
    while (kills < KILLS) {
      const { child, running } = startIngestProcess(config, pidFile);
      last = child;
      await running;
      const before = progress.at(-1) ?? 0;
      publishing.push(publishAll(nats.url, events.slice(kills * slice, (kills + 1) * slice)));
      // Kill at a random moment after this process made progress, so every life stores something and dies mid-run.
      await waitFor('progress', async () => (await count()) > before, 120_000, 50);
      await new Promise((r) => setTimeout(r, rnd() * 1_000));
      expect(existsSync(pidFile)).toBe(true);
      await killByPidFile(pidFile, child);
      kills++;
      progress.push(await count());
      if (process.env.MMM_TEST_LOG) console.error(new Date().toISOString(), 'kill', kills, progress.at(-1));
    }
    publishing.push(publishAll(nats.url, events.slice(KILLS * slice)));
    await Promise.all(publishing);
    const { child, running } = startIngestProcess(config, pidFile);
    last = child;
    await running;
    await waitFor(
      'every reception stored',
      async () => (await store.query<{ n: number }>('SELECT count() AS n FROM receptions'))[0]!.n >= RECEPTIONS,
      90_000,
      500,
    );
    // Raw counts without FINAL: nothing was inserted twice, so nothing waits for a merge to disappear.
    const [stats] = await store.query<{ n: number; ids: number; rollup: number; packets: number; positions: number }>(
      `SELECT (SELECT count() FROM receptions) AS n, (SELECT uniqExact(msg_id) FROM receptions) AS ids,
              (SELECT sum(receptions) FROM packets_hourly) AS rollup, (SELECT sum(packets) FROM packets_hourly) AS packets,
              (SELECT count() FROM positions) AS positions`,
    );
    const distinctPackets = new Set(events.map((e) => (e.event as { packet: { id: number } }).packet.id)).size;
    expect(kills).toBe(KILLS);
    expect(progress.filter((n) => n > 0 && n < RECEPTIONS).length).toBeGreaterThan(KILLS / 2);
    expect(stats).toEqual({
      n: RECEPTIONS,
      ids: RECEPTIONS,
      rollup: RECEPTIONS,
      packets: distinctPackets,
      positions: distinctPackets,
    });
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});
