import { natsTlsFields } from '../nats-tls.js';
import type { SectionSpec } from './spec.js';

/** `[nats]`: how a service reaches its NATS server. */
export const natsSection = {
  description: 'NATS connection',
  fields: {
    url: { type: 'string', default: 'nats://127.0.0.1:4222', description: 'Server URL(s), comma-separated' },
    user: { type: 'string', description: 'User name (with password)' },
    password: { type: 'string', description: 'Password', secret: true },
    token: { type: 'string', description: 'Auth token', secret: true },
    creds: { type: 'string', description: 'Path of a .creds file (JWT + nkey seed)' },
    inbox_prefix: {
      type: 'string',
      description: 'Reply subject prefix (e.g. _INBOX_<user>, as mmm creds writes it); default _INBOX',
    },
    ...natsTlsFields,
  },
} as const satisfies SectionSpec;

/** `[log]`: defaults for --log-level / --log-file. */
export const logSection = {
  description: 'Logging (command-line flags take precedence)',
  fields: {
    level: { type: 'string', default: 'info', description: 'trace, debug, info, warn, error, fatal' },
    file: { type: 'string', description: 'Also write JSON lines to this file, rotated at 10 MB, 5 kept' },
  },
} as const satisfies SectionSpec;
