import { ddlStatements } from '@mmm/schemas/ddl';
import Database from 'better-sqlite3';
import { type NodeIdentity, nodeInfoChange } from '../plan/node-info.js';
import { ROLLUP_FIELDS, type Row, TABLES, type TableName } from '../plan/tables.js';
import { type ScanRange, STORED_RECEPTION_COLS, type StoredReception } from '../scan.js';
import { DECODED_COLUMNS, planRederive, type RederiveChange, type RederiveInput } from './plan.js';
import { type RederiveCursor, RederiveError, type RederiveResult, type Rederiver, START } from './store.js';

const HOUR_MS = 3_600_000;
const hourOf = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

/**
 * Re-derive in ingest's SQLite: one transaction per batch, so a batch is applied whole or not at all. The guard is the
 * upsert on reception_versions: the reception is rewritten only when that upsert took effect (no run with a higher
 * version got there first). Beside a running ingest: WAL, and a write transaction waits for ingest's (busy_timeout).
 */
export class SqliteRederiver implements Rederiver {
  private readonly db: Database.Database;
  private readonly s: Record<string, Database.Statement>;

  constructor(readonly path: string) {
    try {
      this.db = new Database(path, { fileMustExist: true });
      this.db.pragma('busy_timeout = 30000');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      // An ingest store created before mmm rederive existed gets reception_versions here.
      for (const stmt of ddlStatements('sqlite')) this.db.exec(stmt);
    } catch (cause) {
      throw new RederiveError(`cannot open SQLite history ${path}: ${(cause as Error).message}`, { cause });
    }
    const set = DECODED_COLUMNS.map((c) => `${c} = @${c}`).join(', ');
    const insertIgnore = (t: TableName) =>
      this.db.prepare(
        `INSERT OR IGNORE INTO ${t} (${TABLES[t].join(', ')}) VALUES (${TABLES[t].map((c) => `@${c}`).join(', ')})`,
      );
    this.s = {
      page: this.db.prepare(
        `SELECT ${STORED_RECEPTION_COLS} FROM receptions
         WHERE received_at >= @since AND received_at < @until AND (received_at > @ra OR (received_at = @ra AND msg_id > @mid))
         ORDER BY received_at, msg_id LIMIT @limit`,
      ),
      count: this.db
        .prepare('SELECT count(*) FROM receptions WHERE received_at >= @since AND received_at < @until')
        .pluck(),
      version: this.db.prepare('SELECT decoder_version FROM reception_versions WHERE msg_id = ?').pluck(),
      upsertVersion: this.db.prepare(
        `INSERT INTO reception_versions (msg_id, received_at, decoder_version, rederived_at)
         VALUES (@msg_id, @received_at, @version, @now)
         ON CONFLICT (msg_id) DO UPDATE SET decoder_version = excluded.decoder_version, rederived_at = excluded.rederived_at
         WHERE excluded.decoder_version > reception_versions.decoder_version`,
      ),
      rewrite: this.db.prepare(`UPDATE receptions SET ${set} WHERE msg_id = @msg_id`),
      hourlyOut: this.db.prepare(
        `UPDATE packets_hourly SET receptions = receptions - 1, packets = packets - @is_first
         WHERE hour = @hour AND from_node = @from_node AND port = @port AND site = @site AND agent = @agent`,
      ),
      hourlyEmpty: this.db.prepare(
        `DELETE FROM packets_hourly WHERE hour = @hour AND from_node = @from_node AND port = @port AND site = @site AND agent = @agent AND receptions <= 0`,
      ),
      hourlyIn: this.db.prepare(
        `INSERT INTO packets_hourly (hour, from_node, port, site, agent, receptions, packets) VALUES (@hour, @from_node, @port, @site, @agent, 1, @is_first)
         ON CONFLICT (hour, from_node, port, site, agent) DO UPDATE SET receptions = receptions + 1, packets = packets + excluded.packets`,
      ),
      // The packet's port and addressing are its earliest reception's (as the ingest upsert keeps them).
      packet: this.db.prepare(
        `UPDATE packets SET (to_node, port, portnum, channel) = (
           SELECT to_node, port, portnum, channel FROM receptions WHERE from_node = @f AND packet_id = @p
           ORDER BY received_at, is_first DESC LIMIT 1)
         WHERE from_node = @f AND packet_id = @p`,
      ),
      telemetryHourly: this.db.prepare(
        `INSERT INTO telemetry_hourly (hour, from_node, field, samples, value_sum, value_min, value_max) VALUES (@hour, @from_node, @field, 1, @value, @value, @value)
         ON CONFLICT (hour, from_node, field) DO UPDATE SET samples = samples + 1, value_sum = value_sum + excluded.value_sum,
           value_min = min(value_min, excluded.value_min), value_max = max(value_max, excluded.value_max)`,
      ),
      identityBefore: this.db.prepare(
        'SELECT long_name, short_name, hw_model, role, changed_at FROM node_info WHERE node = ? AND changed_at <= ? ORDER BY changed_at DESC LIMIT 1',
      ),
    };
    for (const t of Object.keys(TABLES) as TableName[]) this.s[`insert_${t}`] = insertIgnore(t);
  }

