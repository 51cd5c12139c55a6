import { readFileSync } from 'node:fs';
import {
  type ConsumerConfig,
  type ConsumerInfo,
  connect,
  credsAuthenticator,
  ErrorCode,
  type JetStreamManager,
  type NatsConnection,
  type StreamConfig,
  type StreamInfo,
} from 'nats';
import type { Logger } from 'pino';
import { BrokerError, NatsTlsError } from './errors.js';
import type { NatsTlsOptions } from './nats-tls.js';

export interface NatsOptions {
  servers: string | string[];
  name: string;
  user?: string;
  pass?: string;
  token?: string;
  /** Path of a .creds file (JWT + nkey seed). */
  creds?: string;
  /**
   * Replies (requests, JetStream acks and pulls) arrive on `<inboxPrefix>.<id>` instead of `_INBOX.<id>`, so a
   * credential can be allowed its own `_INBOX_<user>.>` and denied everyone else's.
   */
  inboxPrefix?: string;
  /** Give up connecting at start after this long; once connected, reconnect forever. */
  connectTimeoutMs?: number;
  /** Set: the connection must be TLS, verified with this CA (or the system's), optionally with a client certificate. */
  tls?: NatsTlsOptions;
}

/** JetStream API error code for "stream not found". */
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

/** Connects with endless reconnects and logs every status change; a site's link may be down for hours. */
export async function connectNats(opts: NatsOptions, log?: Logger): Promise<NatsConnection> {
  const deadline = Date.now() + (opts.connectTimeoutMs ?? 30_000);
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const nc = await connect({
        servers: opts.servers,
        name: opts.name,
        user: opts.user,
        pass: opts.pass,
        token: opts.token,
        authenticator: opts.creds ? credsAuthenticator(readFileSync(opts.creds)) : undefined,
        ...(opts.inboxPrefix ? { inboxPrefix: opts.inboxPrefix } : {}),
        ...(opts.tls ? { tls: { ...opts.tls } } : {}),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        reconnectJitter: 500,
        pingInterval: 20_000,
        waitOnFirstConnect: false,
        // nats.js otherwise captures two stack traces per request (every JetStream publish is one) in case it
        // times out: ~15 % of the agent's CPU and much of its garbage. Timeouts still fail with a NatsError.
        noAsyncTraces: true,
      });
      void (async () => {
        for await (const s of nc.status()) {
          if (s.type === 'pingTimer') continue;
          log?.info({ nats: s.type, data: typeof s.data === 'string' ? s.data : undefined }, 'nats status');
        }
      })();
      log?.info({ server: nc.getServer() }, 'connected to nats');
      return nc;
    } catch (err) {
      lastErr = err;
      const code = (err as { code?: string }).code;
      if (code === 'AUTHORIZATION_VIOLATION' || code === 'AUTHENTICATION_EXPIRED') break;
      // A certificate the CA did not sign or a server without TLS stays so: fail now, not after the timeout.
      const tlsWhy = tlsFailure(err, opts.tls);
      if (tlsWhy) {
        throw new NatsTlsError(
          `TLS with NATS at ${String(opts.servers)} failed: ${tlsWhy} (check [nats] tls_ca, tls_cert, tls_key and the server's tls { } block)`,
          { cause: err },
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new BrokerError(
    `cannot connect to NATS at ${String(opts.servers)}: ${(lastErr as Error)?.message ?? 'timeout'}`,
    {
      cause: lastErr,
    },
  );
}

/** Node's certificate verification codes (tls.TLSSocket authorizationError), all permanent for a given setup. */
const CERT_CODES = /^(ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|CERT_|ERR_OSSL_)/;

/** Why a connect failed for TLS reasons, or undefined when it did not. */
function tlsFailure(err: unknown, tls: NatsTlsOptions | undefined): string | undefined {
  for (let e = err as { code?: unknown; message?: string; cause?: unknown } | undefined; e; e = e.cause as never) {
    if (typeof e.code === 'string' && CERT_CODES.test(e.code)) return `${e.code}: ${e.message}`;
  }
  const e = err as { code?: string; message?: string };
  // nats.js: TLS was asked for (tls options) but the server offers none.
  if (tls && e.code === ErrorCode.ServerOptionNotAvailable && /tls/i.test(e.message ?? ''))
    return 'the server does not offer TLS';
  return undefined;
}

function apiCode(err: unknown): number | undefined {
  return (err as { api_error?: { err_code?: number } }).api_error?.err_code;
}

/** Creates the stream, or updates it when its config differs; safe to run at every start. */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<StreamInfo> {
  let info: StreamInfo | undefined;
  try {
    info = await jsm.streams.info(config.name);
  } catch (err) {
    if (apiCode(err) !== STREAM_NOT_FOUND) throw new BrokerError(`cannot read stream ${config.name}`, { cause: err });
  }
  try {
    if (!info) return await jsm.streams.add(config);
    const differs = Object.entries(config).some(
      ([k, v]) => JSON.stringify((info!.config as unknown as Record<string, unknown>)[k]) !== JSON.stringify(v),
    );
    return differs ? await jsm.streams.update(config.name, { ...info.config, ...config }) : info;
  } catch (err) {
    throw new BrokerError(`cannot create or update stream ${config.name}: ${(err as Error).message}`, { cause: err });
  }
}

/** Creates a durable consumer if absent, otherwise updates what may change. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<ConsumerInfo> {
  try {
    await jsm.consumers.info(stream, config.durable_name);
    return await jsm.consumers.update(stream, config.durable_name, config);
  } catch (err) {
    if (apiCode(err) !== CONSUMER_NOT_FOUND) {
      throw new BrokerError(`cannot create consumer ${config.durable_name} on ${stream}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return jsm.consumers.add(stream, config);
}
