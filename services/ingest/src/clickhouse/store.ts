import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { ddlStatements } from '../ddl.js';
import type { NodeIdentity } from '../plan/node-info.js';
import { type Item, lookupKeys, packetKey, planBatch } from '../plan/planner.js';
import { DERIVED_TABLES, KEYS, keyOf, RAW_TABLES, ROLLUP_TABLES, type Row, type TableName } from '../plan/tables.js';
import { DAY_MS, type HistoryStore, type RetentionPolicy, StoreError, type WriteResult } from '../store.js';
import { sqlIdentifier } from './literal.js';
import {
  createDatabaseSql,
  dropPartitionSql,
  latestIdentitiesSql,
  partitionsSql,
  storedKeysSql,
  storedReceptionsSql,
} from './queries.js';

export interface ClickHouseOptions {
  url: string;
  database: string;
  user?: string;
  password?: string;
}

/** Keys per lookup query: keeps every query well below 18.16's 256 KiB max_query_size. */
const LOOKUP_CHUNK = 2_000;

const SETTINGS = { output_format_json_quote_64bit_integers: 0 } as const;

/**
 * ClickHouse history. Without transactions, a batch is made idempotent by looking up what is stored before inserting:
 * receptions by msg_id (and is_first by packet), every other table by its key when the batch is suspect. Receptions
 * go in last, so a stored reception means its batch completed; the materialized views see each row once.
 */
export class ClickHouseStore implements HistoryStore {
  readonly kind = 'clickhouse' as const;
  private readonly client: ClickHouseClient;
  /** Latest identity per node; cleared on any failure so the next attempt reloads it from the store. */
  private identities = new Map<number, NodeIdentity | null>();

