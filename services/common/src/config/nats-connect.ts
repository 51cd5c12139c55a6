import { ConfigError } from '../errors.js';
import type { NatsOptions } from '../nats.js';
import { natsTls } from '../nats-tls.js';

/**
 * The `[nats]` keys every service and command reads (natsSection; the agent's and the MQTT bridge's sections add
 * keys of their own around the same ones). Command-line flags are passed in this shape too, so a flag and a config
 * key mean the same thing.
 */
export interface NatsSectionValue {
  /** Server URL(s), comma-separated. */
  readonly url: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  readonly creds?: string;
  readonly inbox_prefix?: string;
  readonly tls_ca?: string;
  readonly tls_cert?: string;
  readonly tls_key?: string;
}

/**
 * connectNats options from a `[nats]` section, built the same way for every service: URL entries are trimmed and
 * empty ones dropped (a trailing comma would otherwise make nats.js try the default localhost:4222), and TLS files
 * are checked once here, at start, so a wrong path is a ConfigError rather than a connect loop.
 */
export function natsConnectOptions(section: NatsSectionValue, name: string, file?: string): NatsOptions {
  const servers = section.url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (servers.length === 0) throw new ConfigError('no server URL', { file, section: 'nats', key: 'url' });
  return {
    servers,
    name,
    user: section.user,
    pass: section.password,
    token: section.token,
    creds: section.creds,
    inboxPrefix: section.inbox_prefix,
    tls: natsTls(section, file),
  };
}
