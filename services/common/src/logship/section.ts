import type { SectionSpec } from '../config/spec.js';

/** The original's default collector port (Cribl Stream's TCP JSON source). */
export const DEFAULT_LOG_PORT = 5140;
/** Lines kept while the collector is unreachable; the oldest are dropped beyond this. */
export const DEFAULT_LOG_BUFFER_LINES = 10_000;

/**
 * `[json_tcp_log_<name>]`: newline-delimited JSON log records over TCP, one shipper per section. The keys are the
 * original's; `buffer_lines` is new (the original blocked instead of buffering).
 */
export const jsonTcpLogSection = {
  description: 'Newline-delimited JSON log records over TCP (e.g. to Cribl Stream)',
  fields: {
    host: { type: 'string', required: true, description: 'Log collector host' },
    port: { type: 'int', default: DEFAULT_LOG_PORT, min: 1, max: 65535, description: 'Log collector port' },
    application: { type: 'string', default: 'meshymcmapface', description: 'application tag on every record' },
    environment: { type: 'string', default: 'production', description: 'environment tag on every record' },
    auth_token: { type: 'string', description: 'Sent as {"auth_token": …} first after each connect', secret: true },
    use_tls: { type: 'bool', default: false, description: 'Connect with TLS' },
    verify_ssl: { type: 'bool', default: true, description: 'Verify the collector certificate and host name' },
    buffer_lines: {
      type: 'int',
      default: DEFAULT_LOG_BUFFER_LINES,
      min: 1,
      description: 'Lines held while the collector is unreachable; the oldest are dropped (and counted) beyond this',
    },
  },
} as const satisfies SectionSpec;

/** The `prefixed` entry services put in their ConfigSpec: `prefixed: { ...jsonTcpLogPrefixed }`. */
export const jsonTcpLogPrefixed = { json_tcp_log_: jsonTcpLogSection } as const;
