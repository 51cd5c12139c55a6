import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { ConfigError } from '@mmm/common';
import { ddlStatements } from '@mmm/schemas/ddl';
import type { NodeIdentity } from '../plan/node-info.js';
import { type Item, lookupKeys, packetKey, planBatch } from '../plan/planner.js';
import { DERIVED_TABLES, KEYS, keyOf, RAW_TABLES, ROLLUP_TABLES, type Row, type TableName } from '../plan/tables.js';
import {
  assertHeld,
  DAY_MS,
  type HistoryStore,
  HoldExpiredError,
  type RetentionPolicy,
  StoreError,
  type WriteResult,
} from '../store.js';
import { sqlIdentifier } from './literal.js';
import {
  createDatabaseSql,
  dropPartitionSql,
  latestIdentitiesSql,
  partitionsSql,
  storedKeysSql,
  storedReceptionsSql,
} from './queries.js';
import { type FailoverEvent, type Layout, type Replica, ReplicaSet, splitUrls } from './replicas.js';
import { withDatabase } from './replicated-ddl.js';

export interface ClickHouseOptions {
  /** One HTTP URL; with the replicated layout a comma-separated list of replicas, tried in order. */
  url: string;
  database: string;
  user?: string;
  password?: string;
  /** Which DDL creates the tables: schemas/ddl/clickhouse (default) or schemas/ddl/clickhouse-replicated. */
  layout?: Layout;
  /** Writes moved to another replica (for the log). */
  onFailover?: (e: FailoverEvent) => void;
  /** The tables could not be created on a replica; retried (for the log). */
  onTablesFailed?: (url: string, error: string) => void;
}

/** Keys per lookup query: keeps every query well below 18.16's 256 KiB max_query_size. */
const LOOKUP_CHUNK = 2_000;
/** How often a replica without tables is offered the DDL again (checked when a batch is written). */
const TABLES_RETRY_MS = 10_000;

/**
 * ClickHouse history. Without transactions, a batch is made idempotent by looking up what is stored before inserting:
 * receptions by msg_id (and is_first by packet), every other table by its key when the batch is suspect. Receptions
 * go in last, so a stored reception means its batch completed; the materialized views see each row once.
 *
 * With replicas, a batch that fails on one is written whole to the next with the same rows, so a block the failed
 * replica committed before dying reaches the other as the same block and ReplicatedMergeTree drops it as a repeat.
 */
export class ClickHouseStore implements HistoryStore {
  readonly kind = 'clickhouse' as const;
  readonly layout: Layout;
  private readonly replicas: ReplicaSet;
  /** Latest identity per node; cleared on any failure so the next attempt reloads it from the store. */
  private identities = new Map<number, NodeIdentity | null>();
  /**
   * The time stamped on a batch's rows (ingested_at), fixed at its first attempt: a retry that produced different
   * bytes would defeat the replicated insert dedup, which compares whole blocks.
   */
  private readonly batchTimes = new WeakMap<readonly Item[], number>();
  private tablesRetriedAt = Date.now();

  constructor(private readonly opts: ClickHouseOptions) {
    sqlIdentifier(opts.database);
    this.layout = opts.layout ?? 'single';
    const urls = splitUrls(opts.url);
    if (urls.length === 0) throw new ConfigError('no ClickHouse URL', { section: 'clickhouse', key: 'url' });
    if (urls.length > 1 && this.layout !== 'replicated') {
      throw new ConfigError(
        'several URLs need layout = replicated: separate single servers would each hold part of the history',
        { section: 'clickhouse', key: 'url' },
      );
    }
    this.replicas = new ReplicaSet(
      urls,
      { database: opts.database, user: opts.user ?? 'default', password: opts.password ?? '' },
      opts.onFailover,
    );
  }

  /** The replica writes go to now. */
  get currentUrl(): string {
    return this.replicas.current.url;
  }

