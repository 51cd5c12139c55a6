import { SUBJECT_ROOT } from './subjects.js';
import { assertSite, assertToken } from './tokens.js';

/**
 * Stream layout (docs/adr/0002-subjects-and-streams.md):
 * - each site's leaf holds `MESH_<site>` capturing `mesh.v1.<site>.>` in JetStream domain `<site>`;
 * - the hub holds `MESH`, which sources every site stream and also captures the subjects of sites that publish
 *   straight to the hub (the legacy HTTP API's site, single-machine installs);
 * - `MESH_DERIVED` captures derived topology events, `MESH_DLQ` dead letters.
 */
export const streams = {
  site(site: string): string {
    return `MESH_${assertSite(site)}`;
  },
  hub: 'MESH',
  /** JetStream domain of the hub (nats-server `jetstream { domain: hub }`), as every config the project writes sets it. */
  hubDomain: 'hub',
  derived: 'MESH_DERIVED',
  deadLetters: 'MESH_DLQ',
  /** JetStream domain of a site's leaf server. */
  domain(site: string): string {
    return assertSite(site);
  },
  /**
   * `external.deliver` of the hub's source on a site stream: the sourced messages cross the leafnode link on
   * `<prefix>.S.<id>`, so the site's leafnode user may be allowed exactly its own prefix.
   */
  sourceDeliverPrefix(site: string): string {
    return `mmm.sourcing.${assertSite(site)}`;
  },
  derivedSubjects: [`${SUBJECT_ROOT}.derived.>`],
  deadLetterSubjects: [`${SUBJECT_ROOT}.dlq.>`],
} as const;

/**
 * Durable and run-time consumer names. Credentials pin permissions to these names (an ack subject names its
 * consumer), so services and `mmm streams provision` take them from here.
 */
export const consumers = {
  /** The agent's short-lived reader of its own trace outcomes at start (route-cache restore). */
  restore(agent: string): string {
    return `restore_${assertToken('agent id', agent)}`;
  },
  /** The agent's relay to one of the original's HTTP servers. */
  legacy(agent: string, destination: string): string {
    return `legacy_${agent}_${destination}`.replace(/[^A-Za-z0-9_-]/g, '_');
  },
  ingest: 'ingest',
  /** The alerts service's durable on MESH (re-created after its checkpoint at every start). */
  alerts: 'alerts',
  routeAnalysis: 'route-analysis',
  /** Route-analysis's reader of the whole hub stream when it rebuilds its graph. */
  routeAnalysisRebuild: 'route-analysis-rebuild',
  /** The API's projection durables: `api-<instance id>` on MESH, with the stream's name appended on others. */
  api(instance = 'api'): string {
    return `api-${instance}`;
  },
  apiDerived(instance = 'api'): string {
    return `api-${instance}-${streams.derived.toLowerCase().replace(/[^a-z0-9]/g, '-')}`;
  },
  /**
   * The durables of a public reader (consumer-public of mmm creds): subjects without text or raw packet bytes. An
   * admin creates them: a reader allowed to create its own with a filter like `mesh.v1.*.*.nodedb` could send
   * `mesh.v1.*.>.nodedb` (a subject permission's `*` matches a literal `>`), which nats-server 2.9 accepts on a
   * stream that only sources and treats as `mesh.v1.*.>` (measured: it delivered text).
   */
  publicReader(user: string): { stream: string; name: string; filter: string }[] {
    const u = assertToken('reader name', user);
    return [
      ...(['nodedb', 'status', 'trace'] as const).map((kind) => ({
        stream: streams.hub,
        name: `${u}_${kind}`,
        filter: `${SUBJECT_ROOT}.*.*.${kind}`,
      })),
      { stream: streams.derived, name: `${u}_topology`, filter: `${SUBJECT_ROOT}.derived.topology.>` },
    ];
  },
} as const;

