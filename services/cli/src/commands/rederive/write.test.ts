import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { ClickHouseStore, openRederiver, type Rederiver, SqliteStore } from '@mmm/ingest';
import { type ClickHouseServer, startClickHouse } from '@mmm/testkit';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  captureEvents,
  clickhouseSnapshot,
  ingest,
  inputsOf,
  killMidway,
  mmm,
  portCounts,
  rangeArgs,
  sqliteSnapshot,
} from './testing.js';

/**
 * A run with an older version (here: one that decodes without the key) leaves every reception a newer run rewrote
 * as it is; the first run's batches applied again at its own version (a kill after a commit, before the state was
 * saved) count as rewritten and change nothing.
 */
async function newestWins(store: Rederiver, rewrittenBefore: number, version: number): Promise<void> {
  try {
    const older = await inputsOf(store, false);
    expect(await store.apply(older, 1, Date.now())).toEqual({
      rewritten: 0,
      unchanged: older.length - rewrittenBefore,
      newer: rewrittenBefore,
    });
    const same = await inputsOf(store, true);
    expect(await store.apply(same, version, Date.now())).toEqual({
      rewritten: rewrittenBefore,
      unchanged: same.length - rewrittenBefore,
      newer: 0,
    });
  } finally {
    await store.close();
  }
}

/** What the command prints when a run ends. */
interface Outcome {
  stopped: boolean;
  version: number;
  scanned: number;
  rewritten: number;
  unchanged: number;
  newer: number;
  changed: number;
  after: Record<string, number>;
}

const outcome = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!) as Outcome;

async function sqliteStore(path: string, agents: number, withKey: boolean): Promise<void> {
  const store = new SqliteStore(path);
  await store.init();
  await ingest(store, captureEvents(agents, withKey));
  await store.close();
}

function snapshotOf(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return sqliteSnapshot(db);
  } finally {
    db.close();
  }
}