  /**
   * Creates the database and tables on every replica that answers; at least one must. A replica that is down now
   * gets them before ingest first writes to it.
   */
  async init(): Promise<void> {
    const errors: string[] = [];
    let first: Replica | undefined;
    for (const replica of this.replicas.replicas) {
      try {
        await this.ensureTables(replica);
        first ??= replica;
      } catch (err) {
        errors.push((err as Error).message);
        if (this.replicas.size > 1) this.opts.onTablesFailed?.(replica.url, (err as Error).message);
      }
    }
    if (!first) throw new StoreError(errors.join('; '));
    this.replicas.use(first);
  }

  private ensureTables(replica: Replica): Promise<void> {
    if (replica.tablesReady) return Promise.resolve();
    replica.creating ??= this.createTables(replica).finally(() => {
      replica.creating = undefined;
    });
    return replica.creating;
  }

  /**
   * A replica that missed the DDL (down or failing at start) gets it in the background: without its tables it does
   * not replicate at all, and should it only get them when ingest fails over to it, the other replica, the one it
   * would copy from, is the one that just failed.
   */
  private retryMissingTables(now: number): void {
    if (now - this.tablesRetriedAt < TABLES_RETRY_MS) return;
    this.tablesRetriedAt = now;
    for (const r of this.replicas.replicas) {
      if (!r.tablesReady) this.ensureTables(r).catch((err) => this.opts.onTablesFailed?.(r.url, err.message));
    }
  }

  private async createTables(replica: Replica): Promise<void> {
    const admin = createAdminClient(replica.url, this.opts);
    try {
      await admin.command({ query: createDatabaseSql(this.opts.database) });
    } catch (cause) {
      throw new StoreError(
        `cannot create ClickHouse database ${this.opts.database} at ${replica.url}: ${(cause as Error).message}`,
        { cause },
      );
    } finally {
      await admin.close();
    }
    const replicated = this.layout === 'replicated';
    for (const stmt of ddlStatements(replicated ? 'clickhouse-replicated' : 'clickhouse')) {
      const query = replicated ? withDatabase(stmt, this.opts.database) : stmt;
      try {
        await replica.client.command({ query });
      } catch (cause) {
        const why = `ClickHouse DDL failed at ${replica.url}: ${(cause as Error).message}`;
        throw new StoreError(`${why}\n${query.slice(0, 200)}`, { cause });
      }
    }
    replica.tablesReady = true;
  }

  private async select<T>(client: ClickHouseClient, query: string): Promise<T[]> {
    const rs = await client.query({ query, format: 'JSONEachRow' });
    return (await rs.json()) as T[];
  }

  async write(items: readonly Item[], now: number, suspect: boolean, commitBy?: number): Promise<WriteResult> {
    this.retryMissingTables(Date.now());
    const at = this.batchTimes.get(items) ?? now;
    this.batchTimes.set(items, at);
    const errors: string[] = [];
    let lastCause: unknown;
    for (let attempt = 0; attempt < this.replicas.size; attempt++) {
      const replica = this.replicas.current;
      try {
        await this.ensureTables(replica);
        // After a failed attempt part of the batch may be stored (here, or on the replica that failed).
        return await this.writeBatch(replica.client, items, at, suspect || attempt > 0, commitBy);
      } catch (cause) {
        if (cause instanceof HoldExpiredError) throw cause;
        this.identities.clear();
        lastCause = cause;
        errors.push(this.replicas.size > 1 ? `${replica.url}: ${(cause as Error).message}` : (cause as Error).message);
        this.replicas.failover(cause);
      }
    }
    throw new StoreError(`ClickHouse write failed: ${errors.join('; ')}`, { cause: lastCause });
  }

  private async writeBatch(
    client: ClickHouseClient,
    items: readonly Item[],
    now: number,
    suspect: boolean,
    commitBy: number | undefined,
  ): Promise<WriteResult> {
    assertHeld(commitBy, 'anything');
    const keys = lookupKeys(items);
    const { msgIds, packets } = await this.storedReceptions(client, keys.receptions);
    const nodeInfo = await this.latestIdentities(client, keys.nodes);
    const plan = planBatch(items, { msgIds, packets, nodeInfo }, now);
    const counts: Record<string, number> = {};
    for (const table of DERIVED_TABLES) {
      let rows = plan.rows[table];
      if (suspect && rows.length > 0) rows = await this.withoutStored(client, table, rows);
      await this.insert(client, table, rows);
      counts[table] = rows.length;
    }
    // Receptions last: a stored reception means its batch completed, and the deadline is checked once more right
    // before them, after the lookups and derived inserts that take the time.
    assertHeld(commitBy, 'the receptions');
    await this.insert(client, 'receptions', plan.rows.receptions);
    counts.receptions = plan.rows.receptions.length;
    for (const [node, id] of plan.nodeInfo) this.identities.set(node, id);
    return { rows: counts, duplicates: plan.duplicates };
  }

