import {
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  metrics,
  type ObservableGauge,
} from '@opentelemetry/api';
import { TRACER_NAME } from './spans.js';

/**
 * The project's metric instruments (the original's plan: packets per agent, requests by route and status, auth
 * failures, consumer lag, store errors, durations). Without a started SDK they are no-ops, so services record
 * unconditionally. Names follow OpenTelemetry conventions; the Prometheus exporter renders them as e.g.
 * `mmm_packets_total`, `mmm_http_server_request_duration_bucket` (seconds).
 */
export interface MeshMetrics {
  /** One per reception published or consumed; attributes: site, agent, port. */
  readonly packets: Counter;
  /** HTTP requests; attributes: http.route, http.response.status_code, http.request.method. */
  readonly requests: Counter;
  /** Seconds per HTTP request; same attributes. */
  readonly requestDuration: Histogram;
  /** Refused API keys and tokens; attribute: reason. */
  readonly authFailures: Counter;
  /** Failed store writes or reads; attributes: store, operation. */
  readonly storeErrors: Counter;
  /** Seconds per store operation (e.g. one batch commit); attributes: store, operation. */
  readonly storeDuration: Histogram;
  /** Messages a durable consumer has not yet received or acked; reports what `watchConsumerLag` observes. */
  readonly consumerLag: ObservableGauge;
  /** Registers a lag source, read at each collection: () => [{ value, attributes: { stream, consumer } }]. */
  watchConsumerLag(read: () => Promise<LagSample[]> | LagSample[]): void;
}

export interface LagSample {
  value: number;
  attributes: Attributes;
}

/** Bucket bounds in seconds: from a fast SQLite read (1 ms) to a slow ClickHouse batch (10 s). */
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function meshMetrics(meter: Meter = metrics.getMeter(TRACER_NAME)): MeshMetrics {
  const consumerLag = meter.createObservableGauge('mmm.consumer.lag', {
    description: 'Messages pending for a durable consumer',
    unit: '{message}',
  });
  const sources: (() => Promise<LagSample[]> | LagSample[])[] = [];
  meter.addBatchObservableCallback(
    async (result) => {
      for (const read of sources) {
        try {
          for (const s of await read()) result.observe(consumerLag, s.value, s.attributes);
        } catch {
          // A broker that is down has no lag to report this round; the next collection tries again.
        }
      }
    },
    [consumerLag],
  );
  return {
    packets: meter.createCounter('mmm.packets', { description: 'Receptions handled', unit: '{packet}' }),
    requests: meter.createCounter('mmm.http.server.requests', {
      description: 'HTTP requests served',
      unit: '{request}',
    }),
    requestDuration: meter.createHistogram('mmm.http.server.request.duration', {
      description: 'HTTP request duration',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    authFailures: meter.createCounter('mmm.auth.failures', { description: 'Refused credentials', unit: '{failure}' }),
    storeErrors: meter.createCounter('mmm.store.errors', { description: 'Failed store operations', unit: '{error}' }),
    storeDuration: meter.createHistogram('mmm.store.duration', {
      description: 'Store operation duration',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    consumerLag,
    watchConsumerLag: (read) => {
      sources.push(read);
    },
  };
}
