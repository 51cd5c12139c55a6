import {
  type ConfigValue,
  defineConfig,
  jsonTcpLogPrefixed,
  loadConfig,
  logSection,
  natsSection,
  openTelemetrySection,
} from '@mmm/common';
import { TOPOLOGY_BUCKET, TOPOLOGY_BUCKETS, TOPOLOGY_LEASE_TTL_S } from '@mmm/schemas';
import type { GraphSettings } from './domain/types.js';

const HOUR_S = 3600;
/** NeighborInfo goes out every 6 h by default (4 h minimum): two intervals keep a quiet link alive. */
export const DEFAULT_LINK_MAX_AGE_S = 12 * HOUR_S + 30 * 60;
export const DEFAULT_NODE_MAX_AGE_S = 7 * 24 * HOUR_S;
export const DEFAULT_SNR_WINDOW_S = 6 * HOUR_S;
export const DEFAULT_MAX_SAMPLES = 32;
/** Changes are published at most once per interval per link, agent hop table and relay table. */
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;
export const DEFAULT_BATCH = 1000;
export const DEFAULT_LINKS_INTERVAL_MS = 5000;
export const DEFAULT_DURABLE = 'route-analysis';
export const DEFAULT_OPS_PORT = 9473;
/** A standby takes over at most this long after the writer's death (plus one poll). */
export const DEFAULT_LEASE_TTL_S = TOPOLOGY_LEASE_TTL_S;

export const routeAnalysisConfig = defineConfig({
  // [json_tcp_log_<name>] log shipping, as in the original (docs/operations.md).
  prefixed: { ...jsonTcpLogPrefixed },
  sections: {
    nats: natsSection,
    log: logSection,
    opentelemetry: openTelemetrySection,
    route_analysis: {
      description: 'Topology analysis: what it reads, how long links live, how it publishes',
      fields: {
        durable: { type: 'string', default: DEFAULT_DURABLE, description: 'Durable consumer name on the hub stream' },
        link_max_age: {
          type: 'int',
          default: DEFAULT_LINK_MAX_AGE_S,
          min: 60,
          unit: 's',
          description: 'A link (and each kind of evidence for it) disappears this long after it was last measured',
        },
        node_max_age: {
          type: 'int',
          default: DEFAULT_NODE_MAX_AGE_S,
          min: 60,
          unit: 's',
          description: 'Nodes stay relay-byte candidates this long after they were last seen',
        },
        snr_window: {
          type: 'int',
          default: DEFAULT_SNR_WINDOW_S,
          min: 1,
          unit: 's',
          description: "SNR median over the samples this far back from a link's newest sample",
        },
        max_samples: {
          type: 'int',
          default: DEFAULT_MAX_SAMPLES,
          min: 1,
          max: 1000,
          description: 'SNR samples kept per link',
        },
        flush_interval: {
          type: 'int',
          default: DEFAULT_FLUSH_INTERVAL_MS,
          min: 50,
          max: 60_000,
          unit: 'ms',
          description: 'How often changes are published, the snapshot written and the processed events acked',
        },
        links_interval: {
          type: 'int',
          default: DEFAULT_LINKS_INTERVAL_MS,
          min: 0,
          unit: 'ms',
          description:
            'Least time between rewrites of the whole links array in the snapshot (per-link keys change at every flush)',
        },
        batch: {
          type: 'int',
          default: DEFAULT_BATCH,
          min: 1,
          max: 10_000,
          description: 'Events fetched from the hub stream at once',
        },
        bucket: {
          type: 'string',
          default: TOPOLOGY_BUCKET,
          description: 'KV bucket holding the public topology snapshot',
        },
        state_bucket: {
          type: 'string',
          default: TOPOLOGY_BUCKETS.state,
          description: 'KV bucket holding the analyser checkpoint (samples, agents, nodes, last stream sequence)',
        },
        lease_bucket: {
          type: 'string',
          default: TOPOLOGY_BUCKETS.lease,
          description: 'KV bucket holding the writer lease: of several copies, only its holder writes',
        },
        lease_ttl: {
          type: 'int',
          default: DEFAULT_LEASE_TTL_S,
          min: 2,
          max: 600,
          unit: 's',
          description: 'The writer renews its lease every quarter of this; a standby takes over once it lapses',
        },
        instance_id: {
          type: 'string',
          default: '',
          description: 'Names this copy in the lease and logs (default: host name and process id)',
        },
        replicas: {
          type: 'int',
          default: 1,
          min: 1,
          max: 5,
          description:
            'Replicas of the KV buckets and streams it creates (3 on a three-node hub, as mmm streams provision --replicas)',
        },
      },
    },
    ops: {
      description: 'Operations endpoints: /healthz, /readyz, /metrics',
      fields: {
        host: { type: 'string', default: '127.0.0.1', description: 'Listen address' },
        port: {
          type: 'int',
          default: DEFAULT_OPS_PORT,
          min: 0,
          max: 65535,
          description: 'Listen port (0: any free port)',
        },
        enabled: { type: 'bool', default: true, description: 'Serve the endpoints at all' },
      },
    },
  },
});

export type RouteAnalysisConfig = ConfigValue<typeof routeAnalysisConfig>;

export function loadRouteAnalysisConfig(
  file: string | undefined,
  env?: Record<string, string | undefined>,
): RouteAnalysisConfig {
  return loadConfig(routeAnalysisConfig, file, env ? { env } : {});
}

export function graphSettings(cfg: RouteAnalysisConfig): GraphSettings {
  const r = cfg.route_analysis;
  return {
    linkMaxAgeMs: r.link_max_age * 1000,
    nodeMaxAgeMs: r.node_max_age * 1000,
    snrWindowMs: r.snr_window * 1000,
    maxSamples: r.max_samples,
  };
}