/** Dedupe window of every stream: long enough to cover a publish retry after a reconnect. */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/** Key-value bucket holding the latest topology snapshot. */
export const TOPOLOGY_BUCKET = 'mesh_topology';
/** Key-value bucket holding route-analysis's checkpoint (its `[route_analysis] state_bucket` default). */
export const TOPOLOGY_STATE_BUCKET = `${TOPOLOGY_BUCKET}_state`;

/**
 * Route analysis's KV buckets (streams `KV_<bucket>`): the public snapshot, its own checkpoint, and the writer lease
 * that lets one of several copies write. `mmm streams provision` creates them; least-privilege users only use them.
 */
export const TOPOLOGY_BUCKETS = {
  snapshot: TOPOLOGY_BUCKET,
  state: `${TOPOLOGY_BUCKET}_state`,
  lease: `${TOPOLOGY_BUCKET}_lease`,
} as const;

/**
 * One link's key in the public snapshot bucket, `link.<from>.<to>` with 8 hex digits each (route analysis writes it
 * and deletes it when the link ages out; the alerts service watches it).
 */
export function topologyLinkKey(from: number, to: number): string {
  return `link.${hex8(from)}.${hex8(to)}`;
}

/** The link a `link.<from>.<to>` key names, or undefined for any other key. */
export function parseTopologyLinkKey(key: string): { from: number; to: number } | undefined {
  const m = /^link\.([0-9a-f]{8})\.([0-9a-f]{8})$/.exec(key);
  return m ? { from: Number.parseInt(m[1]!, 16), to: Number.parseInt(m[2]!, 16) } : undefined;
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

/** The lease bucket's max_age: a writer that stops renewing loses the lease this long after its last renewal. */
export const TOPOLOGY_LEASE_TTL_S = 5;

/**
 * `Nats-Msg-Id` rules. Every id starts with the event kind and carries site and agent, because the hub stream dedupes
 * sourced messages against its own window: two agents hearing the same packet must produce two ids.
 */
export const msgIds = {
  /** rxTime is the radio's clock; packets without one fall back to the agent's receive time. */
  reception(site: string, agent: string, from: number, id: number, rxTime: number, receivedAt: number): string {
    const t = rxTime > 0 ? `${rxTime}` : `a${receivedAt}`;
    return `rx:${assertSite(site)}:${assertToken('agent id', agent)}:${from.toString(16)}:${id.toString(16)}:${t}`;
  },
  /**
   * The id of a reception event, as its producer set it and consumers re-derive it. MQTT receptions never use the
   * receive time (a broker's redelivery must give the same id) and JSON uplink gets its own id (`:json`), so an
   * unauthenticated copy never takes the place of the protobuf reception of the same packet by the same gateway.
   */
  receptionOf(ev: {
    site: string;
    agent: string;
    receivedAt: number;
    source: string;
    packet: { from: number; id: number; rxTime: number };
    mqtt?: { format: string };
  }): string {
    const p = ev.packet;
    const id = msgIds.reception(ev.site, ev.agent, p.from, p.id, p.rxTime, ev.source === 'mqtt' ? 0 : ev.receivedAt);
    return ev.mqtt?.format === 'json' ? `${id}:json` : id;
  },
  nodedb(site: string, agent: string, takenAt: number): string {
    return `nodedb:${assertSite(site)}:${assertToken('agent id', agent)}:${takenAt}`;
  },
  trace(site: string, agent: string, requestId: number): string {
    return `trace:${assertSite(site)}:${assertToken('agent id', agent)}:${requestId.toString(16)}`;
  },
  status(site: string, agent: string, at: number): string {
    return `status:${assertSite(site)}:${assertToken('agent id', agent)}:${at}`;
  },
  topology(kind: string, key: string, at: number): string {
    return `topo:${kind}:${key}:${at}`;
  },
  deadLetter(service: string, stream: string, seq: number): string {
    return `dlq:${assertToken('service name', service)}:${stream}:${seq}`;
  },
} as const;
