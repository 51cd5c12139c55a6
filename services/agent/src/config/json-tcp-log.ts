import type { SectionSpec } from '@mmm/common';

/**
 * `[json_tcp_log_<name>]`: the original's JSON-over-TCP log shipping. The keys are accepted here so the original's
 * INI loads unchanged; the shipping itself belongs to the shared logging code (engineer "ops").
 */
export const jsonTcpLogSection = {
  description: 'Newline-delimited JSON log records over TCP (e.g. to Cribl Stream)',
  fields: {
    host: { type: 'string', required: true, description: 'Log collector host' },
    port: { type: 'int', default: 5140, min: 1, max: 65535, description: 'Log collector port' },
    application: { type: 'string', default: 'meshymcmapface', description: 'application tag on every record' },
    environment: { type: 'string', default: 'production', description: 'environment tag on every record' },
    auth_token: { type: 'string', description: 'Sent as {"auth_token": …} first after each connect', secret: true },
    use_tls: { type: 'bool', default: false, description: 'Connect with TLS' },
    verify_ssl: { type: 'bool', default: true, description: 'Verify the collector certificate and host name' },
  },
} as const satisfies SectionSpec;
