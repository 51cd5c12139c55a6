// `npm run bench -- api [receptions] [nodes]`: p50/p95 of GET /api/nodes/detailed with 10k nodes (the API's own
// projection) and of a filtered GET /api/packets with 1M receptions, for each history store (ingest's SQLite file
// and ClickHouse, seeded by direct inserts through schemas/ddl). Three rounds of 20 requests each; each line reports the
// median of the rounds' p50/p95 and the raw JetStream publish rate measured in the same run.
// Targets: nodes/detailed p95 <= 50 ms, packets p95 <= 100 ms.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { createLogger, parseConfig } from '@mmm/common';
import { startClickHouse, startNatsServer } from '@mmm/testkit';
import Database from 'better-sqlite3';
import { connect } from 'nats';
import { apiConfigSpec } from '../services/api/src/config.js';
import {
  applyClickHouseDdl,
  applySqliteDdl,
  insertClickHouse,
  insertSqlite,
  receptionRow,
} from '../services/api/src/history/seed.js';
import { startApi } from '../services/api/src/main.js';
import { openDb } from '../services/api/src/store/db.js';
import { provisionStreams } from '../services/api/src/testing.js';
import { rawPublishRate } from './_baseline.js';
import { median, pct, r1, timeGets } from './_stats.js';

const RECEPTIONS = Number(process.argv[2] ?? 1_000_000);
const NODES = Number(process.argv[3] ?? 10_000);
const ROUNDS = 3;
const PER_ROUND = 20;
const AGENTS = ['gw-1', 'gw-2', 'gw-3', 'gw-4'];
const PORTS = ['position', 'telemetry', 'nodeinfo', 'text', 'routing'];
const log = (m: string) => process.stderr.write(`${m}\n`);
const now = Date.now();
const nodeNum = (i: number) => 0x10000000 + i;

/** 10k nodes, each heard by 1–3 agents, with a latest traceroute per agent for a tenth of them. */
function seedProjection(path: string): void {
  const db = openDb(path);
  const node =
    db.prepare(`INSERT INTO nodes (num, short_name, long_name, hw_model, role, lat, lon, alt, position_at, battery_level, voltage,
    channel_utilization, air_util_tx, uptime_seconds, last_heard, first_seen, updated_at, packet_count)
    VALUES (?, ?, ?, 4, ?, ?, ?, 100, ?, 80, 4.0, 12.5, 1.5, 3600, ?, ?, ?, 10)`);
  const na = db.prepare(
    'INSERT INTO node_agents (num, site, agent, last_heard, updated_at, hops_away, snr, rssi, packet_count) VALUES (?, ?, ?, ?, ?, ?, 5, -90, 3)',
  );
  const agent = db.prepare(
    'INSERT INTO agents (site, agent, location_name, lat, lon, first_seen, last_seen, packet_count) VALUES (?, ?, ?, 52.5, 13.4, ?, ?, 0)',
  );
  const tr =
    db.prepare(`INSERT INTO traces (id, site, agent, request_id, from_num, to_num, started_at, finished_at, outcome, trig, towards, back)
    VALUES (?, 'bench', ?, ?, 1, ?, ?, ?, 'success', 'sweep', ?, NULL)`);
  db.transaction(() => {
    for (const a of AGENTS) agent.run('bench', a, `Site ${a}`, now, now);
    for (let i = 0; i < NODES; i++) {
      const t = now - (i % 3600) * 1000;
      node.run(
        nodeNum(i),
        `N${i % 10000}`,
        `Bench node ${i}`,
        i % 13,
        52 + (i % 100) / 100,
        13 + (i % 77) / 100,
        t,
        t,
        t - 86_400_000,
        t,
      );
      for (let k = 0; k <= i % 3; k++) na.run(nodeNum(i), 'bench', AGENTS[(i + k) % 4], t, t, k);
      if (i % 10 === 0)
        tr.run(
          `trace:bench:${AGENTS[i % 4]}:${i}`,
          AGENTS[i % 4],
          i,
          nodeNum(i),
          t - 3000,
          t,
          JSON.stringify({ route: [1, nodeNum(i)], snr: [5] }),
        );
    }
  })();
  db.close();
}

