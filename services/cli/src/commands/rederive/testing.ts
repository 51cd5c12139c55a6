import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { type ChannelKey, ChannelKeyring, decodeMeshPacketBytes } from '@mmm/agent/decode';
import type { HistoryStore, RederiveInput, Rederiver, StoredReception } from '@mmm/ingest';
import { type Reception, subjects } from '@mmm/schemas';
import { fixturePath } from '@mmm/testkit';
import type Database from 'better-sqlite3';

// Helpers of the rederive tests: real captured packets stored as an agent without keys stores them, the mmm command
// as a child process, and what a store holds, table by table.

export const REPO = resolve(fileURLToPath(new URL('../../../../../', import.meta.url)));
export const T0 = Date.parse('2026-03-01T12:00:00Z');
export const RANGE = { since: T0, until: T0 + 86_400_000 };

/** The 32 real MeshPackets of the UDP capture (all arrived encrypted; 21 open with the default key). */
export const captures = readFileSync(fixturePath('potato-mesh_mesh_udp_capture.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => (JSON.parse(l) as { raw_b64: string }).raw_b64);

/** An agent that knows no key at all, not even the default one: it stores every packet as `encrypted`. */
class NoKeys extends ChannelKeyring {
  override candidates(): readonly ChannelKey[] {
    return [];
  }
}

/**
 * Every capture heard by `agents` agents (gw-0 first, the others 100 ms apart each), the packets 4 min apart so
 * they span several hours; decoded with the default key (`withKey`) or by an agent without keys.
 */
export function captureEvents(agents: number, withKey: boolean): Reception[] {
  const keys = withKey ? new ChannelKeyring() : new NoKeys();
  const out: Reception[] = [];
  captures.forEach((raw, i) => {
    for (let a = 0; a < agents; a++) {
      const r = decodeMeshPacketBytes(Buffer.from(raw, 'base64'), {
        site: 'berlin',
        agent: `gw-${a}`,
        receivedAt: T0 + i * 240_000 + a * 100,
        source: 'replay',
        keys,
      });
      if (!r.ok) throw new Error(r.error);
      out.push(r.value);
    }
  });
  return out;
}

/**
 * The store's receptions as `mmm rederive` would feed them, decoded with the default key or, without it, as an agent
 * without keys decodes them: what a run of an older decoder (or without the key) would write back.
 */
export async function inputsOf(store: Rederiver, withKey: boolean): Promise<RederiveInput[]> {
  const rows: StoredReception[] = [];
  for (;;) {
    const last = rows[rows.length - 1];
    const page = await store.page(RANGE, last && { received_at: Number(last.received_at), msg_id: last.msg_id }, 500);
    if (page.length === 0) break;
    rows.push(...page);
  }
  const keys = withKey ? new ChannelKeyring() : new NoKeys();
  return rows.map((stored) => {
    const r = decodeMeshPacketBytes(Buffer.from(stored.raw, 'base64'), {
      site: stored.site,
      agent: stored.agent,
      receivedAt: Number(stored.received_at),
      source: 'replay',
      keys,
    });
    if (!r.ok) throw new Error(r.error);
    return { stored, fresh: r.value };
  });
}

/** Stores events as ingest does, in batches of `batch`. */
export async function ingest(store: HistoryStore, events: readonly Reception[], batch = 50): Promise<void> {
  const items = events.map((event, i) => ({
    seq: i + 1,
    subject: subjects.rx(event.site, event.agent, event.port),
    event,
    redelivered: false,
  }));
  for (let i = 0; i < items.length; i += batch) await store.write(items.slice(i, i + batch), T0 + 86_400_000, false);
}

export const rangeArgs = () => [
  '--since',
  new Date(RANGE.since).toISOString(),
  '--until',
  new Date(RANGE.until).toISOString(),
];

const MMM = ['--conditions=development', '--import', 'tsx', 'services/cli/src/main.ts'];

export function mmm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [...MMM, ...args],
      { cwd: REPO, env: { ...process.env, MMM_FROM_SOURCE: '1' }, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * Starts `mmm rederive` and kill -9s it `delayMs` after its state file shows `more` receptions done beyond what it
 * showed before, so the kill lands in the middle of the run; resolves with the state as the killed process left it.
 */
export async function killMidway(
  args: string[],
  statePath: string,
  more: number,
  delayMs: number,
): Promise<{ finished: boolean; scanned: number }> {
  const child = spawn(process.execPath, [...MMM, ...args], {
    cwd: REPO,
    env: { ...process.env, MMM_FROM_SOURCE: '1' },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const read = () =>
    existsSync(statePath)
      ? (JSON.parse(readFileSync(statePath, 'utf8')) as { finished: boolean; counts: { scanned: number } })
      : undefined;
  const start = read()?.counts.scanned ?? 0;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const s = read();
    if (s && s.counts.scanned >= start + more) break;
    if (child.exitCode !== null || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  await exited;
  const s = read();
  return { finished: s?.finished ?? false, scanned: s?.counts.scanned ?? 0 };
}

/** A store's tables as the tests compare them: no ingest times, stream sequences or re-derive bookkeeping. */
export const QUERIES = {
  receptions:
    'SELECT msg_id, port, portnum, channel_name, encryption, request_id, reply_id, payload, is_first FROM receptions ORDER BY msg_id',
  positions:
    'SELECT from_node, packet_id, received_at, site, agent, latitude_i, longitude_i, altitude, time FROM positions ORDER BY from_node, packet_id',
  text_messages:
    'SELECT from_node, packet_id, to_node, channel_name, site, agent, text FROM text_messages ORDER BY from_node, packet_id',
  telemetry:
    'SELECT from_node, packet_id, variant, field, value FROM telemetry ORDER BY from_node, packet_id, variant, field',
  traceroutes:
    'SELECT from_node, to_node, request_id, packet_id, route_towards, route_back, snr_towards FROM traceroutes ORDER BY from_node, to_node, packet_id',
  traceroute_hops:
    'SELECT from_node, to_node, packet_id, direction, hop, hop_from, hop_to FROM traceroute_hops ORDER BY from_node, to_node, packet_id, direction, hop',
  neighbor_edges:
    'SELECT from_node, packet_id, neighbor, snr FROM neighbor_edges ORDER BY from_node, packet_id, neighbor',
  node_info: 'SELECT node, changed_at, long_name, short_name, hw_model, role FROM node_info ORDER BY node, changed_at',
  packets_hourly:
    'SELECT hour, from_node, port, site, agent, sum(receptions) AS r, sum(packets) AS p FROM packets_hourly GROUP BY hour, from_node, port, site, agent ORDER BY hour, from_node, port, site, agent',
};

const SQLITE_ONLY = {
  packets:
    'SELECT from_node, packet_id, port, portnum, first_heard, receptions, agents FROM packets ORDER BY from_node, packet_id',
  telemetry_hourly:
    'SELECT hour, from_node, field, samples, value_sum, value_min, value_max FROM telemetry_hourly ORDER BY hour, from_node, field',
};

const CLICKHOUSE_ONLY = {
  packets: `SELECT from_node, packet_id, argMinMerge(port) AS port, argMinMerge(portnum) AS portnum, minMerge(first_heard) AS first_heard,
              sumMerge(receptions) AS receptions, uniqExactMerge(agents) AS agents
            FROM packets GROUP BY from_node, packet_id ORDER BY from_node, packet_id`,
  telemetry_hourly: `SELECT hour, from_node, field, sumMerge(samples) AS samples, sumMerge(value_sum) AS value_sum,
              minMerge(value_min) AS value_min, maxMerge(value_max) AS value_max
            FROM telemetry_hourly GROUP BY hour, from_node, field ORDER BY hour, from_node, field`,
};

export function sqliteSnapshot(db: Database.Database): Record<string, unknown[]> {
  return Object.fromEntries(Object.entries({ ...QUERIES, ...SQLITE_ONLY }).map(([t, q]) => [t, db.prepare(q).all()]));
}

export async function clickhouseSnapshot(ch: ClickHouseClient): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [t, q] of Object.entries({ ...QUERIES, ...CLICKHOUSE_ONLY })) {
    const rs = await ch.query({
      query: q,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    out[t] = await rs.json();
  }
  return out;
}

/** Receptions by port. */
export function portCounts(snapshot: Record<string, unknown[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of snapshot.receptions as { port: string }[]) out[r.port] = (out[r.port] ?? 0) + 1;
  return out;
}
