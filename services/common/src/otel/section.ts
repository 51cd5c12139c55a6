import type { SectionSpec } from '../config/spec.js';

/** OTLP/HTTP collector (traces at /v1/traces, metrics at /v1/metrics). */
export const DEFAULT_OTLP_ENDPOINT = 'http://127.0.0.1:4318';
/** The OpenTelemetry Prometheus exporter's customary port. */
export const DEFAULT_PROMETHEUS_PORT = 9464;
export const DEFAULT_METRICS_INTERVAL_S = 60;

/** `[opentelemetry]`: the original's planned section, for every service. Off unless enabled. */
export const openTelemetrySection = {
  description: 'OpenTelemetry traces and metrics (trace context rides in NATS headers across services)',
  fields: {
    enabled: { type: 'bool', default: false, description: 'Record and export traces and metrics' },
    exporter: {
      type: 'string',
      default: 'otlp',
      choices: ['otlp', 'console', 'prometheus'],
      description:
        'otlp (HTTP to a collector), console (stdout, for development) or prometheus (metrics scraped from prometheus_port; traces then go to the OTLP endpoint only if otlp_traces is true)',
    },
    endpoint: { type: 'string', default: DEFAULT_OTLP_ENDPOINT, description: 'OTLP/HTTP collector base URL' },
    headers: {
      type: 'list',
      default: [],
      description: 'Extra OTLP request headers as name=value, comma-separated (e.g. authorization=Bearer …)',
    },
    sampling_ratio: {
      type: 'number',
      default: 1,
      min: 0,
      max: 1,
      description: 'Share of new traces recorded (a sampled parent is always followed)',
    },
    service_name: {
      type: 'string',
      description: 'service.name resource attribute (default: the service, e.g. mmm-ingest)',
    },
    metrics_interval: {
      type: 'int',
      default: DEFAULT_METRICS_INTERVAL_S,
      min: 1,
      unit: 's',
      description: 'How often metrics are pushed (otlp, console)',
    },
    prometheus_port: {
      type: 'int',
      default: DEFAULT_PROMETHEUS_PORT,
      min: 1,
      max: 65535,
      description: 'Port of the metrics endpoint when exporter = prometheus',
    },
    prometheus_host: {
      type: 'string',
      default: '127.0.0.1',
      description: 'Address the Prometheus endpoint listens on',
    },
    otlp_traces: {
      type: 'bool',
      default: false,
      description: 'With exporter = prometheus, still send traces to the OTLP endpoint',
    },
  },
} as const satisfies SectionSpec;
