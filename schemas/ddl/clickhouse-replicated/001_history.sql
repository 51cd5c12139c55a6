-- Replicated layout: the same tables as ../clickhouse/ (same columns, keys and partitions), each engine its
-- Replicated*MergeTree form, coordinated by ZooKeeper. Every server needs <macros> with shard and replica (replica
-- unique per server). Current ClickHouse expands {database} itself; 18.16 does not know it, so ingest substitutes the
-- database name when it applies this file (applying it by hand there: replace it, or define a database macro).
-- Materialized views are not replicated: each replica runs its own, fed only by inserts made on that replica, while
-- the tables they write to replicate.
-- Generated from ../clickhouse/ by services/ingest/src/clickhouse/replicated-ddl.ts; a test keeps them in step.
-- MeshyMcMapface history store, ClickHouse. Runs on ClickHouse 18.16 (Debian, CI) and on current releases.
-- Every time is Unix milliseconds in a UInt64 (18.16 has no DateTime64); radio clocks (rx_time, time) are seconds.
-- Partitions are days (raw tables) or months (rollups) so retention is ALTER TABLE ... DROP PARTITION (18.16 has no TTL).
-- Duplicates: ingest inserts only rows whose key is not stored yet (it looks the keys up before each insert), so
-- materialized views count every reception once; ReplacingMergeTree on the same key is the second line (FINAL/argMax).
-- Statements are separated by a semicolon at the end of a line; no semicolons inside statements.

