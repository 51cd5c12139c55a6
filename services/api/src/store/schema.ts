/**
 * The projection's tables. Times are epoch milliseconds (integers) so range filters use the indexes directly.
 * Node numbers are stored as integers; `!xxxxxxxx` is derived on output.
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS agents (
  site TEXT NOT NULL, agent TEXT NOT NULL,
  location_name TEXT, lat REAL, lon REAL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  packet_count INTEGER NOT NULL DEFAULT 0,
  version TEXT, radio_state TEXT, my_node_num INTEGER,
  status_json TEXT, status_at INTEGER,
  source TEXT,
  PRIMARY KEY (site, agent)
);
CREATE INDEX IF NOT EXISTS agents_agent ON agents(agent);

CREATE TABLE IF NOT EXISTS agent_status (
  site TEXT NOT NULL, agent TEXT NOT NULL, at INTEGER NOT NULL, json TEXT NOT NULL,
  PRIMARY KEY (site, agent, at)
);

CREATE TABLE IF NOT EXISTS nodes (
  num INTEGER PRIMARY KEY,
  short_name TEXT, long_name TEXT, macaddr TEXT, hw_model INTEGER, hw_model_name TEXT, role INTEGER,
  is_licensed INTEGER, public_key TEXT,
  lat REAL, lon REAL, alt REAL, position_at INTEGER,
  battery_level REAL, voltage REAL, channel_utilization REAL, air_util_tx REAL, uptime_seconds REAL,
  firmware_version TEXT, region INTEGER, modem_preset INTEGER,
  last_heard INTEGER, first_seen INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  packet_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS nodes_last_heard ON nodes(last_heard);
CREATE INDEX IF NOT EXISTS nodes_updated ON nodes(updated_at);

CREATE TABLE IF NOT EXISTS node_agents (
  num INTEGER NOT NULL, site TEXT NOT NULL, agent TEXT NOT NULL,
  last_heard INTEGER, updated_at INTEGER NOT NULL,
  hops_away INTEGER, snr REAL, rssi REAL, packet_count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (num, site, agent)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS node_agents_agent ON node_agents(agent, updated_at);

CREATE TABLE IF NOT EXISTS name_history (
  num INTEGER NOT NULL, short_name TEXT, long_name TEXT, changed_at INTEGER NOT NULL, site TEXT, agent TEXT
);
CREATE INDEX IF NOT EXISTS name_history_num ON name_history(num, changed_at);

CREATE TABLE IF NOT EXISTS receptions (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL, agent TEXT NOT NULL,
  from_num INTEGER NOT NULL, to_num INTEGER NOT NULL, packet_id INTEGER NOT NULL,
  port TEXT NOT NULL, channel INTEGER, rx_time INTEGER, received_at INTEGER NOT NULL,
  snr REAL, rssi REAL, hop_start INTEGER, hop_limit INTEGER, relay_node INTEGER, via_mqtt INTEGER,
  source TEXT, payload TEXT
);
CREATE INDEX IF NOT EXISTS rx_time ON receptions(received_at);
-- (from_num, packet_id) also serves one node's receptions (node details, the fallback history). No
-- (port|to_num|agent|from_num, received_at) indexes: they served only the projection's own reception history, a
-- fallback until ingest's store exists, which rx_time and rx_packet serve well enough, and each index is a B-tree
-- every reception writes (together more than a third of the projection's cost). Files of older releases drop them
-- (db.ts).
CREATE INDEX IF NOT EXISTS rx_packet ON receptions(from_num, packet_id);

CREATE TABLE IF NOT EXISTS traces (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL, agent TEXT NOT NULL, request_id INTEGER NOT NULL,
  from_num INTEGER NOT NULL, to_num INTEGER NOT NULL,
  started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL,
  outcome TEXT NOT NULL, trig TEXT,
  towards TEXT, back TEXT, error TEXT
);
CREATE INDEX IF NOT EXISTS traces_time ON traces(finished_at);
CREATE INDEX IF NOT EXISTS traces_target ON traces(to_num, agent, finished_at);

CREATE TABLE IF NOT EXISTS links (
  from_num INTEGER NOT NULL, to_num INTEGER NOT NULL,
  snr_latest REAL, snr_median REAL, samples INTEGER NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  evidence TEXT NOT NULL, quality REAL NOT NULL,
  PRIMARY KEY (from_num, to_num)
);
CREATE INDEX IF NOT EXISTS links_to ON links(to_num);
CREATE INDEX IF NOT EXISTS links_seen ON links(last_seen);

CREATE TABLE IF NOT EXISTS port_counts (
  hour INTEGER NOT NULL, port TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (hour, port)
);
`;
