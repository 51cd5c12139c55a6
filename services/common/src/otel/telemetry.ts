import { context, metrics, propagation, trace } from '@opentelemetry/api';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SectionValue } from '../config/spec.js';
import { ConfigError } from '../errors.js';
import { VERSION } from '../version.js';
import type { openTelemetrySection } from './section.js';

export type OpenTelemetryConfig = SectionValue<typeof openTelemetrySection>;

export interface TelemetryOptions {
  /** e.g. "mmm-ingest"; the section's service_name wins. */
  serviceName: string;
  /** Replace the configured span export (tests pass a SimpleSpanProcessor over an InMemorySpanExporter). */
  spanProcessors?: SpanProcessor[];
  /** Replace the configured metric reader. */
  metricReaders?: IMetricReader[];
  /** Resource attributes added to every span and metric (site, agent, …). */
  attributes?: Record<string, string>;
}

export interface Telemetry {
  readonly enabled: boolean;
  /** Flushes and stops exporting; the global API falls back to no-ops so telemetry can start again. */
  shutdown(): Promise<void>;
}

const DISABLED: Telemetry = { enabled: false, shutdown: async () => {} };

function otlpHeaders(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0)
      throw new ConfigError(`must be name=value pairs, got ${JSON.stringify(item)}`, {
        section: 'opentelemetry',
        key: 'headers',
      });
    out[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return out;
}

/**
 * Starts the OpenTelemetry SDK for one service from its `[opentelemetry]` section: traces sampled by
 * `sampling_ratio` (parent-based, so a trace started upstream is followed), exported over OTLP/HTTP, to the
 * console, or (exporter = prometheus) metrics served for scraping. No auto-instrumentation: the spans that matter
 * cross NATS, and the helpers in spans.ts create them. Returns a handle whose shutdown flushes.
 * The SDK is loaded only when enabled: it costs about 400 ms and 30 MB, which a service with telemetry off should
 * not pay. Configuration errors (bad headers) are thrown before anything starts.
 */
export async function startTelemetry(
  config: OpenTelemetryConfig | undefined,
  opts: TelemetryOptions,
): Promise<Telemetry> {
  if (!config?.enabled && !opts.spanProcessors && !opts.metricReaders) return DISABLED;
  const cfg =
    config ??
    ({
      exporter: 'console',
      endpoint: '',
      headers: [],
      sampling_ratio: 1,
      metrics_interval: 60,
      otlp_traces: false,
    } as unknown as OpenTelemetryConfig);
  const headers = otlpHeaders(cfg.headers ?? []);
  const base = (cfg.endpoint ?? '').replace(/\/$/, '');
  const intervalMs = (cfg.metrics_interval ?? 60) * 1000;
  const [
    { W3CTraceContextPropagator },
    { OTLPMetricExporter },
    { PrometheusExporter },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    sdkMetrics,
    { NodeSDK },
    sdkTrace,
  ] = await Promise.all([
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
    import('@opentelemetry/exporter-prometheus'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  const { BatchSpanProcessor, ConsoleSpanExporter, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler } =
    sdkTrace;
  const { ConsoleMetricExporter, PeriodicExportingMetricReader } = sdkMetrics;

  let spanProcessors = opts.spanProcessors;
  if (!spanProcessors) {
    if (cfg.exporter === 'console') spanProcessors = [new SimpleSpanProcessor(new ConsoleSpanExporter())];
    else if (cfg.exporter === 'otlp' || cfg.otlp_traces) {
      spanProcessors = [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces`, headers }))];
    } else spanProcessors = [];
  }
  let metricReaders = opts.metricReaders;
  if (!metricReaders) {
    if (cfg.exporter === 'prometheus') {
      metricReaders = [new PrometheusExporter({ host: cfg.prometheus_host, port: cfg.prometheus_port })];
    } else {
      const exporter =
        cfg.exporter === 'console'
          ? new ConsoleMetricExporter()
          : new OTLPMetricExporter({ url: `${base}/v1/metrics`, headers });
      metricReaders = [
        new PeriodicExportingMetricReader({
          exporter,
          exportIntervalMillis: intervalMs,
          exportTimeoutMillis: Math.min(intervalMs, 30_000),
        }),
      ];
    }
  }

  const sdk = new NodeSDK({
    serviceName: cfg.service_name ?? opts.serviceName,
    resource: resourceFromAttributes({
      'service.name': cfg.service_name ?? opts.serviceName,
      'service.version': VERSION,
      ...opts.attributes,
    }),
    // Resource detection probes the host and cloud metadata asynchronously; the attributes above are what we use.
    autoDetectResources: false,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(cfg.sampling_ratio ?? 1) }),
    spanProcessors,
    metricReaders,
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations: [],
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: () =>
      (stopped ??= sdk.shutdown().finally(() => {
        trace.disable();
        metrics.disable();
        propagation.disable();
        context.disable();
      })),
  };
}
