import { createRegistry } from '@mmm/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface IngestMetrics {
  readonly registry: Registry;
  readonly events: Counter<'kind' | 'port'>;
  readonly deadLetters: Counter<string>;
  readonly batches: Counter<string>;
  readonly rows: Counter<'table'>;
  readonly duplicates: Counter<string>;
  readonly storeErrors: Counter<string>;
  readonly released: Counter<string>;
  readonly batchSeconds: Histogram<string>;
  readonly pending: Gauge<string>;
  readonly ackPending: Gauge<string>;
  readonly retentionDropped: Counter<'table'>;
  readonly lastCommit: Gauge<string>;
  readonly rebinds: Counter<'reason'>;
}

export function createMetrics(): IngestMetrics {
  const registry = createRegistry('ingest');
  const registers = [registry];
  return {
    registry,
    events: new Counter({
      name: 'ingest_events_total',
      help: 'Events consumed, by kind and port',
      labelNames: ['kind', 'port'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'ingest_dead_letters_total',
      help: 'Invalid events sent to the dead-letter subject',
      registers,
    }),
    batches: new Counter({ name: 'ingest_batches_total', help: 'Batches committed to the store', registers }),
    rows: new Counter({ name: 'ingest_rows_total', help: 'Rows written, by table', labelNames: ['table'], registers }),
    duplicates: new Counter({
      name: 'ingest_duplicate_receptions_total',
      help: 'Receptions already stored (redeliveries)',
      registers,
    }),
    storeErrors: new Counter({ name: 'ingest_store_errors_total', help: 'Failed store writes (retried)', registers }),
    released: new Counter({
      name: 'ingest_released_messages_total',
      help: 'Messages of batches held past the hold deadline (half of ack_wait) and released unwritten with a nak',
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'ingest_batch_seconds',
      help: 'Time to store one batch',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    pending: new Gauge({
      name: 'ingest_consumer_pending',
      help: 'Messages in the stream not yet delivered to ingest (lag)',
      registers,
    }),
    ackPending: new Gauge({
      name: 'ingest_consumer_ack_pending',
      help: 'Messages delivered but not yet acked',
      registers,
    }),
    retentionDropped: new Counter({
      name: 'ingest_retention_dropped_total',
      help: 'Partitions (ClickHouse) or rows (SQLite) removed by retention',
      labelNames: ['table'],
      registers,
    }),
    lastCommit: new Gauge({
      name: 'ingest_last_commit_timestamp_seconds',
      help: 'When the last batch was committed',
      registers,
    }),
    rebinds: new Counter({
      name: 'ingest_consumer_rebinds_total',
      help: 'Times the durable consumer was bound again after a broker fault (node loss, consumer leader change)',
      labelNames: ['reason'],
      registers,
    }),
  };
}
