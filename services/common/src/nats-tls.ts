import { accessSync, constants } from 'node:fs';
import { ConfigError } from './errors.js';

/** TLS towards the NATS server: the CA to verify it with, and a client certificate where the server requires one. */
export interface NatsTlsOptions {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** The `[nats]` keys for TLS, shared by every service's section (the agent's has more keys of its own). */
export const natsTlsFields = {
  tls_ca: {
    type: 'string',
    description: 'CA file (PEM) to verify the server with; set: the connection must be TLS',
  },
  tls_cert: { type: 'string', description: 'Client certificate (PEM) for servers that require one (mutual TLS)' },
  tls_key: { type: 'string', description: 'Key of tls_cert (PEM)', secret: true },
} as const;

/**
 * The nats.js TLS options from a `[nats]` section, checked once at start: a missing or unreadable file, or a
 * certificate without its key, is a configuration error rather than a connect loop that can never succeed.
 */
export function natsTls(
  s: { readonly tls_ca?: string; readonly tls_cert?: string; readonly tls_key?: string },
  file?: string,
): NatsTlsOptions | undefined {
  if (!s.tls_ca && !s.tls_cert && !s.tls_key) return undefined;
  if (!!s.tls_cert !== !!s.tls_key) {
    throw new ConfigError('tls_cert and tls_key go together', {
      file,
      section: 'nats',
      key: s.tls_cert ? 'tls_key' : 'tls_cert',
    });
  }
  for (const key of ['tls_ca', 'tls_cert', 'tls_key'] as const) {
    const path = s[key];
    if (!path) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (err) {
      throw new ConfigError(`cannot read ${path}`, { file, section: 'nats', key }, { cause: err });
    }
  }
  return { caFile: s.tls_ca, certFile: s.tls_cert, keyFile: s.tls_key };
}