-- One row per reception: one agent heard one packet. The replayable record of everything.
CREATE TABLE IF NOT EXISTS receptions (
  msg_id String,
  site String,
  agent String,
  from_node UInt32,
  to_node UInt32,
  packet_id UInt32,
  port String,
  portnum Int32,
  channel UInt32,
  channel_name String,
  rx_time UInt32,
  received_at UInt64,
  rx_snr Float32,
  rx_rssi Int32,
  hop_start UInt32,
  hop_limit UInt32,
  hops Nullable(UInt32),
  relay_node UInt32,
  next_hop UInt32,
  via_mqtt UInt8,
  want_ack UInt8,
  priority Int32,
  pki_encrypted UInt8,
  encryption String,
  source String,
  gateway_id String,
  request_id UInt32,
  reply_id UInt32,
  payload String,
  raw String,
  is_first UInt8,
  stream_seq UInt64,
  ingested_at UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/receptions', '{replica}', ingested_at)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(received_at, 1000)))
ORDER BY (from_node, packet_id, site, agent, msg_id);

-- Canonical packets: one row per (from_node, packet_id) after GROUP BY, fed by every new reception.
CREATE TABLE IF NOT EXISTS packets (
  from_node UInt32,
  packet_id UInt32,
  heard_day UInt32,
  to_node AggregateFunction(argMin, UInt32, UInt64),
  port AggregateFunction(argMin, String, UInt64),
  portnum AggregateFunction(argMin, Int32, UInt64),
  channel AggregateFunction(argMin, UInt32, UInt64),
  first_heard AggregateFunction(min, UInt64),
  last_heard AggregateFunction(max, UInt64),
  receptions AggregateFunction(sum, UInt64),
  agents AggregateFunction(uniqExact, String),
  best_snr AggregateFunction(max, Float32),
  best_rssi AggregateFunction(max, Int32)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/packets', '{replica}')
PARTITION BY heard_day
ORDER BY (from_node, packet_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS packets_mv TO packets AS
SELECT
  from_node,
  packet_id,
  toYYYYMMDD(toDateTime(intDiv(received_at, 1000))) AS heard_day,
  argMinState(to_node, received_at) AS to_node,
  argMinState(port, received_at) AS port,
  argMinState(portnum, received_at) AS portnum,
  argMinState(channel, received_at) AS channel,
  minState(received_at) AS first_heard,
  maxState(received_at) AS last_heard,
  sumState(toUInt64(1)) AS receptions,
  uniqExactState(concat(site, '/', agent)) AS agents,
  maxState(rx_snr) AS best_snr,
  maxState(rx_rssi) AS best_rssi
FROM receptions
GROUP BY from_node, packet_id, heard_day;

-- Per packet (first reception only): positions.
CREATE TABLE IF NOT EXISTS positions (
  from_node UInt32,
  packet_id UInt32,
  received_at UInt64,
  site String,
  agent String,
  latitude_i Int32,
  longitude_i Int32,
  latitude Float64,
  longitude Float64,
  altitude Nullable(Int32),
  time UInt32,
  precision_bits UInt32,
  location_source Int32,
  altitude_source Int32,
  ground_speed Nullable(UInt32),
  ground_track Nullable(UInt32),
  sats_in_view Nullable(UInt32),
  pdop Nullable(UInt32),
  hdop Nullable(UInt32),
  ingested_at UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/positions', '{replica}', ingested_at)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(received_at, 1000)))
ORDER BY (from_node, packet_id);

-- Per packet: telemetry in long form, one row per (variant, field); zeros kept, booleans as 0/1.
CREATE TABLE IF NOT EXISTS telemetry (
  from_node UInt32,
  packet_id UInt32,
  received_at UInt64,
  time UInt32,
  variant String,
  field String,
  value Float64,
  site String,
  agent String,
  ingested_at UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/telemetry', '{replica}', ingested_at)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(received_at, 1000)))
ORDER BY (from_node, variant, field, packet_id);

-- Per packet: text messages.
CREATE TABLE IF NOT EXISTS text_messages (
  from_node UInt32,
  packet_id UInt32,
  to_node UInt32,
  channel UInt32,
  channel_name String,
  received_at UInt64,
  site String,
  agent String,
  text String,
  reply_id UInt32,
  emoji UInt32,
  ingested_at UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/text_messages', '{replica}', ingested_at)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(received_at, 1000)))
ORDER BY (from_node, packet_id);

-- A row only when a node's names, role or hardware change (from NODEINFO packets and node-DB snapshots).
CREATE TABLE IF NOT EXISTS node_info (
  node UInt32,
  changed_at UInt64,
  long_name String,
  short_name String,
  hw_model Int32,
  role Int32,
  is_licensed UInt8,
  public_key String,
  source String,
  site String,
  agent String,
  packet_id UInt32,
  ingested_at UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/node_info', '{replica}', ingested_at)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(changed_at, 1000)))
ORDER BY (node, changed_at);

-- Traceroutes: agent-run outcomes (source 'agent', timeouts included) and replies overheard on the mesh ('packet').
-- Routes are JSON arrays of node numbers including both ends; SNR arrays are dB per hop, null = unknown.
CREATE TABLE IF NOT EXISTS traceroutes (
  source String,
  from_node UInt32,
  to_node UInt32,
  request_id UInt32,
  packet_id UInt32,
  started_at UInt64,
  finished_at UInt64,
  site String,
  agent String,
  outcome String,
  trigger String,
  hop_limit UInt32,
  channel UInt32,
  route_towards String,
  snr_towards String,
  route_back String,
  snr_back String,
  hops_towards Nullable(UInt32),
  hops_back Nullable(UInt32),
  error String,
  ingested_at UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/traceroutes', '{replica}', ingested_at)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(finished_at, 1000)))
ORDER BY (from_node, to_node, source, request_id, packet_id, started_at);

-- One row per hop of each traceroute path: direction 'towards' or 'back', hop index from 0.
CREATE TABLE IF NOT EXISTS traceroute_hops (
  source String,
  from_node UInt32,
  to_node UInt32,
  request_id UInt32,
  packet_id UInt32,
  started_at UInt64,
  finished_at UInt64,
  site String,
  agent String,
  direction String,
  hop UInt32,
  hop_from UInt32,
  hop_to UInt32,
  snr Nullable(Float32),
  ingested_at UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/traceroute_hops', '{replica}', ingested_at)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(finished_at, 1000)))
ORDER BY (from_node, to_node, source, request_id, packet_id, started_at, direction, hop);

-- Per NEIGHBORINFO packet: one row per reported neighbour (node heard neighbor with snr dB).
CREATE TABLE IF NOT EXISTS neighbor_edges (
  from_node UInt32,
  packet_id UInt32,
  node UInt32,
  neighbor UInt32,
  snr Float32,
  last_rx_time UInt32,
  broadcast_interval UInt32,
  received_at UInt64,
  site String,
  agent String,
  ingested_at UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/neighbor_edges', '{replica}', ingested_at)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(received_at, 1000)))
ORDER BY (from_node, packet_id, neighbor);

-- Agent heartbeats.
CREATE TABLE IF NOT EXISTS agent_status (
  site String,
  agent String,
  at UInt64,
  started_at UInt64,
  version String,
  location_name String,
  latitude Nullable(Float64),
  longitude Nullable(Float64),
  radio_state String,
  transport String,
  address String,
  radio_since UInt64,
  last_frame_at Nullable(UInt64),
  reconnects UInt32,
  my_node_num Nullable(UInt32),
  firmware_version String,
  hw_model Nullable(Int32),
  in_flight UInt32,
  stream_messages UInt64,
  stream_bytes UInt64,
  hub_connected Nullable(UInt8),
  counters String,
  ingested_at UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/agent_status', '{replica}', ingested_at)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(at, 1000)))
ORDER BY (site, agent, at);

-- Node-DB snapshots, one row per (agent, node, snapshot); the latest per (site, agent, node) is argMax(.., taken_at).
CREATE TABLE IF NOT EXISTS nodedb (
  site String,
  agent String,
  node UInt32,
  taken_at UInt64,
  reason String,
  long_name Nullable(String),
  short_name Nullable(String),
  hw_model Nullable(Int32),
  role Nullable(Int32),
  is_licensed UInt8,
  public_key String,
  latitude Nullable(Float64),
  longitude Nullable(Float64),
  altitude Nullable(Int32),
  position_time Nullable(UInt32),
  snr Nullable(Float32),
  last_heard Nullable(UInt32),
  hops_away Nullable(UInt32),
  channel UInt32,
  via_mqtt UInt8,
  is_favorite UInt8,
  battery_level Nullable(Float64),
  voltage Nullable(Float64),
  channel_utilization Nullable(Float64),
  air_util_tx Nullable(Float64),
  uptime_seconds Nullable(Float64),
  entry String,
  ingested_at UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/nodedb', '{replica}', taken_at)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(taken_at, 1000)))
ORDER BY (site, agent, node);

-- Hourly rollup: receptions per (hour, node, port, agent); packets = receptions that were the packet's first.
CREATE TABLE IF NOT EXISTS packets_hourly (
  hour UInt64,
  from_node UInt32,
  port String,
  site String,
  agent String,
  receptions UInt64,
  packets UInt64
) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/packets_hourly', '{replica}', (receptions, packets))
PARTITION BY toYYYYMM(toDateTime(intDiv(hour, 1000)))
ORDER BY (hour, from_node, port, site, agent);

CREATE MATERIALIZED VIEW IF NOT EXISTS packets_hourly_mv TO packets_hourly AS
SELECT
  intDiv(received_at, 3600000) * 3600000 AS hour,
  from_node,
  port,
  site,
  agent,
  toUInt64(count()) AS receptions,
  toUInt64(sum(is_first)) AS packets
FROM receptions
GROUP BY hour, from_node, port, site, agent;

-- Hourly rollup of deviceMetrics channelUtilization and airUtilTx per node (percent).
CREATE TABLE IF NOT EXISTS telemetry_hourly (
  hour UInt64,
  from_node UInt32,
  field String,
  samples AggregateFunction(sum, UInt64),
  value_sum AggregateFunction(sum, Float64),
  value_min AggregateFunction(min, Float64),
  value_max AggregateFunction(max, Float64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/telemetry_hourly', '{replica}')
PARTITION BY toYYYYMM(toDateTime(intDiv(hour, 1000)))
ORDER BY (hour, from_node, field);

CREATE MATERIALIZED VIEW IF NOT EXISTS telemetry_hourly_mv TO telemetry_hourly AS
SELECT
  intDiv(received_at, 3600000) * 3600000 AS hour,
  from_node,
  field,
  sumState(toUInt64(1)) AS samples,
  sumState(value) AS value_sum,
  minState(value) AS value_min,
  maxState(value) AS value_max
FROM telemetry
WHERE variant = 'deviceMetrics' AND field IN ('channelUtilization', 'airUtilTx')
GROUP BY hour, from_node, field;
