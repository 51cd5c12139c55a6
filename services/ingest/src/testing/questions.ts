// Questions the API asks the history store, each in both dialects; tests require identical answers from both stores
// (and the chdb test runs the ClickHouse form on a current engine). Forms follow schemas/ddl/README.md.

export interface Question {
  readonly name: string;
  readonly clickhouse: string;
  readonly sqlite: string;
}

const same = (name: string, sql: string, chSql = sql): Question => ({ name, clickhouse: chSql, sqlite: sql });

const count = (table: string, final = true): Question =>
  same(
    `count ${table}`,
    `SELECT count(*) AS n FROM ${table}`,
    `SELECT count() AS n FROM ${table}${final ? ' FINAL' : ''}`,
  );

export const COUNT_QUESTIONS: Question[] = [
  count('receptions'),
  same(
    'count packets',
    'SELECT count(*) AS n FROM packets',
    'SELECT count() AS n FROM (SELECT from_node, packet_id FROM packets GROUP BY from_node, packet_id)',
  ),
  count('positions'),
  count('telemetry'),
  count('text_messages'),
  count('node_info'),
  count('traceroutes'),
  count('traceroute_hops'),
  count('neighbor_edges'),
  count('agent_status'),
  count('nodedb'),
  same(
    'telemetry zeros',
    'SELECT count(*) AS n FROM telemetry WHERE value = 0',
    'SELECT count() AS n FROM telemetry FINAL WHERE value = 0',
  ),
  same('hourly receptions', 'SELECT sum(receptions) AS r, sum(packets) AS p FROM packets_hourly'),
  same(
    'device rollup samples',
    'SELECT sum(samples) AS n FROM telemetry_hourly',
    'SELECT sumMerge(samples) AS n FROM telemetry_hourly',
  ),
];

