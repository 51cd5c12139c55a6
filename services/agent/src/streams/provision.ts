import { ensureStream } from '@mmm/common';
import { DUPLICATE_WINDOW_MS, streams, subjects } from '@mmm/schemas';
import { DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType, type StreamInfo } from 'nats';

const ns = (ms: number) => ms * 1_000_000;

export interface SiteStreamLimits {
  maxAgeMs?: number;
  maxBytes?: number;
}

/**
 * The site's durable buffer on its leaf: every event of the site, file storage, deduped by Msg-Id. Idempotent,
 * so every agent of the site runs it at start.
 */
export function ensureSiteStream(
  jsm: JetStreamManager,
  site: string,
  limits: SiteStreamLimits = {},
): Promise<StreamInfo> {
  return ensureStream(jsm, {
    name: streams.site(site),
    subjects: [subjects.siteAll(site)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    duplicate_window: ns(DUPLICATE_WINDOW_MS),
    max_age: ns(limits.maxAgeMs ?? 0),
    max_bytes: limits.maxBytes ?? -1,
  });
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
    duplicate_window: ns(DUPLICATE_WINDOW_MS),
  };
  const wanted = [...new Set(opts.sites)].sort().map((site) => ({
    name: streams.site(site),
    external: { api: `$JS.${streams.domain(site)}.API`, deliver: '' },
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
  return [hub, derived, dlq];
}
