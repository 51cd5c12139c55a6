import { sqlList, sqlLiteral } from '../clickhouse/literal.js';
import { STORED_RECEPTION_COLS } from '../scan.js';
import type { RederiveChange } from './plan.js';
import type { RederiveCursor } from './store.js';

// Every statement mmm rederive runs on ClickHouse; ClickHouse 18.16 has no query parameters, so values go through
// sqlLiteral.

const HOUR_MS = 3_600_000;

/** Receptions after the cursor and before `end`, in (received_at, msg_id) order. */
export const pageSql = (since: number, end: number, after: RederiveCursor, limit: number) =>
  `SELECT ${STORED_RECEPTION_COLS} FROM receptions
   WHERE received_at >= ${sqlLiteral(Math.max(since, after.received_at))} AND received_at < ${sqlLiteral(end)}
     AND (received_at > ${sqlLiteral(after.received_at)} OR (received_at = ${sqlLiteral(after.received_at)} AND msg_id > ${sqlLiteral(after.msg_id)}))
   ORDER BY received_at, msg_id LIMIT ${sqlLiteral(limit)}`;

export const countSql = (since: number, until: number) =>
  `SELECT count() AS n FROM receptions WHERE received_at >= ${sqlLiteral(since)} AND received_at < ${sqlLiteral(until)}`;

export const versionsSql = (msgIds: readonly string[]) =>
  `SELECT msg_id, max(decoder_version) AS v FROM reception_versions WHERE msg_id IN ${sqlList(msgIds)} GROUP BY msg_id`;

/** Column type of each decoded numeric column: transform() works on a common type, the column takes its own. */
const NUMERIC: Record<string, string> = { portnum: 'toInt32', request_id: 'toUInt32', reply_id: 'toUInt32' };
const TEXT = ['port', 'channel_name', 'encryption', 'payload'] as const;

/**
 * One mutation that sets the decoded columns of several receptions by msg_id. A mutation fires no materialized view
 * and leaves no second row behind (an insert of a new row version would do both); the aggregates are rebuilt after.
 */
export function rewriteSql(changes: readonly RederiveChange[]): string {
  const ids = sqlLiteral(changes.map((c) => c.stored.msg_id));
  const sets = [
    ...TEXT.map(
      (c) => `${c} = transform(msg_id, ${ids}, ${sqlLiteral(changes.map((x) => String(x.decoded[c])))}, ${c})`,
    ),
    ...Object.entries(NUMERIC).map(
      ([c, fn]) =>
        `${c} = ${fn}(transform(msg_id, ${ids}, ${sqlLiteral(changes.map((x) => Number(x.decoded[c])))}, toInt64(${c})))`,
    ),
  ];
  return `ALTER TABLE receptions UPDATE ${sets.join(', ')} WHERE msg_id IN ${sqlList(changes.map((c) => c.stored.msg_id))}`;
}

export const pendingMutationsSql = (db: string, table: string) =>
  `SELECT count() AS n FROM system.mutations WHERE database = ${sqlLiteral(db)} AND table = ${sqlLiteral(table)} AND is_done = 0`;

type Pair = readonly [number, number];
const tuples = (pairs: readonly Pair[]) =>
  `(${pairs.map(([a, b]) => `(${sqlLiteral(a)}, ${sqlLiteral(b)})`).join(', ')})`;
const firsts = (pairs: readonly Pair[]) => sqlList([...new Set(pairs.map((p) => p[0]))]);

export const deletePacketsSql = (pairs: readonly Pair[]) =>
  `ALTER TABLE packets DELETE WHERE from_node IN ${firsts(pairs)} AND (from_node, packet_id) IN ${tuples(pairs)}`;

/** The packets_mv select over every stored reception of the packets: their rows rebuilt exactly. */
export const insertPacketsSql = (pairs: readonly Pair[]) =>
  `INSERT INTO packets SELECT
     from_node, packet_id, toYYYYMMDD(toDateTime(intDiv(received_at, 1000))) AS heard_day,
     argMinState(to_node, received_at) AS to_node, argMinState(port, received_at) AS port,
     argMinState(portnum, received_at) AS portnum, argMinState(channel, received_at) AS channel,
     minState(received_at) AS first_heard, maxState(received_at) AS last_heard, sumState(toUInt64(1)) AS receptions,
     uniqExactState(concat(site, '/', agent)) AS agents, maxState(rx_snr) AS best_snr, maxState(rx_rssi) AS best_rssi
   FROM receptions WHERE from_node IN ${firsts(pairs)} AND (from_node, packet_id) IN ${tuples(pairs)}
   GROUP BY from_node, packet_id, heard_day`;

/** pairs: (hour, from_node). */
export const deleteHourlySql = (pairs: readonly Pair[]) =>
  `ALTER TABLE packets_hourly DELETE WHERE (hour, from_node) IN ${tuples(pairs)}`;

/** The packets_hourly_mv select over every stored reception of those hours and nodes. */
export function insertHourlySql(pairs: readonly Pair[]): string {
  const hours = pairs.map((p) => p[0]);
  const [lo, hi] = [Math.min(...hours), Math.max(...hours) + HOUR_MS];
  return `INSERT INTO packets_hourly SELECT
     intDiv(received_at, 3600000) * 3600000 AS hour, from_node, port, site, agent,
     toUInt64(count()) AS receptions, toUInt64(sum(is_first)) AS packets
   FROM receptions
   WHERE received_at >= ${sqlLiteral(lo)} AND received_at < ${sqlLiteral(hi)} AND from_node IN ${sqlList([...new Set(pairs.map((p) => p[1]))])}
     AND (intDiv(received_at, 3600000) * 3600000, from_node) IN ${tuples(pairs)}
   GROUP BY hour, from_node, port, site, agent`;
}

export const identityBeforeSql = (node: number, at: number) =>
  `SELECT long_name, short_name, hw_model, role, changed_at FROM node_info
   WHERE node = ${sqlLiteral(node)} AND changed_at <= ${sqlLiteral(at)} ORDER BY changed_at DESC LIMIT 1`;
