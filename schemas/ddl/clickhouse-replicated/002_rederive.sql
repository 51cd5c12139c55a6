-- Replicated layout: the same tables as ../clickhouse/ (same columns, keys and partitions), each engine its
-- Replicated*MergeTree form, coordinated by ZooKeeper. Every server needs <macros> with shard and replica (replica
-- unique per server). Current ClickHouse expands {database} itself; 18.16 does not know it, so ingest substitutes the
-- database name when it applies this file (applying it by hand there: replace it, or define a database macro).
-- Materialized views are not replicated: each replica runs its own, fed only by inserts made on that replica, while
-- the tables they write to replicate.
-- Generated from ../clickhouse/ by services/ingest/src/clickhouse/replicated-ddl.ts; a test keeps them in step.
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
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/reception_versions', '{replica}', decoder_version)
PARTITION BY toYYYYMMDD(toDateTime(intDiv(received_at, 1000)))
ORDER BY msg_id;