  constructor(private readonly opts: ClickHouseOptions) {
    sqlIdentifier(opts.database);
    this.client = createClient({
      url: opts.url,
      database: opts.database,
      username: opts.user ?? 'default',
      password: opts.password ?? '',
      request_timeout: 60_000,
      clickhouse_settings: SETTINGS,
      // Failures surface as StoreError and are logged by ingest with context; the client's own log would repeat them.
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  async init(): Promise<void> {
    const admin = createClient({
      url: this.opts.url,
      username: this.opts.user ?? 'default',
      password: this.opts.password ?? '',
    });
    try {
      await admin.command({ query: createDatabaseSql(this.opts.database) });
    } catch (cause) {
      throw new StoreError(`cannot create ClickHouse database ${this.opts.database}: ${(cause as Error).message}`, {
        cause,
      });
    } finally {
      await admin.close();
    }
    for (const query of ddlStatements('clickhouse')) {
      try {
        await this.client.command({ query });
      } catch (cause) {
        throw new StoreError(`ClickHouse DDL failed: ${(cause as Error).message}\n${query.slice(0, 200)}`, { cause });
      }
    }
  }

  private async select<T>(query: string): Promise<T[]> {
    const rs = await this.client.query({ query, format: 'JSONEachRow' });
    return (await rs.json()) as T[];
  }

  async write(items: readonly Item[], now: number, suspect: boolean): Promise<WriteResult> {
    try {
      return await this.writeBatch(items, now, suspect);
    } catch (cause) {
      this.identities.clear();
      throw new StoreError(`ClickHouse write failed: ${(cause as Error).message}`, { cause });
    }
  }

  private async writeBatch(items: readonly Item[], now: number, suspect: boolean): Promise<WriteResult> {
    const keys = lookupKeys(items);
    const { msgIds, packets } = await this.storedReceptions(keys.receptions);
    const nodeInfo = await this.latestIdentities(keys.nodes);
    const plan = planBatch(items, { msgIds, packets, nodeInfo }, now);
    const counts: Record<string, number> = {};
    for (const table of DERIVED_TABLES) {
      let rows = plan.rows[table];
      if (suspect && rows.length > 0) rows = await this.withoutStored(table, rows);
      await this.insert(table, rows);
      counts[table] = rows.length;
    }
    await this.insert('receptions', plan.rows.receptions);
    counts.receptions = plan.rows.receptions.length;
    for (const [node, id] of plan.nodeInfo) this.identities.set(node, id);
    return { rows: counts, duplicates: plan.duplicates };
  }

  private async insert(table: TableName, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({ table, values: rows, format: 'JSONEachRow' });
  }

  private async storedReceptions(recs: readonly { from: number; id: number; msgId: string }[]) {
    const msgIds = new Set<string>();
    const packets = new Set<string>();
    const wantedMsg = new Set(recs.map((r) => r.msgId));
    const byPacket = new Map(recs.map((r) => [packetKey(r.from, r.id), r]));
    const pairs = [...byPacket.values()];
    for (let i = 0; i < pairs.length; i += LOOKUP_CHUNK) {
      const chunk = pairs.slice(i, i + LOOKUP_CHUNK);
      const froms = [...new Set(chunk.map((r) => r.from))];
      const ids = [...new Set(chunk.map((r) => r.id))];
      const rows = await this.select<{ msg_id: string; from_node: number; packet_id: number }>(
        storedReceptionsSql(froms, ids),
      );
      for (const r of rows) {
        const pk = packetKey(r.from_node, r.packet_id);
        if (!byPacket.has(pk)) continue;
        packets.add(pk);
        if (wantedMsg.has(r.msg_id)) msgIds.add(r.msg_id);
      }
    }
    return { msgIds, packets };
  }

  private async latestIdentities(nodes: readonly number[]): Promise<Map<number, NodeIdentity>> {
    const missing = nodes.filter((n) => !this.identities.has(n));
    for (let i = 0; i < missing.length; i += LOOKUP_CHUNK) {
      const chunk = missing.slice(i, i + LOOKUP_CHUNK);
      const rows = await this.select<Omit<NodeIdentity, 'changed_at'> & { node: number; latest: number }>(
        latestIdentitiesSql(chunk),
      );
      for (const n of chunk) this.identities.set(n, null);
      for (const { node, latest, ...id } of rows) this.identities.set(node, { ...id, changed_at: latest });
    }
    const out = new Map<number, NodeIdentity>();
    for (const n of nodes) {
      const id = this.identities.get(n);
      if (id) out.set(n, id);
    }
    return out;
  }

  /** Rows whose key is not stored yet (a retry or redelivery may have stored some). */
  private async withoutStored(table: TableName, rows: Row[]): Promise<Row[]> {
    const { filter } = KEYS[table];
    const values = [...new Set(rows.map((r) => r[filter] as number))];
    const stored = new Set<string>();
    for (let i = 0; i < values.length; i += LOOKUP_CHUNK) {
      const found = await this.select<Row>(storedKeysSql(table, values.slice(i, i + LOOKUP_CHUNK)));
      for (const r of found) stored.add(keyOf(table, r));
    }
    return rows.filter((r) => !stored.has(keyOf(table, r)));
  }

  /** Drops whole day (raw) and month (rollup) partitions older than the cutoff: ClickHouse 18.16 has no TTL. */
  async retention(now: number, policy: RetentionPolicy): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const rawCutoff = yyyymmdd(now - policy.rawDays * DAY_MS);
    const rollupCutoff = Math.floor(yyyymmdd(now - policy.rollupDays * DAY_MS) / 100);
    for (const table of [...RAW_TABLES, ...ROLLUP_TABLES]) {
      const cutoff = (ROLLUP_TABLES as readonly string[]).includes(table) ? rollupCutoff : rawCutoff;
      const parts = await this.select<{ partition: string }>(partitionsSql(this.opts.database, table));
      let dropped = 0;
      for (const { partition } of parts) {
        const p = Number(partition);
        if (!Number.isInteger(p) || p >= cutoff) continue;
        await this.client.command({ query: dropPartitionSql(table, p) });
        dropped++;
      }
      out[table] = dropped;
    }
    return out;
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.client.ping()).success;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** For tests and tools: a query on the store's database. */
  query<T>(query: string): Promise<T[]> {
    return this.select<T>(query);
  }
}

function yyyymmdd(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}
