import {
  type ConfigValue,
  defineConfig,
  jsonTcpLogPrefixed,
  logSection,
  natsSection,
  openTelemetrySection,
} from '@mmm/common';
import { streams } from '@mmm/schemas';

export const DEFAULT_DURABLE = 'ingest';
/** ClickHouse's advice: about one insert per second of 10k-100k rows. */
export const DEFAULT_BATCH_MAX = 10_000;
/** SQLite's own default is 2 MB; the indexes of a month of receptions are far larger. */
export const DEFAULT_SQLITE_CACHE_MB = 64;
export const DEFAULT_BATCH_MS = 1_000;
export const DEFAULT_ACK_WAIT_S = 60;
export const DEFAULT_OPS_PORT = 9403;
export const DEFAULT_SQLITE_PATH = './data/history.db';
export const DEFAULT_RAW_DAYS = 30;
export const DEFAULT_ROLLUP_DAYS = 365;
export const DEFAULT_RETENTION_INTERVAL_S = 3_600;

export const ingestConfigSpec = defineConfig({
  // [json_tcp_log_<name>] log shipping, as in the original (docs/operations.md).
  prefixed: { ...jsonTcpLogPrefixed },
  sections: {
    nats: natsSection,
    log: logSection,
    opentelemetry: openTelemetrySection,
    ingest: {
      description: 'Consuming the hub stream',
      fields: {
        stream: { type: 'string', default: streams.hub, description: 'Hub stream to consume' },
        durable: {
          type: 'string',
          default: DEFAULT_DURABLE,
          description: 'Durable pull consumer name (one per store)',
        },
        ensure_streams: {
          type: 'bool',
          default: true,
          description:
            'Create the dead-letter stream, and the hub stream (capturing the subjects of [ingest] sites) when absent; existing streams are never changed',
        },
        sites: {
          type: 'list',
          default: [],
          description:
            'Sites whose events are published straight to this server (single-machine setups): the hub stream ingest creates captures mesh.v1.<site>.>',
        },
        batch_max: {
          type: 'int',
          default: DEFAULT_BATCH_MAX,
          min: 1,
          max: 100_000,
          description: 'Events per batch at most',
        },
        batch_ms: {
          type: 'int',
          default: DEFAULT_BATCH_MS,
          min: 50,
          max: 60_000,
          unit: 'ms',
          description: 'Longest wait to fill a batch after its first event',
        },
        ack_wait: {
          type: 'int',
          default: DEFAULT_ACK_WAIT_S,
          min: 5,
          unit: 's',
          description: 'Redelivery after this long without an ack',
        },
        ops_host: { type: 'string', default: '127.0.0.1', description: 'Address of /healthz, /readyz and /metrics' },
        ops_port: {
          type: 'int',
          default: DEFAULT_OPS_PORT,
          min: 0,
          max: 65_535,
          description: 'Port of /healthz, /readyz and /metrics (0 = any free port)',
        },
      },
    },
    clickhouse: {
      description: 'ClickHouse history store; used when url is set, otherwise SQLite',
      fields: {
        url: {
          type: 'string',
          description:
            'HTTP URL, e.g. http://127.0.0.1:8123; with layout = replicated a comma-separated list of replicas, written to one at a time and failed over in order',
        },
        layout: {
          type: 'string',
          default: 'single',
          choices: ['single', 'replicated'],
          description:
            'single: schemas/ddl/clickhouse (MergeTree); replicated: schemas/ddl/clickhouse-replicated (ReplicatedMergeTree via ZooKeeper; every server needs <macros> shard and replica)',
        },
        database: { type: 'string', default: 'mmm', description: 'Database (created if absent)' },
        user: { type: 'string', default: 'default', description: 'User' },
        password: { type: 'string', default: '', description: 'Password', secret: true },
      },
    },
    sqlite: {
      description: 'SQLite history store (the embedded default)',
      fields: {
        path: {
          type: 'string',
          default: DEFAULT_SQLITE_PATH,
          description: 'Database file (created with its directory)',
        },
        cache_mb: {
          type: 'int',
          default: DEFAULT_SQLITE_CACHE_MB,
          min: 2,
          max: 65_536,
          unit: 'MB',
          description:
            "Page cache of ingest's connection; the tables' indexes take keys in random order, so a cache that holds their hot pages saves a read per insert",
        },
      },
    },
    retention: {
      description: 'How long history is kept',
      fields: {
        raw_days: {
          type: 'int',
          default: DEFAULT_RAW_DAYS,
          min: 1,
          unit: 'days',
          description: 'Receptions, packets and every per-event table',
        },
        rollup_days: { type: 'int', default: DEFAULT_ROLLUP_DAYS, min: 1, unit: 'days', description: 'Hourly rollups' },
        interval: {
          type: 'int',
          default: DEFAULT_RETENTION_INTERVAL_S,
          min: 10,
          unit: 's',
          description: 'How often old data is dropped',
        },
      },
    },
  },
});

export type IngestConfig = ConfigValue<typeof ingestConfigSpec>;
