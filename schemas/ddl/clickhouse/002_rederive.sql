-- mmm rederive: which decoder version last wrote a reception's decoded columns (port, portnum, channel_name,
-- encryption, request_id, reply_id, payload). A reception without a row here is as ingest stored it (version 0).
-- A side table because 18.16 has no ADD COLUMN IF NOT EXISTS and the DDL is applied at every start. The version is the
-- re-derive run's start time (ms), kept when the run is resumed; the newest wins: ReplacingMergeTree(decoder_version)
-- on msg_id, read with max(decoder_version) per msg_id. The row is written before the reception is rewritten, so it
-- also marks the work a resumed run must finish.
CREATE TABLE IF NOT EXISTS reception_versions (
  msg_id String,
  received_at UInt64,
  decoder_version UInt64,
  rederived_at UInt64
) ENGINE = ReplacingMergeTree(decoder_version)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(received_at, 1000)))
ORDER BY msg_id;