export const ANSWER_QUESTIONS: Question[] = [
  same(
    'canonical packets',
    `SELECT from_node, packet_id, to_node, port, channel, first_heard, last_heard, receptions, agents, best_snr, best_rssi
     FROM packets ORDER BY from_node, packet_id`,
    `SELECT from_node, packet_id, argMinMerge(to_node) AS to_node, argMinMerge(port) AS port, argMinMerge(channel) AS channel,
            minMerge(first_heard) AS first_heard, maxMerge(last_heard) AS last_heard, sumMerge(receptions) AS receptions,
            uniqExactMerge(agents) AS agents, maxMerge(best_snr) AS best_snr, maxMerge(best_rssi) AS best_rssi
     FROM packets GROUP BY from_node, packet_id ORDER BY from_node, packet_id`,
  ),
  same(
    'receptions',
    `SELECT msg_id, site, agent, from_node, to_node, packet_id, port, portnum, rx_time, received_at, rx_snr, rx_rssi, hop_start,
            hop_limit, hops, relay_node, encryption, source, request_id, payload, raw, is_first
     FROM receptions ORDER BY msg_id`,
    `SELECT msg_id, site, agent, from_node, to_node, packet_id, port, portnum, rx_time, received_at, rx_snr, rx_rssi, hop_start,
            hop_limit, hops, relay_node, encryption, source, request_id, payload, raw, is_first
     FROM receptions FINAL ORDER BY msg_id`,
  ),
  same(
    'packets per node, port and hour',
    `SELECT hour, from_node, port, sum(receptions) AS receptions, sum(packets) AS packets FROM packets_hourly
     GROUP BY hour, from_node, port ORDER BY hour, from_node, port`,
  ),
  same(
    'packets per agent and hour',
    `SELECT hour, site, agent, sum(receptions) AS receptions FROM packets_hourly GROUP BY hour, site, agent ORDER BY hour, site, agent`,
  ),
  same(
    'channel utilisation and air util tx per node and hour',
    `SELECT hour, from_node, field, samples, value_sum, value_min, value_max FROM telemetry_hourly ORDER BY hour, from_node, field`,
    `SELECT hour, from_node, field, sumMerge(samples) AS samples, sumMerge(value_sum) AS value_sum, minMerge(value_min) AS value_min,
            maxMerge(value_max) AS value_max
     FROM telemetry_hourly GROUP BY hour, from_node, field ORDER BY hour, from_node, field`,
  ),
  same(
    'telemetry series',
    `SELECT from_node, variant, field, received_at, time, value FROM telemetry ORDER BY from_node, variant, field, received_at, packet_id`,
    `SELECT from_node, variant, field, received_at, time, value FROM telemetry FINAL ORDER BY from_node, variant, field, received_at, packet_id`,
  ),
  same(
    'positions',
    `SELECT from_node, packet_id, received_at, latitude, longitude, altitude, sats_in_view FROM positions ORDER BY from_node, packet_id`,
    `SELECT from_node, packet_id, received_at, latitude, longitude, altitude, sats_in_view FROM positions FINAL ORDER BY from_node, packet_id`,
  ),
  same(
    'text messages',
    'SELECT from_node, packet_id, to_node, received_at, text FROM text_messages ORDER BY received_at, from_node, packet_id',
    'SELECT from_node, packet_id, to_node, received_at, text FROM text_messages FINAL ORDER BY received_at, from_node, packet_id',
  ),
  same(
    'node info changes',
    'SELECT node, changed_at, long_name, short_name, hw_model, role, source FROM node_info ORDER BY node, changed_at',
    'SELECT node, changed_at, long_name, short_name, hw_model, role, source FROM node_info FINAL ORDER BY node, changed_at',
  ),
  same(
    'traceroutes',
    `SELECT source, from_node, to_node, request_id, outcome, route_towards, snr_towards, route_back, snr_back, hops_towards, hops_back
     FROM traceroutes ORDER BY from_node, to_node, source, request_id, packet_id`,
    `SELECT source, from_node, to_node, request_id, outcome, route_towards, snr_towards, route_back, snr_back, hops_towards, hops_back
     FROM traceroutes FINAL ORDER BY from_node, to_node, source, request_id, packet_id`,
  ),
  same(
    'traceroute hops',
    `SELECT from_node, to_node, request_id, direction, hop, hop_from, hop_to, snr FROM traceroute_hops
     ORDER BY from_node, to_node, request_id, direction, hop`,
    `SELECT from_node, to_node, request_id, direction, hop, hop_from, hop_to, snr FROM traceroute_hops FINAL
     ORDER BY from_node, to_node, request_id, direction, hop`,
  ),
  same(
    'neighbor edges',
    'SELECT node, neighbor, snr, received_at FROM neighbor_edges ORDER BY node, neighbor, received_at',
    'SELECT node, neighbor, snr, received_at FROM neighbor_edges FINAL ORDER BY node, neighbor, received_at',
  ),
  same(
    'agent status',
    `SELECT site, agent, at, location_name, latitude, longitude, radio_state, hub_connected, counters FROM agent_status
     ORDER BY site, agent, at`,
    `SELECT site, agent, at, location_name, latitude, longitude, radio_state, hub_connected, counters FROM agent_status FINAL
     ORDER BY site, agent, at`,
  ),
  same(
    'latest node-DB entry per agent and node',
    `SELECT site, agent, node, taken_at AS latest, long_name, short_name, role, latitude, snr, battery_level, air_util_tx, uptime_seconds
     FROM nodedb ORDER BY site, agent, node`,
    `SELECT site, agent, node, max(taken_at) AS latest, argMax(long_name, taken_at) AS long_name,
            argMax(short_name, taken_at) AS short_name, argMax(role, taken_at) AS role, argMax(latitude, taken_at) AS latitude,
            argMax(snr, taken_at) AS snr, argMax(battery_level, taken_at) AS battery_level,
            argMax(air_util_tx, taken_at) AS air_util_tx, argMax(uptime_seconds, taken_at) AS uptime_seconds
     FROM nodedb GROUP BY site, agent, node ORDER BY site, agent, node`,
  ),
  same(
    'last hour by bare column',
    "SELECT count(*) AS n FROM receptions WHERE received_at >= 0 AND port = 'position'",
    "SELECT count() AS n FROM receptions FINAL WHERE received_at >= 0 AND port = 'position'",
  ),
];

/** Rows compared across stores: numbers rounded (Float32 columns), keys in one order. */
export function normalise(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => {
        if (typeof v === 'number') return [k, Math.round(v * 1e6) / 1e6];
        if (
          typeof v === 'string' &&
          /^-?\d+$/.test(v) &&
          v.length < 16 &&
          !['msg_id', 'text', 'payload', 'raw', 'long_name', 'short_name'].includes(k)
        ) {
          return [k, Number(v)];
        }
        return [k, v];
      }),
    ),
  );
}
