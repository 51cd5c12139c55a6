// `npm run bench -- history-tools [receptions]`: the history tools' rates, each beside the raw rate of the store it
// reads, measured in the same run. Export: rows/s of GET /api/export/packets.csv and .ndjson (whole range, read by
// a client that only counts bytes) per history store (ingest's SQLite file and ClickHouse, seeded by direct inserts
// through schemas/ddl), beside a plain SELECT of the same rows from that store. Import: rows/s of import-original on
// the original server's database fixture into the hub, beside a plain read of its rows and the raw JetStream publish
// rate. Targets: export >= 50k rows/s.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { createLogger, parseConfig } from '@mmm/common';
import { FIXTURES_DIR, startClickHouse, startNatsServer } from '@mmm/testkit';
import Database from 'better-sqlite3';
import { connect } from 'nats';
import { ChannelKeyring } from '../services/agent/src/decode/index.js';
import { apiConfigSpec } from '../services/api/src/config.js';
import {
  applyClickHouseDdl,
  applySqliteDdl,
  insertClickHouse,
  insertSqlite,
  receptionRow,
} from '../services/api/src/history/seed.js';
import { openOriginal, TABLE_ORDER } from '../services/api/src/import/original.js';
import { importOriginal } from '../services/api/src/import/run.js';
import { startApi } from '../services/api/src/main.js';
import { provisionStreams } from '../services/api/src/testing.js';
import { runRederive } from '../services/cli/src/commands/rederive/run.js';
import { loadState } from '../services/cli/src/commands/rederive/state.js';
import { captureEvents, ingest, RANGE } from '../services/cli/src/commands/rederive/testing.js';
import {
  ClickHouseStore,
  openRederiver,
  type ScanSource,
  SqliteStore,
  scanReceptions,
} from '../services/ingest/src/index.js';
import { rawPublishRate } from './_baseline.js';
import { r1 } from './_stats.js';