  async count(range: ScanRange): Promise<number> {
    return this.s.count!.get(range) as number;
  }

  async page(range: ScanRange, after: RederiveCursor | undefined, limit: number): Promise<StoredReception[]> {
    const c = after ?? START;
    try {
      return this.s.page!.all({ ...range, ra: c.received_at, mid: c.msg_id, limit }) as StoredReception[];
    } catch (cause) {
      throw new RederiveError(`reading ${this.path} failed: ${(cause as Error).message}`, { cause });
    }
  }

  async apply(inputs: readonly RederiveInput[], version: number, now: number): Promise<RederiveResult> {
    try {
      return this.db
        .transaction(() => {
          const versions = new Map<string, number>();
          for (const { stored } of inputs) {
            const v = this.s.version!.get(stored.msg_id) as number | undefined;
            if (v !== undefined) versions.set(stored.msg_id, v);
          }
          const plan = planRederive(inputs, versions, version, now);
          let rewritten = 0;
          let newer = plan.newer;
          const packets = new Map<string, { f: number; p: number }>();
          for (const ch of plan.changes) {
            const r = ch.stored;
            const guard = this.s.upsertVersion!.run({ msg_id: r.msg_id, received_at: r.received_at, version, now });
            if (guard.changes === 0) {
              // At this very version: a batch this run committed just before a kill, before its state was saved.
              if (versions.get(r.msg_id) === version) rewritten++;
              else newer++;
              continue;
            }
            this.rewrite(ch, now);
            packets.set(`${r.from_node}:${r.packet_id}`, { f: r.from_node, p: r.packet_id });
            rewritten++;
          }
          for (const k of packets.values()) this.s.packet!.run(k);
          return { rewritten, unchanged: plan.unchanged, newer };
        })
        .immediate();
    } catch (cause) {
      throw new RederiveError(`writing ${this.path} failed: ${(cause as Error).message}`, { cause });
    }
  }

  /** One reception: its decoded columns, its hourly count moved to the new port, and the new per-packet rows. */
  private rewrite(ch: RederiveChange, now: number): void {
    const r = ch.stored;
    this.s.rewrite!.run(ch.decoded);
    const key = { hour: hourOf(r.received_at), from_node: r.from_node, site: r.site, agent: r.agent };
    this.s.hourlyOut!.run({ ...key, port: r.port, is_first: r.is_first });
    this.s.hourlyEmpty!.run({ ...key, port: r.port });
    this.s.hourlyIn!.run({ ...key, port: ch.decoded.port, is_first: r.is_first });
    for (const [table, rows] of Object.entries(ch.derived) as [TableName, Row[]][]) {
      for (const row of rows) {
        if (this.s[`insert_${table}`]!.run(row).changes === 0) continue;
        if (table === 'telemetry' && row.variant === 'deviceMetrics' && ROLLUP_FIELDS.includes(row.field as never))
          this.s.telemetryHourly!.run({
            hour: hourOf(row.received_at as number),
            from_node: row.from_node,
            field: row.field,
            value: row.value,
          });
      }
    }
    if (ch.identity) {
      // A change only against the identity recorded at that time: the packet is history, not news.
      const before = this.s.identityBefore!.get(ch.identity.node, ch.identity.at) as NodeIdentity | undefined;
      const latest = new Map<number, NodeIdentity>(before ? [[ch.identity.node, before]] : []);
      const row = nodeInfoChange(latest, ch.identity, now);
      if (row) this.s.insert_node_info!.run(row);
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
