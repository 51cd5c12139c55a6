export { envName, type LoadOptions, loadConfig, parseConfig, sampleConfig } from './config/load.js';
export { type NatsSectionValue, natsConnectOptions } from './config/nats-connect.js';
export { logSection, natsSection } from './config/sections.js';
export { type ConfigSpec, type ConfigValue, defineConfig, type FieldSpec, type SectionSpec } from './config/spec.js';
export {
  consumeDurable,
  DEFAULT_PULL_EXPIRES_MS,
  DEFAULT_STALL_MS,
  type DurableConsumeOptions,
  sleepUnlessAborted,
} from './durable-consume.js';
export { BrokerError, ConfigError, NatsTlsError } from './errors.js';
export { createLogger, LOG_LEVELS, type Logger, type LogOptions, normaliseLevel } from './log.js';
export {
  createLogShippers,
  DEFAULT_LOG_BUFFER_LINES,
  DEFAULT_LOG_PORT,
  type JsonTcpLogConfig,
  JsonTcpShipper,
  type JsonTcpShipperOptions,
  jsonTcpLogPrefixed,
  jsonTcpLogSection,
  logShippersFromConfig,
  type ShipperStats,
} from './logship/index.js';
export { connectNats, ensureConsumer, ensureStream, type NatsOptions } from './nats.js';
export { type NatsTlsOptions, natsTls, natsTlsFields } from './nats-tls.js';
export { createRegistry, type OpsServerOptions, startOpsServer } from './ops-http.js';
export {
  currentTraceparent,
  extractTraceContext,
  type HeaderCarrier,
  inBatchSpan,
  injectTraceHeaders,
  type LagSample,
  type MeshMetrics,
  meshMetrics,
  type OpenTelemetryConfig,
  openTelemetrySection,
  startPublishSpan,
  startTelemetry,
  type Telemetry,
  type TelemetryOptions,
  TRACER_NAME,
  traceLogFields,
  tracer,
  withBatchSpan,
  withConsumeSpan,
  withPublishSpan,
  withSpan,
} from './otel/index.js';
export {
  DEFAULT_PROGRESS_EVERY_MS,
  Progress,
  type ProgressOptions,
  type ProgressSink,
  type ProgressState,
} from './progress.js';
export {
  bindOrEnsureConsumer,
  bindOrEnsureStream,
  isPermissionError,
  NotProvisionedError,
} from './provisioned.js';
export {
  DEFAULT_PUBLISH_WINDOW,
  JetStreamPublisher,
  PublisherClosedError,
  type PublisherOptions,
} from './publisher.js';
export { runService, type ServiceCliOptions, serviceOptions } from './service.js';
export { SHUTDOWN_GRACE_MS, Shutdown } from './shutdown.js';
export { readStreamRange, type StreamRangeOptions, type StreamRangeResult } from './stream-range.js';
export { VERSION } from './version.js';
