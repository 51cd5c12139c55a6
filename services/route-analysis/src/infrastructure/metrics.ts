import { createRegistry } from '@mmm/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface RouteAnalysisMetrics {
  readonly registry: Registry;
  readonly events: Counter<'result'>;
  readonly updates: Counter<'type'>;
  readonly links: Gauge;
  readonly lastSeq: Gauge;
  readonly flushSeconds: Histogram;
  readonly snapshotSkipped: Counter;
  readonly writer: Gauge;
}

export function createMetrics(): RouteAnalysisMetrics {
  const registry = createRegistry('route-analysis');
  return {
    registry,
    events: new Counter({
      name: 'mmm_route_analysis_events_total',
      help: 'Hub stream events by result: applied, duplicate (already counted), invalid (dead-lettered)',
      labelNames: ['result'],
      registers: [registry],
    }),
    updates: new Counter({
      name: 'mmm_route_analysis_updates_total',
      help: 'Topology updates published, by type',
      labelNames: ['type'],
      registers: [registry],
    }),
    links: new Gauge({ name: 'mmm_route_analysis_links', help: 'Current directed links', registers: [registry] }),
    lastSeq: new Gauge({
      name: 'mmm_route_analysis_last_seq',
      help: 'Hub stream sequence reflected in the snapshot',
      registers: [registry],
    }),
    flushSeconds: new Histogram({
      name: 'mmm_route_analysis_flush_seconds',
      help: 'Time to publish, write the snapshot and checkpoint, and ack one flush',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    snapshotSkipped: new Counter({
      name: 'mmm_route_analysis_snapshot_skipped_total',
      help: 'Snapshot values too large for one NATS message (the links array of a very large mesh)',
      registers: [registry],
    }),
    writer: new Gauge({
      name: 'mmm_route_analysis_writer',
      help: '1 while this copy holds the writer lease (consumes and writes), 0 while it stands by',
      registers: [registry],
    }),
  };
}
