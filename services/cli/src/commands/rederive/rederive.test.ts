import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { ChannelKeyring, decodeMeshPacketBytes } from '@mmm/agent/decode';
import { ddlStatements, scanReceptions } from '@mmm/ingest';
import { type ClickHouseServer, FIXTURES_DIR, startClickHouse } from '@mmm/testkit';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { addToPlan, emptyPlan, type RederivePlan } from './count.js';
import { mmm } from './testing.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');

/** The 32 real MeshPackets of the UDP capture (all arrived encrypted; 21 open with the default key). */
const captures = readFileSync(join(FIXTURES_DIR, 'potato-mesh_mesh_udp_capture.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => (JSON.parse(l) as { raw_b64: string }).raw_b64);

/**
 * Receptions as ingest stored them when its agent had no key for them: every capture as port `encrypted`, plus two
 * rows of the original's HTTP agents (no raw bytes) and one outside the range.
 */
function storedRows(): Record<string, unknown>[] {
  const row = (i: number, port: string, raw: string, source: string, at: number) => ({
    msg_id: `rx:berlin:gw-1:${i}`,
    site: 'berlin',
    agent: 'gw-1',
    from_node: 0xdead0000 + i,
    to_node: 0xffffffff,
    packet_id: i,
    port,
    portnum: 0,
    channel: 31,
    channel_name: '',
    rx_time: Math.floor(at / 1000),
    received_at: at,
    rx_snr: 5,
    rx_rssi: -90,
    hop_start: 3,
    hop_limit: 2,
    hops: 1,
    relay_node: 0,
    next_hop: 0,
    via_mqtt: 0,
    want_ack: 0,
    priority: 0,
    pki_encrypted: 0,
    encryption: port === 'encrypted' ? 'undecryptable' : 'none',
    source,
    gateway_id: '',
    request_id: 0,
    reply_id: 0,
    payload: '{}',
    raw,
    is_first: 1,
    stream_seq: i,
    ingested_at: at,
  });
  return [
    ...captures.map((raw, i) => row(i, 'encrypted', raw, 'replay', T0 + i * 1000)),
    row(100, 'text', '', 'legacy-http', T0 + 100_000),
    row(101, 'position', '', 'legacy-http', T0 + 101_000),
    row(102, 'encrypted', captures[0]!, 'radio', T0 - 3_600_000),
  ];
}

/** What a direct decode of the same bytes with today's keys gives: the counts a fresh ingest would store. */
function direct(): Record<string, number> {
  const out: Record<string, number> = { text: 1, position: 1 };
  for (const raw of captures) {
    const r = decodeMeshPacketBytes(Buffer.from(raw, 'base64'), {
      site: 'berlin',
      agent: 'gw-1',
      receivedAt: T0,
      source: 'replay',
      keys: new ChannelKeyring(),
    });
    if (!r.ok) throw new Error(r.error);
    out[r.value.port] = (out[r.value.port] ?? 0) + 1;
  }
  return out;
}

const RANGE = { since: T0, until: T0 + 3_600_000 };

async function planOf(src: Parameters<typeof scanReceptions>[0]): Promise<RederivePlan> {
  const plan = emptyPlan();
  for await (const rows of scanReceptions(src, RANGE)) addToPlan(plan, rows, new ChannelKeyring());
  return plan;
}

describe('mmm rederive --dry-run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmm-rederive-'));
  let ch: ClickHouseServer | undefined;
  let fromSqlite: RederivePlan | undefined;
  afterAll(async () => {
    await ch?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts what today's decoder makes of receptions stored as encrypted (SQLite, and the command)", {
    timeout: 120_000,
  }, async () => {
    const path = join(dir, 'history.db');
    const db = new Database(path);
    for (const s of ddlStatements('sqlite')) db.exec(s);
    const rows = storedRows();
    const cols = Object.keys(rows[0]!);
    const ins = db.prepare(`INSERT INTO receptions (${cols.join(',')}) VALUES (${cols.map((c) => `@${c}`).join(',')})`);
    db.transaction(() => {
      for (const r of rows) ins.run(r);
    })();
    db.close();

    fromSqlite = await planOf({ kind: 'sqlite', path });
    expect(fromSqlite.before).toEqual({ encrypted: 32, text: 1, position: 1 });
    // The capture's documented contents (fixtures/real/SOURCES.md), and equal to decoding the bytes directly.
    expect(fromSqlite.after).toEqual({
      position: 10,
      telemetry: 3,
      text: 4,
      traceroute: 3,
      nodeinfo: 2,
      routing: 1,
      encrypted: 11,
    });
    expect(fromSqlite.after).toEqual(direct());
    expect(fromSqlite).toMatchObject({ scanned: 34, changed: 21, noRaw: 2, undecodable: 0 });

    const args = [
      'rederive',
      '--sqlite',
      path,
      '--since',
      new Date(RANGE.since).toISOString(),
      '--until',
      new Date(RANGE.until).toISOString(),
    ];
    const run = await mmm([...args, '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ dry_run: true, ...fromSqlite });
    // Nothing was written: the store still says encrypted.
    expect(await planOf({ kind: 'sqlite', path })).toEqual(fromSqlite);
  });

  it('gives the same counts from ClickHouse', { timeout: 180_000 }, async () => {
    ch = await startClickHouse();
    const admin = createClient({ url: ch.url });
    await admin.command({ query: 'CREATE DATABASE IF NOT EXISTS mmm' });
    await admin.close();
    const db = createClient({ url: ch.url, database: 'mmm' });
    for (const s of ddlStatements('clickhouse')) await db.command({ query: s });
    await db.insert({ table: 'receptions', values: storedRows(), format: 'JSONEachRow' });
    await db.close();
    expect(await planOf({ kind: 'clickhouse', url: ch.url, database: 'mmm' })).toEqual(fromSqlite);
  });
});