/** The same receptions for both stores: 1M over 24 h, 4 agents, 2,000 senders, a port mix. */
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
            from: nodeNum(i % 2000),
            to: i % 7 === 0 ? nodeNum((i + 1) % 2000) : 0xffffffff,
            id: i,
            port,
            receivedAt: now - Math.floor((i / RECEPTIONS) * 86_400_000),
            snr: 5,
            rssi: -90,
            hopStart: 3,
            hopLimit: 2,
            relay: 0,
            payload: port === 'text' ? { text: `message ${i}` } : { n: i },
            isFirst: true,
          },
          i,
        ),
      );
    }
    yield rows;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mmm-bench-api-'));
  const nats = await startNatsServer({ name: 'bench-api' });
  const ch = await startClickHouse();
  const nc = await connect({ servers: nats.url });
  try {
    const raw = Math.round(await rawPublishRate(nc));
    await provisionStreams(nc, ['bench', 'legacy']);
    log(`raw JetStream publish: ${raw}/s; seeding ${NODES} nodes and ${RECEPTIONS} receptions`);
    seedProjection(join(dir, 'api.db'));
    const hist = new Database(join(dir, 'history.db'));
    hist.pragma('journal_mode = WAL');
    hist.pragma('synchronous = OFF'); // seeding only: the bench measures reads
    applySqliteDdl(hist);
    const chRoot = createClient({ url: ch.url });
    await chRoot.command({ query: 'CREATE DATABASE IF NOT EXISTS mmm' });
    const chDb = createClient({ url: ch.url, database: 'mmm', request_timeout: 300_000 });
    await applyClickHouseDdl(chDb);
    let t0 = performance.now();
    for (const rows of receptionRows()) insertSqlite(hist, 'receptions', rows);
    log(`sqlite seeded in ${r1((performance.now() - t0) / 1000)} s`);
    hist.close();
    t0 = performance.now();
    for (const rows of receptionRows()) await insertClickHouse(chDb, 'receptions', rows);
    log(`clickhouse seeded in ${r1((performance.now() - t0) / 1000)} s`);
    await chDb.close();
    await chRoot.close();

    const base = `[server]\nport = 0\ninstance_id = bench\n[nats]\nurl = ${nats.url}\n[database]\npath = ${join(dir, 'api.db')}\n[history]\nsqlite_path = ${join(dir, 'history.db')}\n`;
    const cases: { store: string; ini: string; urls: [string, string][] }[] = [
      {
        store: 'sqlite',
        ini: base,
        urls: [
          ['nodes_detailed', '/api/nodes/detailed?hours=72&limit=500'],
          ['packets_filtered', '/api/packets?hours=24&type=text&limit=100'],
          ['packets_from_node', `/api/packets?hours=24&from_node=!${nodeNum(42).toString(16)}&limit=100`],
        ],
      },
      {
        store: 'clickhouse',
        ini: `${base}[clickhouse]\nurl = ${ch.url}\ndatabase = mmm\n`,
        urls: [
          ['packets_filtered', '/api/packets?hours=24&type=text&limit=100'],
          ['packets_from_node', `/api/packets?hours=24&from_node=!${nodeNum(42).toString(16)}&limit=100`],
        ],
      },
    ];
    for (const c of cases) {
      const svc = await startApi(
        parseConfig(apiConfigSpec, c.ini, 'bench.ini', { env: {} }),
        createLogger({ name: 'api', level: 'silent' }),
      );
      const url = `http://127.0.0.1:${svc.port}`;
      try {
        for (const [name, path] of c.urls) {
          const p50s: number[] = [];
          const p95s: number[] = [];
          let items = 0;
          for (let r = 0; r < ROUNDS; r++) {
            const res = await timeGets(url + path, PER_ROUND);
            if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
            p50s.push(pct(res.ms, 50));
            p95s.push(pct(res.ms, 95));
            items = res.items;
          }
          const target = name.startsWith('nodes') ? 50 : 100;
          const store = name.startsWith('nodes') ? 'projection' : c.store;
          process.stdout.write(
            `${JSON.stringify({ scenario: 'api', case: name, store, path, nodes: NODES, receptions: RECEPTIONS, items, p50_ms: r1(median(p50s)), p95_ms: r1(median(p95s)), p95_rounds_ms: p95s.map(r1), target_p95_ms: target, raw_publish_per_s: raw })}\n`,
          );
        }
      } finally {
        await svc.close();
      }
    }
  } finally {
    await nc.close();
    await ch.dispose();
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
