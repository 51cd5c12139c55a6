import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { ddlStatements } from '@mmm/schemas/ddl';
import { sqlIdentifier } from '../clickhouse/literal.js';
import { storedKeysSql } from '../clickhouse/queries.js';
import { type NodeIdentity, nodeInfoChange } from '../plan/node-info.js';
import { DERIVED_TABLES, KEYS, keyOf, type Row, type TableName } from '../plan/tables.js';
import type { ScanRange, StoredReception } from '../scan.js';
import {
  countSql,
  deleteHourlySql,
  deletePacketsSql,
  identityBeforeSql,
  insertHourlySql,
  insertPacketsSql,
  pageSql,
  pendingMutationsSql,
  rewriteSql,
  versionsSql,
} from './clickhouse-sql.js';
import { planRederive, type RederiveChange, type RederiveInput } from './plan.js';
import { type RederiveCursor, RederiveError, type RederiveResult, type Rederiver, START } from './store.js';

export interface ClickHouseRederiveOptions {
  url: string;
  database: string;
  user?: string;
  password?: string;
  /** How long to wait for one mutation (ms). */
  mutationTimeoutMs?: number;
}

const HOUR_MS = 3_600_000;
/** A page looks this far ahead first, doubling while it finds nothing: each query stays within a few partitions. */
const FIRST_WINDOW_MS = HOUR_MS;
/** Literal text per mutation: well under 18.16's 256 KiB max_query_size. */
const MUTATION_BYTES = 100_000;
const KEYS_PER_QUERY = 2_000;
const MUTATION_POLL_MS = 200;
const DEFAULT_MUTATION_TIMEOUT_MS = 600_000;

/**
 * Re-derive in ClickHouse, which has no transactions: each batch is a sequence of idempotent steps, and the first
 * step records the batch's receptions in reception_versions at this run's version, so a run killed at any later step
 * finds them again (planRederive replans receptions at its own version) and repeats the steps.
 *
 * 1. reception_versions rows (the newest version wins on merge, read with max()).
 * 2. New per-packet rows whose keys are not stored (telemetry_hourly_mv counts each once).
 * 3. The receptions' decoded columns, by a mutation (no view fires, no second row).
 * 4. `packets` and `packets_hourly` of the touched packets and hours deleted and rebuilt from the receptions with
 *    the views' own select, so their ports follow the receptions and every count stays exact.
 */
export class ClickHouseRederiver implements Rederiver {
  private readonly client: ClickHouseClient;
  private ready = false;

