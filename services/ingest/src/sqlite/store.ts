import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ddlStatements } from '@mmm/schemas/ddl';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { NodeIdentity } from '../plan/node-info.js';
import { type Item, lookupKeys, packetKey, planBatch } from '../plan/planner.js';
import {
  RAW_TABLES,
  ROLLUP_FIELDS,
  ROLLUP_TABLES,
  type Row,
  TABLES,
  type TableName,
  TIME_COLUMN,
} from '../plan/tables.js';
import { DAY_MS, type HistoryStore, type RetentionPolicy, StoreError, type WriteResult } from '../store.js';

const HOUR_MS = 3_600_000;

type Stmt = Database.Statement;

/**
 * SQLite history: one transaction per batch (WAL, synchronous=FULL so an acked batch survives a power cut), plain
 * INSERT OR IGNORE on the tables' primary keys, and the aggregates (packets, hourly rollups) kept in the same
 * transaction, so a redelivered batch is a no-op by construction.
 */
export class SqliteStore implements HistoryStore {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  /** For reads and maintenance; the batch path uses prepared statements on the same connection. */
  readonly kysely: Kysely<Record<string, Record<string, unknown>>>;
  private stmts: Record<string, Stmt> = {};

  constructor(
    readonly path: string,
    opts: { cacheMb?: number } = {},
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new Database(path);
    } catch (cause) {
      throw new StoreError(`cannot open SQLite database ${path}: ${(cause as Error).message}`, { cause });
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // A checkpoint (WAL pages copied into the database, then fsync) every 20k pages instead of SQLite's 1k: a 10k
    // batch dirties thousands of index pages, so the default checkpointed at almost every commit. Store-only, 400k
    // receptions in 10k batches, three interleaved runs: 26.2 s → 22.1 s; the WAL file peaks at ~120 MB.
    this.db.pragma('wal_autocheckpoint = 20000');
    // Negative: KiB. Ingest's inserts land on random pages of several indexes (msg_id, per-node keys); with SQLite's
    // 2 MB default most of them were a read from the OS (a 100k batch into a 100k-row store: 9.9 s → 7.5 s at 64 MB).
    this.db.pragma(`cache_size = ${-1024 * (opts.cacheMb ?? 64)}`);
    this.kysely = new Kysely({ dialect: new SqliteDialect({ database: this.db }) });
  }

  async init(): Promise<void> {
    for (const s of ddlStatements('sqlite')) this.db.exec(s);
    const insert = (table: TableName, verb = 'INSERT OR IGNORE') => {
      const cols = TABLES[table];
      return this.db.prepare(
        `${verb} INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`,
      );
    };
    for (const t of Object.keys(TABLES) as TableName[]) this.stmts[`insert_${t}`] = insert(t);
    const nodedbCols = TABLES.nodedb.filter((c) => !['site', 'agent', 'node'].includes(c));
    this.stmts.insert_nodedb = this.db.prepare(
      `INSERT INTO nodedb (${TABLES.nodedb.join(', ')}) VALUES (${TABLES.nodedb.map((c) => `@${c}`).join(', ')})
       ON CONFLICT (site, agent, node) DO UPDATE SET ${nodedbCols.map((c) => `${c} = excluded.${c}`).join(', ')}
       WHERE excluded.taken_at > nodedb.taken_at`,
    );
    this.stmts.hasMsg = this.db.prepare('SELECT 1 FROM receptions WHERE msg_id = ?').pluck();
    this.stmts.hasPacket = this.db.prepare('SELECT 1 FROM packets WHERE from_node = ? AND packet_id = ?').pluck();
    this.stmts.latestIdentity = this.db.prepare(
      'SELECT long_name, short_name, hw_model, role, changed_at FROM node_info WHERE node = ? ORDER BY changed_at DESC LIMIT 1',
    );
    this.stmts.packetUpsert = this.db.prepare(
      `INSERT INTO packets (from_node, packet_id, to_node, port, portnum, channel, first_heard, last_heard, receptions, agents, best_snr, best_rssi)
       VALUES (@from_node, @packet_id, @to_node, @port, @portnum, @channel, @received_at, @received_at, 1, 1, @rx_snr, @rx_rssi)
       ON CONFLICT (from_node, packet_id) DO UPDATE SET
         to_node = CASE WHEN excluded.first_heard < first_heard THEN excluded.to_node ELSE to_node END,
         port = CASE WHEN excluded.first_heard < first_heard THEN excluded.port ELSE port END,
         portnum = CASE WHEN excluded.first_heard < first_heard THEN excluded.portnum ELSE portnum END,
         channel = CASE WHEN excluded.first_heard < first_heard THEN excluded.channel ELSE channel END,
         first_heard = min(first_heard, excluded.first_heard),
         last_heard = max(last_heard, excluded.last_heard),
         receptions = receptions + 1,
         best_snr = max(best_snr, excluded.best_snr),
         best_rssi = max(best_rssi, excluded.best_rssi)`,
    );
    this.stmts.packetAgents = this.db.prepare(
      `UPDATE packets SET agents = (SELECT count(*) FROM (SELECT DISTINCT site, agent FROM receptions WHERE from_node = @f AND packet_id = @p))
       WHERE from_node = @f AND packet_id = @p`,
    );
    this.stmts.packetAgentsSet = this.db.prepare(
      'UPDATE packets SET agents = @n WHERE from_node = @f AND packet_id = @p',
    );
    this.stmts.packetsHourly = this.db.prepare(
      `INSERT INTO packets_hourly (hour, from_node, port, site, agent, receptions, packets) VALUES (@hour, @from_node, @port, @site, @agent, 1, @is_first)
       ON CONFLICT (hour, from_node, port, site, agent) DO UPDATE SET receptions = receptions + 1, packets = packets + excluded.packets`,
    );
    this.stmts.telemetryHourly = this.db.prepare(
      `INSERT INTO telemetry_hourly (hour, from_node, field, samples, value_sum, value_min, value_max) VALUES (@hour, @from_node, @field, 1, @value, @value, @value)
       ON CONFLICT (hour, from_node, field) DO UPDATE SET samples = samples + 1, value_sum = value_sum + excluded.value_sum,
         value_min = min(value_min, excluded.value_min), value_max = max(value_max, excluded.value_max)`,
    );
  }

