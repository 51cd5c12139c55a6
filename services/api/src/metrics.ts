import { createRegistry } from '@mmm/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  eventsConsumed: Counter<'kind' | 'port'>;
  badEvents: Counter<'reason'>;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  httpDuration: Histogram<'route'>;
  wsClients: Gauge;
  wsResyncs: Counter;
  consumerLag: Gauge<'stream'>;
  storeErrors: Counter<'op'>;
  legacyPublished: Counter<'kind'>;
  authFailures: Counter<'reason' | 'access'>;
  authRateLimited: Counter<'access'>;
  authReloads: Counter<'result'>;
  authTokens: Gauge;
}

export function createMetrics(): ApiMetrics {
  const registry = createRegistry('api');
  const r = [registry];
  return {
    registry,
    eventsConsumed: new Counter({
      name: 'mmm_api_events_consumed_total',
      help: 'Events applied to the projection',
      labelNames: ['kind', 'port'],
      registers: r,
    }),
    badEvents: new Counter({
      name: 'mmm_api_bad_events_total',
      help: 'Messages that were not valid events (dead-lettered)',
      labelNames: ['reason'],
      registers: r,
    }),
    httpRequests: new Counter({
      name: 'mmm_api_http_requests_total',
      help: 'HTTP requests',
      labelNames: ['route', 'method', 'status'],
      registers: r,
    }),
    httpDuration: new Histogram({
      name: 'mmm_api_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    wsClients: new Gauge({ name: 'mmm_api_ws_clients', help: 'Connected live-feed clients', registers: r }),
    wsResyncs: new Counter({
      name: 'mmm_api_ws_resyncs_total',
      help: 'Live clients resynced after overflowing their queue',
      registers: r,
    }),
    consumerLag: new Gauge({
      name: 'mmm_api_consumer_lag',
      help: 'Messages not yet delivered to this instance',
      labelNames: ['stream'],
      registers: r,
    }),
    storeErrors: new Counter({
      name: 'mmm_api_store_errors_total',
      help: 'Projection or history store errors',
      labelNames: ['op'],
      registers: r,
    }),
    legacyPublished: new Counter({
      name: 'mmm_api_legacy_published_total',
      help: 'Events published for legacy agents',
      labelNames: ['kind'],
      registers: r,
    }),
    authFailures: new Counter({
      name: 'mmm_api_auth_failures_total',
      help: 'Requests refused for their token: missing, invalid (counted against the address), or lacking the scope',
      labelNames: ['reason', 'access'],
      registers: r,
    }),
    authRateLimited: new Counter({
      name: 'mmm_api_auth_rate_limited_total',
      help: 'Requests answered 429 because their address sent too many wrong tokens',
      labelNames: ['access'],
      registers: r,
    }),
    authReloads: new Counter({
      name: 'mmm_api_auth_reloads_total',
      help: 'Reloads of the tokens file (SIGHUP or a change); on error the previous tokens stay in force',
      labelNames: ['result'],
      registers: r,
    }),
    authTokens: new Gauge({ name: 'mmm_api_auth_tokens', help: 'Tokens in force (all scopes)', registers: r }),
  };
}
