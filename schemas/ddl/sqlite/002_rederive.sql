-- mmm rederive: which decoder version last wrote a reception's decoded columns (port, portnum, channel_name,
-- encryption, request_id, reply_id, payload). A reception without a row here is as ingest stored it (version 0).
-- A side table rather than a column on receptions: SQLite has no ADD COLUMN IF NOT EXISTS and the DDL is applied at
-- every start. The version is the re-derive run's start time (ms), kept when the run is resumed; a write is an upsert
-- on msg_id that only takes effect when the incoming version is higher, so the newest run wins.
CREATE TABLE IF NOT EXISTS reception_versions (
  msg_id TEXT NOT NULL PRIMARY KEY,
  received_at INTEGER NOT NULL,
  decoder_version INTEGER NOT NULL,
  rederived_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reception_versions_received_at ON reception_versions (received_at);
