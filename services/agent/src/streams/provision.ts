import { bindOrEnsureStream, ensureConsumer, ensureStream, type Logger } from '@mmm/common';
import {
  ALERT_BUCKETS,
  ALERTS_STREAM,
  alertSubjects,
  consumers,
  DUPLICATE_WINDOW_MS,
  streams,
  subjects,
  TOPOLOGY_BUCKETS,
  TOPOLOGY_LEASE_TTL_S,
} from '@mmm/schemas';
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  nanos,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from 'nats';

export interface SiteStreamLimits {
  maxAgeMs?: number;
  maxBytes?: number;
}

/** The site stream's config: every event of the site, file storage, deduped by Msg-Id. */
function siteStreamConfig(site: string, limits: SiteStreamLimits) {
  return {
    name: streams.site(site),
    subjects: [subjects.siteAll(site)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    max_age: nanos(limits.maxAgeMs ?? 0),
    max_bytes: limits.maxBytes ?? -1,
  };
}

/**
 * The site's durable buffer on its leaf. The agent runs this at start: without credentials (the embedded setup) it
 * creates or updates the stream; an agent user of `mmm creds` may only look it up, so there the site admin
 * provisions it first (`mmm streams provision-site`), and a missing stream fails naming that command.
 */
export function ensureSiteStream(
  jsm: JetStreamManager,
  site: string,
  limits: SiteStreamLimits = {},
  log?: Logger,
): Promise<StreamInfo> {
  return bindOrEnsureStream(jsm, siteStreamConfig(site, limits), log);
}

/** Creates or updates the site stream on its leaf, as the site's admin. */
export function provisionSite(jsm: JetStreamManager, site: string, limits: SiteStreamLimits = {}): Promise<StreamInfo> {
  return ensureStream(jsm, siteStreamConfig(site, limits));
}

export interface HubProvisionOptions {
  sites: readonly string[];
  /** Sites whose publishers talk to the hub directly (the API's legacy agent site): MESH captures their subjects. */
  hubSites?: readonly string[];
  /** Replicas of the hub streams (3 on the hub cluster, 1 on a single hub). */
  replicas?: number;
}

/**
 * The hub's streams: `MESH` sources every site stream from its leaf's JetStream domain (the hub applies its own
 * duplicate window to sourced messages), `MESH_DERIVED` and `MESH_DLQ`. Re-running with more sites adds sources.
 */
export async function provisionHub(jsm: JetStreamManager, opts: HubProvisionOptions): Promise<StreamInfo[]> {
  const replicas = opts.replicas ?? 1;
  const common = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  const wanted = [...new Set(opts.sites)].sort().map((site) => ({
    name: streams.site(site),
    // The deliver prefix names the site, so its leafnode link may carry exactly its own sourced messages.
    external: { api: `$JS.${streams.domain(site)}.API`, deliver: streams.sourceDeliverPrefix(site) },
  }));
  // Sources (and subjects) someone else added stay: provisioning one site must not cut off another.
  const existing = await jsm.streams.info(streams.hub).catch(() => undefined);
  const kept = (existing?.config.sources ?? []).filter((s) => !wanted.some((w) => w.name === s.name));
  const subjectsWanted = [...new Set(opts.hubSites ?? [])].sort().map((site) => subjects.siteAll(site));
  const keptSubjects = (existing?.config.subjects ?? []).filter((s) => !subjectsWanted.includes(s));
  const allSubjects = [...keptSubjects, ...subjectsWanted];
  const hub = await ensureStream(jsm, {
    name: streams.hub,
    ...common,
    sources: [...kept, ...wanted],
    ...(allSubjects.length > 0 ? { subjects: allSubjects } : {}),
  });
  const derived = await ensureStream(jsm, { name: streams.derived, subjects: [...streams.derivedSubjects], ...common });
  const dlq = await ensureStream(jsm, {
    name: streams.deadLetters,
    subjects: [...streams.deadLetterSubjects],
    ...common,
  });
  const alerts = await ensureStream(jsm, { name: ALERTS_STREAM, subjects: [alertSubjects.all], ...common });
  return [hub, derived, dlq, alerts];
}

/**
 * The hub durables the services pull from, with the configs the services ask for at start by default (ingest:
 * `[ingest] durable`, ack_wait 60 s, batch_max 10,000; api: `api-<instance_id>` per stream). A service whose user may
 * not change them binds to these and warns if its own config differs. Route-analysis re-creates its durable at every
 * start (it resumes from its own checkpoint), so it is not made here.
 */
export function hubDurables(
  apiInstances: readonly string[] = ['api'],
): { stream: string; config: Partial<ConsumerConfig> & { durable_name: string } }[] {
  const ns30 = nanos(30_000);
  return [
    {
      stream: streams.hub,
      config: {
        durable_name: consumers.ingest,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(60_000),
        max_deliver: -1,
        max_ack_pending: 20_000,
      },
    },
    ...apiInstances.flatMap((id) =>
      [
        [streams.hub, consumers.api(id)],
        [streams.derived, consumers.apiDerived(id)],
      ].map(([stream, durable]) => ({
        stream: stream!,
        config: {
          durable_name: durable!,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: ns30,
          max_ack_pending: 20_000,
        },
      })),
    ),
  ];
}

/**
 * The durables of public readers (consumer-public of mmm creds), which may not create their own: the latest event per
 * subject first (every agent's last node DB and status, the current topology; traceroutes from the start), then new.
 */
export function publicReaderDurables(readers: readonly string[]): {
  stream: string;
  config: Partial<ConsumerConfig> & { durable_name: string };
}[] {
  return readers.flatMap((r) =>
    consumers.publicReader(r).map((c) => ({
      stream: c.stream,
      config: {
        durable_name: c.name,
        filter_subject: c.filter,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: c.name.endsWith('_trace') ? DeliverPolicy.All : DeliverPolicy.LastPerSubject,
        ack_wait: nanos(30_000),
        max_ack_pending: 1000,
      },
    })),
  );
}

/**
 * Everything the hub services use at run time but may not create themselves: their durables (created when absent,
 * updated to these configs otherwise) and the KV buckets, with the hub streams' replicas.
 */
export async function provisionHubConsumers(
  jsm: JetStreamManager,
  js: JetStreamClient,
  opts: { replicas?: number; apiInstances?: readonly string[]; publicReaders?: readonly string[] } = {},
): Promise<{ consumers: ConsumerInfo[]; buckets: string[] }> {
  const made: ConsumerInfo[] = [];
  const durables = [...hubDurables(opts.apiInstances), ...publicReaderDurables(opts.publicReaders ?? [])];
  for (const d of durables) made.push(await ensureConsumer(jsm, d.stream, d.config));
  const replicas = opts.replicas ?? 1;
  await js.views.kv(TOPOLOGY_BUCKETS.snapshot, { history: 1, replicas });
  await js.views.kv(TOPOLOGY_BUCKETS.state, { history: 1, replicas });
  // The lease expires by the bucket's max_age: route analysis's default lease_ttl.
  await js.views.kv(TOPOLOGY_BUCKETS.lease, { history: 1, replicas, ttl: TOPOLOGY_LEASE_TTL_S * 1000 });
  // The alerts service's buckets (it re-creates its own durable at every start, as route-analysis does).
  for (const b of Object.values(ALERT_BUCKETS)) await js.views.kv(b, { history: 1, replicas });
  return { consumers: made, buckets: [...Object.values(TOPOLOGY_BUCKETS), ...Object.values(ALERT_BUCKETS)] };
}