  private stmt(name: string): Stmt {
    const s = this.stmts[name];
    if (!s) throw new StoreError('SQLite store used before init()');
    return s;
  }

  async write(items: readonly Item[], now: number): Promise<WriteResult> {
    try {
      return this.db.transaction(() => this.writeSync(items, now)).immediate();
    } catch (cause) {
      throw new StoreError(`SQLite write failed: ${(cause as Error).message}`, { cause });
    }
  }

  private writeSync(items: readonly Item[], now: number): WriteResult {
    const keys = lookupKeys(items);
    const msgIds = new Set<string>();
    const packets = new Set<string>();
    for (const r of keys.receptions) {
      if (this.stmt('hasMsg').get(r.msgId)) msgIds.add(r.msgId);
      if (this.stmt('hasPacket').get(r.from, r.id)) packets.add(packetKey(r.from, r.id));
    }
    const nodeInfo = new Map<number, NodeIdentity>();
    for (const node of keys.nodes) {
      const row = this.stmt('latestIdentity').get(node) as NodeIdentity | undefined;
      if (row) nodeInfo.set(node, row);
    }
    const plan = planBatch(items, { msgIds, packets, nodeInfo }, now);
    const counts: Record<string, number> = {};
    // Packets that got receptions in this batch, with the agents that heard them here.
    const touched = new Map<string, { f: number; p: number; agents: Set<string> }>();
    for (const [table, rows] of Object.entries(plan.rows) as [TableName, Row[]][]) {
      const insert = this.stmt(`insert_${table}`);
      let n = 0;
      for (const row of rows) {
        if (insert.run(row).changes === 0) continue;
        n++;
        if (table === 'receptions') {
          this.stmt('packetUpsert').run(row);
          // Only the columns it binds: a copy of the whole row per reception was a tenth of the write.
          this.stmt('packetsHourly').run({
            hour: hourOf(row.received_at as number),
            from_node: row.from_node,
            port: row.port,
            site: row.site,
            agent: row.agent,
            is_first: row.is_first,
          });
          const key = packetKey(row.from_node as number, row.packet_id as number);
          let t = touched.get(key);
          if (!t) {
            t = { f: row.from_node as number, p: row.packet_id as number, agents: new Set() };
            touched.set(key, t);
          }
          t.agents.add(`${row.site}\u0000${row.agent}`);
        } else if (
          table === 'telemetry' &&
          row.variant === 'deviceMetrics' &&
          (ROLLUP_FIELDS as readonly unknown[]).includes(row.field)
        ) {
          this.stmt('telemetryHourly').run({
            hour: hourOf(row.received_at as number),
            from_node: row.from_node,
            field: row.field,
            value: row.value,
          });
        }
      }
      counts[table] = n;
    }
    for (const [key, t] of touched) {
      // A packet first stored in this batch has all its receptions here: count its agents without reading them back
      // (the upsert started it at 1). Packets stored before are recounted from their receptions.
      if (!packets.has(key)) {
        if (t.agents.size > 1) this.stmt('packetAgentsSet').run({ f: t.f, p: t.p, n: t.agents.size });
      } else this.stmt('packetAgents').run({ f: t.f, p: t.p });
    }
    return { rows: counts, duplicates: plan.duplicates };
  }

  async retention(now: number, policy: RetentionPolicy): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const rawCutoff = now - policy.rawDays * DAY_MS;
    const rollupCutoff = now - policy.rollupDays * DAY_MS;
    for (const table of [...RAW_TABLES, ...ROLLUP_TABLES]) {
      const cutoff = (ROLLUP_TABLES as readonly string[]).includes(table) ? rollupCutoff : rawCutoff;
      const col = TIME_COLUMN[table]!;
      const res = await this.kysely.deleteFrom(table).where(col, '<', cutoff).executeTakeFirst();
      out[table] = Number(res.numDeletedRows);
    }
    await sql`PRAGMA wal_checkpoint(PASSIVE)`.execute(this.kysely);
    return out;
  }

  async ping(): Promise<boolean> {
    try {
      return this.db.prepare('SELECT 1').pluck().get() === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}
