/**
 * The replicated layout's DDL (schemas/ddl/clickhouse-replicated/) is the single-server DDL with every *MergeTree
 * engine replaced by its Replicated form; this is that rule, so a test can hold the two files together.
 *
 * Paths use `{shard}` and `{replica}` from each server's `<macros>`, and `{database}`: current ClickHouse expands it
 * itself, 18.16 does not know it, so ingest puts the database name in before sending (`withDatabase`).
 */
export const REPLICATED_HEADER = `-- Replicated layout: the same tables as ../clickhouse/ (same columns, keys and partitions), each engine its
-- Replicated*MergeTree form, coordinated by ZooKeeper. Every server needs <macros> with shard and replica (replica
-- unique per server). Current ClickHouse expands {database} itself; 18.16 does not know it, so ingest substitutes the
-- database name when it applies this file (applying it by hand there: replace it, or define a database macro).
-- Materialized views are not replicated: each replica runs its own, fed only by inserts made on that replica, while
-- the tables they write to replicate.
-- Generated from ../clickhouse/ by services/ingest/src/clickhouse/replicated-ddl.ts; a test keeps them in step.
`;

const ENGINE = /ENGINE = (Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing|)MergeTree\(([^\n]*)\)\n/g;
const TABLE = /CREATE TABLE IF NOT EXISTS (\w+) \(/;

export class ReplicatedDdlError extends Error {
  override readonly name = 'ReplicatedDdlError';
}

/** One DDL file's text in its replicated form. */
export function replicatedDdl(sql: string): string {
  const statements = sql.split(/(?<=;\n)/);
  const out = statements.map((stmt) => {
    const table = TABLE.exec(stmt)?.[1];
    const engines = [...stmt.matchAll(ENGINE)];
    if (!table) {
      if (engines.length > 0) throw new ReplicatedDdlError(`an engine outside CREATE TABLE: ${stmt.slice(0, 120)}`);
      return stmt;
    }
    if (engines.length !== 1) throw new ReplicatedDdlError(`table ${table}: expected one MergeTree engine`);
    return stmt.replace(ENGINE, (_m, kind: string, args: string) => {
      const all = [`'/clickhouse/tables/{shard}/{database}/${table}'`, `'{replica}'`, ...(args ? [args] : [])];
      return `ENGINE = Replicated${kind}MergeTree(${all.join(', ')})\n`;
    });
  });
  return REPLICATED_HEADER + out.join('');
}

/** `{database}` in replicated paths, filled in for servers that do not expand it themselves (before 20.10). */
export function withDatabase(statement: string, database: string): string {
  return statement.replaceAll('{database}', database);
}