const RECEPTIONS = Number(process.argv[2] ?? 200_000);
/** Re-derive: the 32 real captured packets heard by this many agents, stored as an agent without keys stores them. */
const REDERIVE_AGENTS = Math.max(1, Math.floor(Math.min(RECEPTIONS, 20_000) / 32));
const AGENTS = ['gw-1', 'gw-2', 'gw-3', 'gw-4'];
const PORTS = ['position', 'telemetry', 'nodeinfo', 'text', 'routing'];
const log = (m: string) => process.stderr.write(`${m}\n`);
const now = Date.now();
const out = (o: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ scenario: 'history-tools', ...o })}\n`);

function* receptionRows(): Generator<Record<string, unknown>[]> {
  const batch = 20_000;
  for (let start = 0; start < RECEPTIONS; start += batch) {
    const rows: Record<string, unknown>[] = [];
    for (let i = start; i < Math.min(RECEPTIONS, start + batch); i++) {
      const port = PORTS[i % 5]!;
      rows.push(
        receptionRow(
          {
            site: 'bench',
            agent: AGENTS[i % 4]!,
            from: 0x10000000 + (i % 2000),
            to: 0xffffffff,
            id: i,
            port,
            receivedAt: now - Math.floor((i / RECEPTIONS) * 3_600_000),
            snr: 5,
            rssi: -90,
            hopStart: 3,
            hopLimit: 2,
            relay: 0,
            payload: port === 'text' ? { text: `message, "quoted" ${i}` } : { n: i },
            isFirst: true,
          },
          i,
        ),
      );
    }
    yield rows;
  }
}

/** Reads a whole HTTP answer, counting bytes only; rows/s over the wall time from request to last byte. */
async function timeExport(url: string): Promise<{ seconds: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  let bytes = 0;
  const reader = res.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.length;
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

/**
 * mmm rederive's loop (runRederive: page, decode, apply, save state) over captures stored encrypted, beside a plain
 * read of the same rows from that store (scanReceptions).
 */
async function benchRederive(dir: string, chUrl: string): Promise<void> {
  const events = captureEvents(REDERIVE_AGENTS, false);
  const sources: ScanSource[] = [
    { kind: 'sqlite', path: join(dir, 'rederive.db') },
    { kind: 'clickhouse', url: chUrl, database: 'rederive' },
  ];
  log(`re-derive: ${events.length} receptions in each store`);
  for (const src of sources) {
    const seed = src.kind === 'sqlite' ? new SqliteStore(src.path) : new ClickHouseStore(src);
    await seed.init();
    await ingest(seed, events, 2000);
    await seed.close();
    let t0 = performance.now();
    let n = 0;
    for await (const rows of scanReceptions(src, RANGE)) n += rows.length;
    const rawRead = n / ((performance.now() - t0) / 1000);
    const statePath = join(dir, `rederive-${src.kind}.json`);
    const { state } = loadState(statePath, src.kind, RANGE.since, RANGE.until, Date.now());
    const store = openRederiver(src);
    t0 = performance.now();
    try {
      await runRederive({ store, state, statePath, keys: new ChannelKeyring(), progress: { write: () => 0 } });
    } finally {
      await store.close();
    }
    const perS = state.counts.scanned / ((performance.now() - t0) / 1000);
    out({
      case: 'rederive',
      store: src.kind,
      receptions: state.counts.scanned,
      rewritten: state.counts.rewritten,
      receptions_per_s: Math.round(perS),
      raw_read_rows_per_s: Math.round(rawRead),
      ratio_to_raw_read: Math.round((perS / rawRead) * 100) / 100,
      target_receptions_per_s: 5_000,
    });
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mmm-bench-history-'));
  const nats = await startNatsServer({ name: 'bench-history' });
  const ch = await startClickHouse();
  const nc = await connect({ servers: nats.url });
  try {
    const raw = Math.round(await rawPublishRate(nc));
    await provisionStreams(nc, ['bench', 'legacy']);
    log(`raw JetStream publish: ${raw}/s; seeding ${RECEPTIONS} receptions in each store`);
    const histPath = join(dir, 'history.db');
    const hist = new Database(histPath);
    hist.pragma('journal_mode = WAL');
    hist.pragma('synchronous = OFF'); // seeding only: the bench measures reads
    applySqliteDdl(hist);
    for (const rows of receptionRows()) insertSqlite(hist, 'receptions', rows);
    hist.close();
    const chRoot = createClient({ url: ch.url });
    await chRoot.command({ query: 'CREATE DATABASE IF NOT EXISTS mmm' });
    const chDb = createClient({ url: ch.url, database: 'mmm', request_timeout: 300_000 });
    await applyClickHouseDdl(chDb);
    for (const rows of receptionRows()) await insertClickHouse(chDb, 'receptions', rows);

    const since = now - 2 * 3_600_000;
    // The raw store reads: the same rows, in the same order, with nothing done to them.
    let t0 = performance.now();
    const ro = new Database(histPath, { readonly: true });
    let n = 0;
    for (const _ of ro
      .prepare('SELECT * FROM receptions WHERE received_at >= ? ORDER BY received_at DESC')
      .iterate(since))
      n++;
    ro.close();
    const rawSqlite = n / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    const rs = await chDb.query({
      query: `SELECT * FROM receptions WHERE received_at >= ${since} ORDER BY received_at DESC`,
      format: 'JSONEachRow',
    });
    n = 0;
    for await (const rows of rs.stream()) for (const r of rows) n += r.json() ? 1 : 0;
    const rawClickHouse = n / ((performance.now() - t0) / 1000);
    await chDb.close();
    await chRoot.close();

    const base = `[server]\nport = 0\ninstance_id = bench\n[nats]\nurl = ${nats.url}\n[database]\npath = ${join(dir, 'api.db')}\n[history]\nsqlite_path = ${histPath}\n`;
    for (const c of [
      { store: 'sqlite', ini: base, rawRead: rawSqlite },
      { store: 'clickhouse', ini: `${base}[clickhouse]\nurl = ${ch.url}\ndatabase = mmm\n`, rawRead: rawClickHouse },
    ]) {
      const svc = await startApi(
        parseConfig(apiConfigSpec, c.ini, 'bench.ini', { env: {} }),
        createLogger({ name: 'api', level: 'silent' }),
      );
      try {
        for (const format of ['csv', 'ndjson']) {
          const t = await timeExport(`http://127.0.0.1:${svc.port}/api/export/packets.${format}?hours=2`);
          const perS = RECEPTIONS / t.seconds;
          out({
            case: `export-${format}`,
            store: c.store,
            rows: RECEPTIONS,
            bytes: t.bytes,
            seconds: r1(t.seconds),
            rows_per_s: Math.round(perS),
            raw_read_rows_per_s: Math.round(c.rawRead),
            ratio_to_raw_read: Math.round((perS / c.rawRead) * 100) / 100,
            target_rows_per_s: 50_000,
            raw_publish_per_s: raw,
          });
        }
      } finally {
        await svc.close();
      }
    }

    const original = openOriginal(join(FIXTURES_DIR, '..', 'original-db', 'meshview.db'));
    const total = TABLE_ORDER.reduce((s, t) => s + original.counts[t], 0);
    t0 = performance.now();
    let read = 0;
    for (const t of TABLE_ORDER)
      for (let last = 0, rows = original.rows(t, 0, 5000); rows.length; rows = original.rows(t, last, 5000)) {
        read += rows.length;
        last = rows[rows.length - 1]!._rowid;
      }
    const rawOriginal = read / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    await importOriginal({
      db: original,
      js: nc.jetstream(),
      site: 'legacy',
      statePath: join(dir, 'import-state.json'),
      progress: { write: () => 0 },
    });
    const importPerS = total / ((performance.now() - t0) / 1000);
    original.close();
    out({
      case: 'import-original',
      rows: total,
      rows_per_s: Math.round(importPerS),
      raw_read_rows_per_s: Math.round(rawOriginal),
      raw_publish_per_s: raw,
      ratio_to_raw_publish: Math.round((importPerS / raw) * 100) / 100,
    });
    await benchRederive(dir, ch.url);
  } finally {
    await nc.close();
    await ch.dispose();
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
