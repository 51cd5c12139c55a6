import type { ConsumerConfig, ConsumerInfo, JetStreamManager, StreamConfig, StreamInfo } from 'nats';
import type { Logger } from 'pino';
import { BrokerError } from './errors.js';
import { ensureConsumer, ensureStream } from './nats.js';

/**
 * A stream, consumer or bucket a service needs is missing and its NATS user may not create it. With least-privilege
 * credentials (mmm creds) only an admin creates them, with `mmm streams provision`.
 */
export class NotProvisionedError extends BrokerError {
  /** Stays a BrokerError for callers that handle those; this tells the two apart. */
  readonly notProvisioned = true;
}

const HINT = 'provision it with `mmm streams provision` (hub) or `mmm streams provision-site` (a site leaf), as admin';

/** A request the server refused for the user's permissions (nats.js fails the request at once with this code). */
export function isPermissionError(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 'PERMISSIONS_VIOLATION' || /permissions violation/i.test(String(e.message ?? ''))) return true;
  }
  return false;
}

function differs(have: object, want: object): boolean {
  return Object.entries(want).some(
    ([k, v]) => JSON.stringify((have as Record<string, unknown>)[k]) !== JSON.stringify(v),
  );
}

/**
 * The embedded, unauthenticated setup creates or updates the stream as before. A user that may only look it up binds
 * to what exists (warning when its config differs from this service's) and fails with a NotProvisionedError naming
 * the provisioning command when it is missing.
 */
export async function bindOrEnsureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
  log?: Logger,
): Promise<StreamInfo> {
  try {
    return await ensureStream(jsm, config);
  } catch (err) {
    if (!isPermissionError(err)) throw err;
    const info = await jsm.streams.info(config.name).catch(() => undefined);
    if (!info) {
      throw new NotProvisionedError(
        `stream ${config.name} does not exist and this NATS user may not create it: ${HINT}`,
        { cause: err },
      );
    }
    log?.warn(
      { stream: config.name },
      'stream config differs from this service and this NATS user may not change it: using it as provisioned',
    );
    return info;
  }
}

/** As bindOrEnsureStream, for a durable consumer; an unchanged consumer is only looked up, never re-sent. */
export async function bindOrEnsureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
  log?: Logger,
): Promise<ConsumerInfo> {
  const have = await jsm.consumers.info(stream, config.durable_name).catch((err: unknown) => {
    if (isPermissionError(err)) {
      throw new NotProvisionedError(
        `this NATS user may not look up consumer ${config.durable_name} on ${stream}: check its permissions (mmm creds)`,
        { cause: err },
      );
    }
    return undefined;
  });
  if (have && !differs(have.config, config)) return have;
  try {
    return await ensureConsumer(jsm, stream, config);
  } catch (err) {
    if (!isPermissionError(err)) throw err;
    if (!have) {
      throw new NotProvisionedError(
        `consumer ${config.durable_name} on stream ${stream} does not exist and this NATS user may not create it: ${HINT}`,
        { cause: err },
      );
    }
    log?.warn(
      { stream, consumer: config.durable_name },
      'consumer config differs from this service and this NATS user may not change it: using it as provisioned',
    );
    return have;
  }
}