describe('mmm rederive (writes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmm-rederive-write-'));
  let ch: ClickHouseServer | undefined;
  afterAll(async () => {
    await ch?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SQLite: receptions stored encrypted become what a direct ingest with the key stores; kill -9 and resume; twice changes nothing', {
    timeout: 300_000,
  }, async () => {
    // 60 agents hear the 32 real packets: 1920 receptions, applied 4 at a time so a kill lands mid-run.
    const AGENTS = 60;
    const stored = join(dir, 'stored.db');
    const direct = join(dir, 'direct.db');
    await sqliteStore(stored, AGENTS, false);
    await sqliteStore(direct, AGENTS, true);
    const before = snapshotOf(stored);
    const want = snapshotOf(direct);
    expect(portCounts(before)).toEqual({ encrypted: 32 * AGENTS });
    expect(portCounts(want)).toMatchObject({ position: 9 * AGENTS, text: 3 * AGENTS, encrypted: 11 * AGENTS });
    expect(want.positions!.length).toBeGreaterThan(0);

    const state = join(dir, 'sqlite-state.json');
    const args = ['rederive', '--sqlite', stored, ...rangeArgs(), '--state', state, '--batch', '4'];
    const killed = await killMidway(args, state, 40, 0);
    expect(killed.finished, 'the kill came after the run had finished').toBe(false);
    expect(killed.scanned).toBeGreaterThanOrEqual(40);
    expect(killed.scanned).toBeLessThan(32 * AGENTS);

    const resumed = await mmm(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming the run of version/);
    const r = outcome(resumed.stdout);
    const firstVersion = r.version;
    expect(r).toMatchObject({ stopped: false, scanned: 32 * AGENTS, rewritten: 21 * AGENTS, newer: 0 });
    expect(r.after).toEqual(portCounts(want));
    const after = snapshotOf(stored);
    expect(after).toEqual(want);
    // Not one reception more or less, and the packets still count every one of them.
    expect(after.receptions).toHaveLength(before.receptions!.length);

    const again = await mmm(args);
    expect(again.code, again.stderr).toBe(0);
    expect(outcome(again.stdout)).toMatchObject({ scanned: 32 * AGENTS, rewritten: 0, unchanged: 32 * AGENTS });
    expect(snapshotOf(stored)).toEqual(want);
    const versions = new Database(stored, { readonly: true });
    const v = versions
      .prepare('SELECT count(DISTINCT decoder_version) AS n, count(*) AS rows FROM reception_versions')
      .get();
    versions.close();
    // Every rewritten reception carries the first run's version; the second run wrote nothing.
    expect(v).toEqual({ n: 1, rows: 21 * AGENTS });
    await newestWins(openRederiver({ kind: 'sqlite', path: stored }), 21 * AGENTS, firstVersion);
    expect(snapshotOf(stored)).toEqual(want);
  });

  it('ClickHouse: the same, with kill -9 between the steps of a batch', { timeout: 600_000 }, async () => {
    ch = await startClickHouse();
    const AGENTS = 3;
    const opts = (database: string) => ({ url: ch!.url, database });
    for (const [database, withKey] of [
      ['stored', false],
      ['direct', true],
    ] as const) {
      const store = new ClickHouseStore(opts(database));
      await store.init();
      await ingest(store, captureEvents(AGENTS, withKey));
      await store.close();
    }
    const stored = createClient({ url: ch.url, database: 'stored' });
    const direct = createClient({ url: ch.url, database: 'direct' });
    try {
      const before = await clickhouseSnapshot(stored);
      const want = await clickhouseSnapshot(direct);
      expect(portCounts(before)).toEqual({ encrypted: 32 * AGENTS });
      expect(portCounts(want)).toMatchObject({ position: 9 * AGENTS, text: 3 * AGENTS, encrypted: 11 * AGENTS });

      const state = join(dir, 'clickhouse-state.json');
      const args = ['rederive', '--clickhouse', ch.url, '--database', 'stored', ...rangeArgs(), '--state', state];
      const batch = ['--batch', '8'];
      // Two kills: one right after a batch was saved, one some way into the next batch's steps.
      for (const delay of [0, 700]) {
        const killed = await killMidway([...args, ...batch], state, 8, delay);
        expect(killed.finished, 'the kill came after the run had finished').toBe(false);
      }
      const saved = JSON.parse(readFileSync(state, 'utf8')) as { counts: { scanned: number } };
      expect(saved.counts.scanned).toBeLessThan(32 * AGENTS);

      const resumed = await mmm([...args, ...batch]);
      expect(resumed.code, resumed.stderr).toBe(0);
      const r = outcome(resumed.stdout);
      const firstVersion = r.version;
      expect(r).toMatchObject({ stopped: false, scanned: 32 * AGENTS, newer: 0 });
      expect(r.after).toEqual(portCounts(want));
      const after = await clickhouseSnapshot(stored);
      expect(after).toEqual(want);
      // Without FINAL: one row per reception, nothing left twice by the kills.
      const rs = await stored.query({
        query: 'SELECT count() AS n, uniqExact(msg_id) AS u FROM receptions',
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      expect(await rs.json()).toEqual([{ n: 32 * AGENTS, u: 32 * AGENTS }]);

      const again = await mmm(args);
      expect(again.code, again.stderr).toBe(0);
      expect(outcome(again.stdout)).toMatchObject({ rewritten: 0, unchanged: 32 * AGENTS });
      expect(await clickhouseSnapshot(stored)).toEqual(want);
      await newestWins(
        openRederiver({ kind: 'clickhouse', url: ch.url, database: 'stored' }),
        21 * AGENTS,
        firstVersion,
      );
      expect(await clickhouseSnapshot(stored)).toEqual(want);
    } finally {
      await stored.close();
      await direct.close();
    }
  });

  it('refuses a state file of another store, and names a store it cannot open', { timeout: 120_000 }, async () => {
    const state = join(dir, 'sqlite-state.json');
    const other = await mmm(['rederive', '--sqlite', join(dir, 'direct.db'), ...rangeArgs(), '--state', state]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/is the state of a run on .*stored\.db/);
    const missing = await mmm([
      'rederive',
      '--sqlite',
      join(dir, 'nope.db'),
      ...rangeArgs(),
      '--state',
      join(dir, 'x.json'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot open SQLite history .*nope\.db/);
    const backwards = await mmm([
      'rederive',
      '--sqlite',
      join(dir, 'stored.db'),
      '--since',
      '2026-03-02T00:00:00Z',
      '--until',
      '2026-03-01T00:00:00Z',
    ]);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toMatch(/--until must be later than --since/);
  });
});
