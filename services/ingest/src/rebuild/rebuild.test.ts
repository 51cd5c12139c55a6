import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streams } from '@mmm/schemas';
import { type ClickHouseServer, type NatsServer, startClickHouse, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '../clickhouse/store.js';
import { type RunningIngest, startIngest } from '../service.js';
import { SqliteStore } from '../sqlite/store.js';
import { askClickHouse, askSqlite } from '../testing/compare.js';
import { createHubStream, publishAll, quietLog, testConfig } from '../testing/nats.js';
import { ANSWER_QUESTIONS, COUNT_QUESTIONS } from '../testing/questions.js';
import { simulateHour } from '../testing/sim-hour.js';
import { rebuildStore } from './start.js';

const REPO = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));

const config = (url: string, path: string) =>
  testConfig(`[nats]\nurl = ${url}\n[sqlite]\npath = ${path}\n[ingest]\nops_port = 0\nbatch_max = 2000\n`);

describe('mmm ingest --rebuild: a new store from what the hub stream holds', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let live: RunningIngest;
  let ch: ClickHouseServer | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'mmm-ingest-rebuild-'));
  const livePath = join(dir, 'live.db');

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    await createHubStream(nc);
    live = await startIngest(config(nats.url, livePath), quietLog());
  });
  afterAll(async () => {
    await live?.stop();
    await ch?.dispose();
    await nc?.drain();
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Live ingest has stored (acked) everything in the stream. */
  const liveIdle = async () => {
    const jsm = await nc.jetstreamManager();
    const durable = config(nats.url, livePath).ingest.durable;
    await waitFor(
      'live ingest acked everything',
      async () => {
        const ci = await jsm.consumers.info(streams.hub, durable);
        return ci.num_pending === 0 && ci.num_ack_pending === 0;
      },
      30_000,
    );
    return (await jsm.streams.info(streams.hub)).state.last_seq;
  };

  const answers = (path: string) => {
    const s = new SqliteStore(path);
    try {
      return [...COUNT_QUESTIONS, ...ANSWER_QUESTIONS].map((q) => [q.name, askSqlite(s, q)]);
    } finally {
      void s.close();
    }
  };

  it('equals the live store for the same range, stopped after a batch and resumed, while live ingest runs', {
    timeout: 180_000,
  }, async () => {
    const since = Date.now() - 1000;
    const hour = simulateHour(7);
    await publishAll(nats.url, hour.events);
    const receptions = (path: string) => {
      const s = new SqliteStore(path);
      try {
        return (s.db.prepare('SELECT count(*) AS n FROM receptions').get() as { n: number }).n;
      } finally {
        void s.close();
      }
    };
    await waitFor('live ingest stored the hour', () => receptions(livePath) === hour.expected.receptions, 60_000);
    // The live store as it holds this range, once its consumer has every message acked (so stored).
    await liveIdle();
    const liveCopy = join(dir, 'live-copy.db');
    const s = new SqliteStore(livePath);
    await s.db.backup(liveCopy);
    await s.close();

    const rebuilt = join(dir, 'rebuilt.db');
    const statePath = join(dir, 'rebuild-state.json');
    const stop = new AbortController();
    stop.abort();
    const req = { since, statePath, batch: 700 };
    const first = await rebuildStore(config(nats.url, rebuilt), { ...req, signal: stop.signal }, quietLog());
    expect(first.stopped).toBe(true);
    expect(first.state.read).toBe(700);
    // Live ingest goes on meanwhile; the rebuild stops at the sequence the stream had when it began.
    await publishAll(nats.url, simulateHour(11).events.slice(0, 300));
    const second = await rebuildStore(config(nats.url, rebuilt), req, quietLog());
    expect(second.stopped).toBe(false);
    expect(second.state).toMatchObject({ finished: true, read: hour.events.length, invalid: 0 });
    expect(JSON.parse(readFileSync(statePath, 'utf8')).lastSeq).toBe(hour.events.length);
    expect(receptions(rebuilt)).toBe(hour.expected.receptions);
    expect(answers(rebuilt)).toEqual(answers(liveCopy));
    // The command, into a third store chosen by the environment as the help shows: it begins after the later
    // messages, so it holds everything the live store holds.
    const lastSeq = await liveIdle();
    const viaCli = join(dir, 'cli.db');
    const run = spawnSync(
      process.execPath,
      [
        'services/cli/bin/mmm.js',
        'ingest',
        '--rebuild',
        '--since',
        new Date(since).toISOString(),
        '--state',
        join(dir, 'cli-state.json'),
      ],
      {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, MMM_FROM_SOURCE: '1', MMM_NATS_URL: nats.url, MMM_SQLITE_PATH: viaCli },
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toMatchObject({
      stopped: false,
      finished: true,
      read: lastSeq,
    });
    expect(run.stderr).toMatch(/"progress":"ingest --rebuild"/);
    expect(answers(viaCli)).toEqual(answers(livePath));
    // A finished rebuild run again reads nothing.
    expect((await rebuildStore(config(nats.url, rebuilt), req, quietLog())).state.read).toBe(hour.events.length);
  });

  it('into a new ClickHouse database: the same answers as the live SQLite store', { timeout: 240_000 }, async () => {
    const lastSeq = await liveIdle();
    ch = await startClickHouse();
    const chConfig = testConfig(
      `[nats]\nurl = ${nats.url}\n[clickhouse]\nurl = ${ch.url}\ndatabase = rebuilt\n[ingest]\nops_port = 0\n`,
    );
    const r = await rebuildStore(chConfig, { since: 0, statePath: join(dir, 'ch-state.json') }, quietLog());
    expect(r.state).toMatchObject({ finished: true, read: lastSeq, invalid: 0 });
    const store = new ClickHouseStore({ url: ch.url, database: 'rebuilt' });
    const live = new SqliteStore(livePath);
    try {
      for (const q of [...COUNT_QUESTIONS, ...ANSWER_QUESTIONS])
        expect(await askClickHouse(store, q), q.name).toEqual(askSqlite(live, q));
    } finally {
      await store.close();
      await live.close();
    }
  });
});
