export { type LagSample, type MeshMetrics, meshMetrics } from './metrics.js';
export { currentTraceparent, extractTraceContext, type HeaderCarrier, injectTraceHeaders } from './propagation.js';
export {
  DEFAULT_METRICS_INTERVAL_S,
  DEFAULT_OTLP_ENDPOINT,
  DEFAULT_PROMETHEUS_PORT,
  openTelemetrySection,
} from './section.js';
export {
  inBatchSpan,
  startPublishSpan,
  TRACER_NAME,
  traceLogFields,
  tracer,
  withBatchSpan,
  withConsumeSpan,
  withPublishSpan,
  withSpan,
} from './spans.js';
export { type OpenTelemetryConfig, startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.js';