  constructor(private readonly o: ClickHouseRederiveOptions) {
    sqlIdentifier(o.database);
    if (o.url.includes(','))
      throw new RederiveError(`one ClickHouse URL, not a list (${o.url}): the replicated layout is not supported`);
    this.client = createClient({
      url: o.url,
      database: o.database,
      username: o.user ?? 'default',
      password: o.password ?? '',
      log: { level: ClickHouseLogLevel.OFF },
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
  }

  private async init(): Promise<void> {
    if (this.ready) return;
    // A store created before mmm rederive existed gets reception_versions here (every statement is IF NOT EXISTS).
    for (const query of ddlStatements('clickhouse')) {
      if (/reception_versions/.test(query)) await this.client.command({ query });
    }
    this.ready = true;
  }

  private async select<T>(query: string): Promise<T[]> {
    const rs = await this.client.query({ query, format: 'JSONEachRow' });
    return (await rs.json()) as T[];
  }

  private fail(what: string, cause: unknown): RederiveError {
    if (cause instanceof RederiveError) return cause;
    return new RederiveError(
      `${what} ClickHouse ${this.o.url} (${this.o.database}) failed: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }

  async count(range: ScanRange): Promise<number> {
    try {
      const [row] = await this.select<{ n: number }>(countSql(range.since, range.until));
      return Number(row?.n ?? 0);
    } catch (cause) {
      throw this.fail('reading', cause);
    }
  }

  async page(range: ScanRange, after: RederiveCursor | undefined, limit: number): Promise<StoredReception[]> {
    const c = after ?? START;
    try {
      let start = Math.max(range.since, c.received_at);
      let window = FIRST_WINDOW_MS;
      while (start < range.until) {
        const end = Math.min(range.until, start + window);
        const rows = await this.select<StoredReception>(pageSql(range.since, end, c, limit));
        if (rows.length > 0) return rows;
        start = end;
        window *= 2;
      }
      return [];
    } catch (cause) {
      throw this.fail('reading', cause);
    }
  }

  async apply(inputs: readonly RederiveInput[], version: number, now: number): Promise<RederiveResult> {
    try {
      await this.init();
      const versions = new Map<string, number>();
      const ids = inputs.map((i) => i.stored.msg_id);
      for (let i = 0; i < ids.length; i += KEYS_PER_QUERY) {
        for (const r of await this.select<{ msg_id: string; v: number }>(versionsSql(ids.slice(i, i + KEYS_PER_QUERY))))
          versions.set(r.msg_id, Number(r.v));
      }
      const plan = planRederive(inputs, versions, version, now);
      const { changes } = plan;
      if (changes.length > 0) {
        await this.insert(
          'reception_versions',
          changes.map((c) => ({
            msg_id: c.stored.msg_id,
            received_at: c.stored.received_at,
            decoder_version: version,
            rederived_at: now,
          })),
        );
        await this.insertDerived(changes, now);
        for (const chunk of bySize(changes)) await this.mutate('receptions', rewriteSql(chunk));
        await this.rebuildAggregates(changes);
      }
      return { rewritten: changes.length, unchanged: plan.unchanged, newer: plan.newer };
    } catch (cause) {
      throw this.fail('writing', cause);
    }
  }

  private async insert(table: string, values: Row[]): Promise<void> {
    if (values.length > 0) await this.client.insert({ table, values, format: 'JSONEachRow' });
  }

  private async insertDerived(changes: readonly RederiveChange[], now: number): Promise<void> {
    const rows: Partial<Record<TableName, Row[]>> = {};
    const add = (t: TableName, list: Row[]) => {
      rows[t] = [...(rows[t] ?? []), ...list];
    };
    for (const c of changes) {
      for (const [t, list] of Object.entries(c.derived) as [TableName, Row[]][]) add(t, list);
      if (c.identity) {
        const [before] = await this.select<NodeIdentity>(identityBeforeSql(c.identity.node, c.identity.at));
        const latest = new Map<number, NodeIdentity>(before ? [[c.identity.node, before]] : []);
        const row = nodeInfoChange(latest, c.identity, now);
        if (row) add('node_info', [row]);
      }
    }
    for (const table of DERIVED_TABLES) {
      const list = rows[table];
      if (list?.length) await this.insert(table, await this.withoutStored(table, list));
    }
  }

  /** Rows whose key is not stored yet: a repeated batch adds nothing, so the views count each row once. */
  private async withoutStored(table: TableName, rows: Row[]): Promise<Row[]> {
    const values = [...new Set(rows.map((r) => r[KEYS[table].filter] as number))];
    const stored = new Set<string>();
    for (let i = 0; i < values.length; i += KEYS_PER_QUERY) {
      for (const r of await this.select<Row>(storedKeysSql(table, values.slice(i, i + KEYS_PER_QUERY))))
        stored.add(keyOf(table, r));
    }
    const seen = new Set<string>();
    return rows.filter((r) => {
      const k = keyOf(table, r);
      if (stored.has(k) || seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }

  private async rebuildAggregates(changes: readonly RederiveChange[]): Promise<void> {
    const packets = new Map<string, [number, number]>();
    const hours = new Map<string, [number, number]>();
    for (const { stored: r } of changes) {
      packets.set(`${r.from_node}:${r.packet_id}`, [r.from_node, r.packet_id]);
      const h = Math.floor(r.received_at / HOUR_MS) * HOUR_MS;
      hours.set(`${h}:${r.from_node}`, [h, r.from_node]);
    }
    const p = [...packets.values()];
    for (let i = 0; i < p.length; i += KEYS_PER_QUERY) {
      const chunk = p.slice(i, i + KEYS_PER_QUERY);
      await this.mutate('packets', deletePacketsSql(chunk));
      await this.client.command({ query: insertPacketsSql(chunk) });
    }
    const h = [...hours.values()];
    for (let i = 0; i < h.length; i += KEYS_PER_QUERY) {
      const chunk = h.slice(i, i + KEYS_PER_QUERY);
      await this.mutate('packets_hourly', deleteHourlySql(chunk));
      await this.client.command({ query: insertHourlySql(chunk) });
    }
  }

  /** Runs a mutation and waits until the table has none pending (18.16 has no mutations_sync). */
  private async mutate(table: string, query: string): Promise<void> {
    await this.client.command({ query });
    const deadline = Date.now() + (this.o.mutationTimeoutMs ?? DEFAULT_MUTATION_TIMEOUT_MS);
    for (;;) {
      const [row] = await this.select<{ n: number }>(pendingMutationsSql(this.o.database, table));
      if (Number(row?.n ?? 0) === 0) return;
      if (Date.now() > deadline)
        throw new RederiveError(
          `a mutation of ${table} is still pending after ${this.o.mutationTimeoutMs ?? DEFAULT_MUTATION_TIMEOUT_MS} ms (see system.mutations)`,
        );
      await new Promise((r) => setTimeout(r, MUTATION_POLL_MS));
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Changes in groups whose literal text stays under MUTATION_BYTES. */
function* bySize(changes: readonly RederiveChange[]): Generator<RederiveChange[]> {
  let chunk: RederiveChange[] = [];
  let bytes = 0;
  for (const c of changes) {
    const size = String(c.decoded.payload).length + c.stored.msg_id.length * 8 + 64;
    if (chunk.length > 0 && bytes + size > MUTATION_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(c);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
