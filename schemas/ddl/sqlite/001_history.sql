-- MeshyMcMapface history store, SQLite (the embedded default). Same tables and columns as the ClickHouse DDL, so the
-- API asks both stores the same questions. Times are Unix milliseconds (INTEGER); radio clocks are seconds.
-- Booleans are 0/1. Primary keys (UNIQUE msg_id for receptions) are the dedupe keys: ingest inserts with INSERT OR
-- IGNORE inside one transaction per batch, so a redelivered batch changes nothing. Rollups are maintained in the same
-- transaction.
-- Time filters must compare the bare column (received_at >= ?) so these indexes are used; never wrap a column.
-- Statements are separated by a semicolon at the end of a line; no semicolons inside statements.
-- Tables with small rows are WITHOUT ROWID (the key is the table). receptions is not: its rows are wide (payload,
-- raw bytes) and its dedupe key is a long random-order text, so it is a rowid table (appends in arrival order) with a
-- UNIQUE msg_id, and its five secondary indexes point at an 8-byte rowid instead of repeating the msg_id
-- (ingest drained a 100k backlog ~30 % faster).

CREATE TABLE IF NOT EXISTS receptions (
  msg_id TEXT NOT NULL UNIQUE,
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  from_node INTEGER NOT NULL,
  to_node INTEGER NOT NULL,
  packet_id INTEGER NOT NULL,
  port TEXT NOT NULL,
  portnum INTEGER NOT NULL,
  channel INTEGER NOT NULL,
  channel_name TEXT NOT NULL,
  rx_time INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  rx_snr REAL NOT NULL,
  rx_rssi INTEGER NOT NULL,
  hop_start INTEGER NOT NULL,
  hop_limit INTEGER NOT NULL,
  hops INTEGER,
  relay_node INTEGER NOT NULL,
  next_hop INTEGER NOT NULL,
  via_mqtt INTEGER NOT NULL,
  want_ack INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  pki_encrypted INTEGER NOT NULL,
  encryption TEXT NOT NULL,
  source TEXT NOT NULL,
  gateway_id TEXT NOT NULL,
  request_id INTEGER NOT NULL,
  reply_id INTEGER NOT NULL,
  payload TEXT NOT NULL,
  raw TEXT NOT NULL,
  is_first INTEGER NOT NULL,
  stream_seq INTEGER NOT NULL,
  ingested_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS receptions_received_at ON receptions (received_at);
CREATE INDEX IF NOT EXISTS receptions_packet ON receptions (from_node, packet_id);
CREATE INDEX IF NOT EXISTS receptions_from_time ON receptions (from_node, received_at);
CREATE INDEX IF NOT EXISTS receptions_agent_time ON receptions (site, agent, received_at);
CREATE INDEX IF NOT EXISTS receptions_port_time ON receptions (port, received_at);

CREATE TABLE IF NOT EXISTS packets (
  from_node INTEGER NOT NULL,
  packet_id INTEGER NOT NULL,
  to_node INTEGER NOT NULL,
  port TEXT NOT NULL,
  portnum INTEGER NOT NULL,
  channel INTEGER NOT NULL,
  first_heard INTEGER NOT NULL,
  last_heard INTEGER NOT NULL,
  receptions INTEGER NOT NULL,
  agents INTEGER NOT NULL,
  best_snr REAL NOT NULL,
  best_rssi INTEGER NOT NULL,
  PRIMARY KEY (from_node, packet_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packets_first_heard ON packets (first_heard);
CREATE INDEX IF NOT EXISTS packets_last_heard ON packets (last_heard);

CREATE TABLE IF NOT EXISTS positions (
  from_node INTEGER NOT NULL,
  packet_id INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  latitude_i INTEGER NOT NULL,
  longitude_i INTEGER NOT NULL,
  latitude REAL NOT NULL,
  longitude REAL NOT NULL,
  altitude INTEGER,
  time INTEGER NOT NULL,
  precision_bits INTEGER NOT NULL,
  location_source INTEGER NOT NULL,
  altitude_source INTEGER NOT NULL,
  ground_speed INTEGER,
  ground_track INTEGER,
  sats_in_view INTEGER,
  pdop INTEGER,
  hdop INTEGER,
  ingested_at INTEGER NOT NULL,
  PRIMARY KEY (from_node, packet_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS positions_from_time ON positions (from_node, received_at);
CREATE INDEX IF NOT EXISTS positions_received_at ON positions (received_at);

CREATE TABLE IF NOT EXISTS telemetry (
  from_node INTEGER NOT NULL,
  packet_id INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  time INTEGER NOT NULL,
  variant TEXT NOT NULL,
  field TEXT NOT NULL,
  value REAL NOT NULL,
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  ingested_at INTEGER NOT NULL,
  PRIMARY KEY (from_node, variant, field, packet_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS telemetry_series ON telemetry (from_node, variant, field, received_at);
CREATE INDEX IF NOT EXISTS telemetry_received_at ON telemetry (received_at);

CREATE TABLE IF NOT EXISTS text_messages (
  from_node INTEGER NOT NULL,
  packet_id INTEGER NOT NULL,
  to_node INTEGER NOT NULL,
  channel INTEGER NOT NULL,
  channel_name TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  text TEXT NOT NULL,
  reply_id INTEGER NOT NULL,
  emoji INTEGER NOT NULL,
  ingested_at INTEGER NOT NULL,
  PRIMARY KEY (from_node, packet_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS text_messages_received_at ON text_messages (received_at);
CREATE INDEX IF NOT EXISTS text_messages_channel_time ON text_messages (channel, received_at);

CREATE TABLE IF NOT EXISTS node_info (
  node INTEGER NOT NULL,
  changed_at INTEGER NOT NULL,
  long_name TEXT NOT NULL,
  short_name TEXT NOT NULL,
  hw_model INTEGER NOT NULL,
  role INTEGER NOT NULL,
  is_licensed INTEGER NOT NULL,
  public_key TEXT NOT NULL,
  source TEXT NOT NULL,
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  packet_id INTEGER NOT NULL,
  ingested_at INTEGER NOT NULL,
  PRIMARY KEY (node, changed_at)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS node_info_changed_at ON node_info (changed_at);

CREATE TABLE IF NOT EXISTS traceroutes (
  source TEXT NOT NULL,
  from_node INTEGER NOT NULL,
  to_node INTEGER NOT NULL,
  request_id INTEGER NOT NULL,
  packet_id INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  outcome TEXT NOT NULL,
  trigger TEXT NOT NULL,
  hop_limit INTEGER NOT NULL,
  channel INTEGER NOT NULL,
  route_towards TEXT NOT NULL,
  snr_towards TEXT NOT NULL,
  route_back TEXT NOT NULL,
  snr_back TEXT NOT NULL,
  hops_towards INTEGER,
  hops_back INTEGER,
  error TEXT NOT NULL,
  ingested_at INTEGER NOT NULL,
  PRIMARY KEY (from_node, to_node, source, request_id, packet_id, started_at)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS traceroutes_finished_at ON traceroutes (finished_at);
CREATE INDEX IF NOT EXISTS traceroutes_to_time ON traceroutes (to_node, finished_at);
CREATE INDEX IF NOT EXISTS traceroutes_agent_time ON traceroutes (site, agent, finished_at);

CREATE TABLE IF NOT EXISTS traceroute_hops (
  source TEXT NOT NULL,
  from_node INTEGER NOT NULL,
  to_node INTEGER NOT NULL,
  request_id INTEGER NOT NULL,
  packet_id INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  direction TEXT NOT NULL,
  hop INTEGER NOT NULL,
  hop_from INTEGER NOT NULL,
  hop_to INTEGER NOT NULL,
  snr REAL,
  ingested_at INTEGER NOT NULL,
  PRIMARY KEY (from_node, to_node, source, request_id, packet_id, started_at, direction, hop)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS traceroute_hops_link_time ON traceroute_hops (hop_from, hop_to, finished_at);
CREATE INDEX IF NOT EXISTS traceroute_hops_finished_at ON traceroute_hops (finished_at);

CREATE TABLE IF NOT EXISTS neighbor_edges (
  from_node INTEGER NOT NULL,
  packet_id INTEGER NOT NULL,
  node INTEGER NOT NULL,
  neighbor INTEGER NOT NULL,
  snr REAL NOT NULL,
  last_rx_time INTEGER NOT NULL,
  broadcast_interval INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  ingested_at INTEGER NOT NULL,
  PRIMARY KEY (from_node, packet_id, neighbor)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS neighbor_edges_node_time ON neighbor_edges (node, received_at);
CREATE INDEX IF NOT EXISTS neighbor_edges_received_at ON neighbor_edges (received_at);

CREATE TABLE IF NOT EXISTS agent_status (
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  version TEXT NOT NULL,
  location_name TEXT NOT NULL,
  latitude REAL,
  longitude REAL,
  radio_state TEXT NOT NULL,
  transport TEXT NOT NULL,
  address TEXT NOT NULL,
  radio_since INTEGER NOT NULL,
  last_frame_at INTEGER,
  reconnects INTEGER NOT NULL,
  my_node_num INTEGER,
  firmware_version TEXT NOT NULL,
  hw_model INTEGER,
  in_flight INTEGER NOT NULL,
  stream_messages INTEGER NOT NULL,
  stream_bytes INTEGER NOT NULL,
  hub_connected INTEGER,
  counters TEXT NOT NULL,
  ingested_at INTEGER NOT NULL,
  PRIMARY KEY (site, agent, at)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS agent_status_at ON agent_status (at);

-- Latest snapshot row per (site, agent, node): an upsert keeps the row with the highest taken_at.
CREATE TABLE IF NOT EXISTS nodedb (
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  node INTEGER NOT NULL,
  taken_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  long_name TEXT,
  short_name TEXT,
  hw_model INTEGER,
  role INTEGER,
  is_licensed INTEGER NOT NULL,
  public_key TEXT NOT NULL,
  latitude REAL,
  longitude REAL,
  altitude INTEGER,
  position_time INTEGER,
  snr REAL,
  last_heard INTEGER,
  hops_away INTEGER,
  channel INTEGER NOT NULL,
  via_mqtt INTEGER NOT NULL,
  is_favorite INTEGER NOT NULL,
  battery_level REAL,
  voltage REAL,
  channel_utilization REAL,
  air_util_tx REAL,
  uptime_seconds REAL,
  entry TEXT NOT NULL,
  ingested_at INTEGER NOT NULL,
  PRIMARY KEY (site, agent, node)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nodedb_node ON nodedb (node);
CREATE INDEX IF NOT EXISTS nodedb_taken_at ON nodedb (taken_at);

CREATE TABLE IF NOT EXISTS packets_hourly (
  hour INTEGER NOT NULL,
  from_node INTEGER NOT NULL,
  port TEXT NOT NULL,
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  receptions INTEGER NOT NULL,
  packets INTEGER NOT NULL,
  PRIMARY KEY (hour, from_node, port, site, agent)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packets_hourly_from ON packets_hourly (from_node, hour);

CREATE TABLE IF NOT EXISTS telemetry_hourly (
  hour INTEGER NOT NULL,
  from_node INTEGER NOT NULL,
  field TEXT NOT NULL,
  samples INTEGER NOT NULL,
  value_sum REAL NOT NULL,
  value_min REAL NOT NULL,
  value_max REAL NOT NULL,
  PRIMARY KEY (hour, from_node, field)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS telemetry_hourly_from ON telemetry_hourly (from_node, field, hour);
