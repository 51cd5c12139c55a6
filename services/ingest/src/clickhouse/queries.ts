import { KEYS, type TableName } from '../plan/tables.js';
import { sqlIdentifier, sqlList, sqlLiteral } from './literal.js';

// Every query ClickHouseStore runs, built here so the chdb test can run the very same text on a current engine.

export const createDatabaseSql = (db: string) => `CREATE DATABASE IF NOT EXISTS ${sqlIdentifier(db)}`;

/** Stored receptions of the given packets (the caller filters to exact pairs). */
export const storedReceptionsSql = (froms: readonly number[], ids: readonly number[]) =>
  `SELECT msg_id, from_node, packet_id FROM receptions WHERE from_node IN ${sqlList(froms)} AND packet_id IN ${sqlList(ids)}`;

/** Latest recorded identity per node; `latest` is not called changed_at so argMax still sees the column. */
export const latestIdentitiesSql = (nodes: readonly number[]) =>
  `SELECT node, argMax(long_name, changed_at) AS long_name, argMax(short_name, changed_at) AS short_name,
          argMax(hw_model, changed_at) AS hw_model, argMax(role, changed_at) AS role, max(changed_at) AS latest
   FROM node_info WHERE node IN ${sqlList(nodes)} GROUP BY node`;

export const storedKeysSql = (table: TableName, values: readonly (number | string)[]) => {
  const { cols, filter } = KEYS[table];
  return `SELECT ${cols.join(', ')} FROM ${sqlIdentifier(table)} WHERE ${filter} IN ${sqlList(values)}`;
};

export const partitionsSql = (db: string, table: string) =>
  `SELECT DISTINCT partition FROM system.parts WHERE database = ${sqlLiteral(db)} AND table = ${sqlLiteral(table)} AND active`;

export const dropPartitionSql = (table: string, partition: number) =>
  `ALTER TABLE ${sqlIdentifier(table)} DROP PARTITION ${sqlLiteral(partition)}`;