  private async insert(client: ClickHouseClient, table: TableName, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    await client.insert({ table, values: rows, format: 'JSONEachRow' });
  }

  private async storedReceptions(
    client: ClickHouseClient,
    recs: readonly { from: number; id: number; msgId: string }[],
  ) {
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
        client,
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

  private async latestIdentities(
    client: ClickHouseClient,
    nodes: readonly number[],
  ): Promise<Map<number, NodeIdentity>> {
    const missing = nodes.filter((n) => !this.identities.has(n));
    for (let i = 0; i < missing.length; i += LOOKUP_CHUNK) {
      const chunk = missing.slice(i, i + LOOKUP_CHUNK);
      const rows = await this.select<Omit<NodeIdentity, 'changed_at'> & { node: number; latest: number }>(
        client,
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
  private async withoutStored(client: ClickHouseClient, table: TableName, rows: Row[]): Promise<Row[]> {
    const { filter } = KEYS[table];
    const values = [...new Set(rows.map((r) => r[filter] as number))];
    const stored = new Set<string>();
    for (let i = 0; i < values.length; i += LOOKUP_CHUNK) {
      const found = await this.select<Row>(client, storedKeysSql(table, values.slice(i, i + LOOKUP_CHUNK)));
      for (const r of found) stored.add(keyOf(table, r));
    }
    return rows.filter((r) => !stored.has(keyOf(table, r)));
  }

  /** Drops whole day (raw) and month (rollup) partitions older than the cutoff: ClickHouse 18.16 has no TTL. */
  async retention(now: number, policy: RetentionPolicy): Promise<Record<string, number>> {
    // On replicated tables DROP PARTITION goes through ZooKeeper: run on one replica, it removes the partition on all.
    const { client } = this.replicas.current;
    const out: Record<string, number> = {};
    const rawCutoff = yyyymmdd(now - policy.rawDays * DAY_MS);
    const rollupCutoff = Math.floor(yyyymmdd(now - policy.rollupDays * DAY_MS) / 100);
    for (const table of [...RAW_TABLES, ...ROLLUP_TABLES]) {
      const cutoff = (ROLLUP_TABLES as readonly string[]).includes(table) ? rollupCutoff : rawCutoff;
      const parts = await this.select<{ partition: string }>(client, partitionsSql(this.opts.database, table));
      let dropped = 0;
      for (const { partition } of parts) {
        const p = Number(partition);
        if (!Number.isInteger(p) || p >= cutoff) continue;
        await client.command({ query: dropPartitionSql(table, p) });
        dropped++;
      }
      out[table] = dropped;
    }
    return out;
  }

  /** True when some replica answers: writes fail over to it. */
  async ping(): Promise<boolean> {
    for (const { client } of this.replicas.replicas) {
      try {
        if ((await client.ping()).success) return true;
      } catch {
        // The next replica may answer.
      }
    }
    return false;
  }

  async close(): Promise<void> {
    await this.replicas.close();
  }

  /** For tests and tools: a query on the store's database, at the replica writes go to. */
  query<T>(query: string): Promise<T[]> {
    return this.select<T>(this.replicas.current.client, query);
  }
}

function yyyymmdd(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

/** A client without a database: the database may not exist yet. */
function createAdminClient(url: string, opts: ClickHouseOptions): ClickHouseClient {
  return createClient({
    url,
    username: opts.user ?? 'default',
    password: opts.password ?? '',
    log: { level: ClickHouseLogLevel.OFF },
  });
}
