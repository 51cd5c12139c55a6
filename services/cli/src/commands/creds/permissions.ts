import {
  ALERT_BUCKETS,
  ALERTS_STREAM,
  alertSubjects,
  commandSubjects,
  consumers,
  streams,
  subjects,
  TOPOLOGY_BUCKETS,
} from '@mmm/schemas';

export interface Permissions {
  publish: string[];
  subscribe: string[];
  /** nats-server `allow_responses`: may publish one answer to the reply subject of each request it received. */
  allowResponses?: boolean;
}

/**
 * Each user's replies (JetStream API answers, publish acks, pull batches) arrive under its own prefix; the nats.js
 * `inboxPrefix` option and `[nats] inbox_prefix` set it. Nobody may subscribe to `_INBOX.>`, so no user reads the
 * replies meant for another.
 */
export function inboxPrefix(user: string): string {
  return `_INBOX_${user}`;
}

const API = '$JS.API';

/**
 * Pull from a named durable that an admin provisioned: look it up, fetch, ack it (and no other consumer's messages:
 * an ack subject names its consumer, `$JS.ACK.<stream>.<consumer>.<...>`).
 */
function pullFrom(stream: string, consumer: string): string[] {
  return [
    `${API}.CONSUMER.INFO.${stream}.${consumer}`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
    `$JS.ACK.${stream}.${consumer}.>`,
  ];
}

/**
 * Create (or update) one named consumer, pinned to a filter. nats-server 2.9 takes the name and the filter in the
 * subject (`CONSUMER.CREATE.<stream>.<name>.<filter>`) and refuses a body whose filter differs, so the permission
 * fixes both. `filter` undefined pins "no filter". Only the filter's literal tokens bind: a `*` or `>` of the
 * pattern admits any token there, a literal `>` too (so `mesh.v1.*.*.nodedb` would admit `mesh.v1.*.>.nodedb`; see
 * consumers.publicReader). Every pinned filter here starts with the owner's own literal subject tokens.
 * The unnamed `CONSUMER.CREATE.<stream>` is never granted: its body may name an existing consumer and rewrite it.
 */
function createPinned(stream: string, consumer: string, filter?: string): string {
  return `${API}.CONSUMER.CREATE.${stream}.${consumer}${filter ? `.${filter}` : ''}`;
}

/** Run-time consumers of an agent on its leaf: short-lived reader of its own trace outcomes, legacy relays. */
export interface AgentConsumers {
  /** The `<name>`s of the agent's `[server_<name>]` legacy HTTP destinations. */
  legacyDestinations?: readonly string[];
}

/**
 * An agent on its site's leaf: publish its own events only (`mesh.v1.<site>.<agent>.>`), look up the site stream an
 * admin provisioned, and run its own consumers, each pinned by name and filter to its own subjects. It may not
 * create, update or delete the stream, create other consumers, or ack another consumer's messages.
 */
export function agentPermissions(site: string, agent: string, o: AgentConsumers = {}): Permissions {
  const stream = streams.site(site);
  const own = `${subjects.siteAll(site).replace(/\.>$/, '')}.${agent}`;
  const restore = consumers.restore(agent);
  const publish = [
    `${own}.>`,
    `${API}.INFO`,
    `${API}.STREAM.INFO.${stream}`,
    // Through the leaf's link: the hub's view of its source of this site (status events' hubConnected, hubBacklog).
    hubStreamInfo(),
    createPinned(stream, restore, subjects.trace(site, agent)),
    `${API}.CONSUMER.INFO.${stream}.${restore}`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.${restore}`,
    `${API}.CONSUMER.DELETE.${stream}.${restore}`,
  ];
  for (const dest of o.legacyDestinations ?? []) {
    const name = consumers.legacy(agent, dest);
    publish.push(createPinned(stream, name, `${own}.>`), ...pullFrom(stream, name));
  }
  // Text commands: its own subject only; it answers each request once (allow_responses) and may not publish into
  // the sender's inbox otherwise, so it cannot forge another agent's answer.
  return {
    publish,
    subscribe: [`${inboxPrefix(`${site}.${agent}`)}.>`, commandSubjects.text(site, agent)],
    allowResponses: true,
  };
}

export const SERVICES = ['ingest', 'route-analysis', 'api', 'alerts'] as const;
export type Service = (typeof SERVICES)[number];

/** KV buckets of route-analysis (streams `KV_<bucket>`): the public snapshot, its checkpoint and its writer lease. */
const ROUTE_ANALYSIS_BUCKETS = Object.values(TOPOLOGY_BUCKETS);

function kvReadWrite(bucket: string): string[] {
  return [`$KV.${bucket}.>`, ...kvRead(bucket)];
}

/** Get, list and watch a bucket, without writing to it. */
function kvRead(bucket: string): string[] {
  const stream = `KV_${bucket}`;
  return [
    `${API}.STREAM.INFO.${stream}`,
    `${API}.STREAM.MSG.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}.>`,
    // Listing keys runs an ordered consumer on the bucket's own stream: harmless there, the bucket is the
    // service's own; its flow-control replies go to $JS.FC.
    `${API}.CONSUMER.CREATE.${stream}`,
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.DELETE.${stream}.*`,
    `$JS.FC.${stream}.>`,
  ];
}

/**
 * What each hub service does at run time on the hub: pull from its own durables (provisioned by an admin; the
 * route analyser re-creates its own durable and rebuild reader by name), publish its own output subjects and dead
 * letters, use its KV buckets. Default durable names; a renamed durable needs its permissions edited too.
 */
export function servicePermissions(service: Service, legacySite = 'legacy'): Permissions {
  const base = [`${API}.INFO`, `${API}.STREAM.INFO.${streams.hub}`, `${API}.STREAM.NAMES`];
  const subscribe = [`${inboxPrefix(service)}.>`];
  switch (service) {
    case 'ingest':
      return {
        publish: [
          ...base,
          ...pullFrom(streams.hub, consumers.ingest),
          subjects.deadLetter('ingest'),
          `${API}.STREAM.INFO.${streams.deadLetters}`,
        ],
        subscribe,
      };
    case 'route-analysis': {
      const durable = consumers.routeAnalysis;
      const rebuild = consumers.routeAnalysisRebuild;
      return {
        publish: [
          ...base,
          `${API}.STREAM.INFO.${streams.derived}`,
          `${API}.STREAM.INFO.${streams.deadLetters}`,
          // It restarts its durable right after its checkpoint at every start: its own name, no filter.
          createPinned(streams.hub, durable),
          `${API}.CONSUMER.DELETE.${streams.hub}.${durable}`,
          ...pullFrom(streams.hub, durable),
          createPinned(streams.hub, rebuild),
          `${API}.CONSUMER.DELETE.${streams.hub}.${rebuild}`,
          `${API}.CONSUMER.INFO.${streams.hub}.${rebuild}`,
          `${API}.CONSUMER.MSG.NEXT.${streams.hub}.${rebuild}`,
          subjects.topologyAll,
          subjects.deadLetter('route-analysis'),
          ...ROUTE_ANALYSIS_BUCKETS.flatMap(kvReadWrite),
        ],
        subscribe,
      };
    }
    case 'api':
      return {
        publish: [
          ...base,
          `${API}.STREAM.INFO.${streams.derived}`,
          ...pullFrom(streams.hub, consumers.api()),
          ...pullFrom(streams.derived, consumers.apiDerived()),
          // The original agents' HTTP API republishes as the legacy site.
          subjects.siteAll(legacySite),
          subjects.deadLetter('api'),
          // Alerts: it lists them and passes operators' changes to the alerts service through the control bucket.
          ...kvRead(ALERT_BUCKETS.alerts),
          ...kvReadWrite(ALERT_BUCKETS.control),
        ],
        subscribe: [...subscribe, alertSubjects.all],
      };
    case 'alerts': {
      const durable = consumers.alerts;
      return {
        publish: [
          ...base,
          `${API}.STREAM.INFO.${ALERTS_STREAM}`,
          // Like route-analysis, it restarts its durable right after its checkpoint at every start.
          createPinned(streams.hub, durable),
          `${API}.CONSUMER.DELETE.${streams.hub}.${durable}`,
          ...pullFrom(streams.hub, durable),
          alertSubjects.all,
          ...kvReadWrite(ALERT_BUCKETS.alerts),
          ...kvReadWrite(ALERT_BUCKETS.state),
          // Operators' changes come from the API; the service only reads them.
          ...kvRead(ALERT_BUCKETS.control),
          // Route analysis's public links, for link_quality rules: read only.
          ...kvRead(TOPOLOGY_BUCKETS.snapshot),
          // [mesh_<name>] targets: text commands to any agent (the agent answers into its inbox).
          commandSubjects.anyText,
        ],
        subscribe,
      };
    }
  }
}

export const CONSUMER_PROFILES = ['consumer-full', 'consumer-public', 'consumer-site'] as const;
export type ConsumerProfile = (typeof CONSUMER_PROFILES)[number];

/**
 * Subjects without message text or raw packet bytes. Every reception (`rx.<port>`) carries the packet's raw bytes
 * (base64), whatever its port, so public readers get the node-DB snapshots instead (each node's latest user info,
 * position and device telemetry), agent status, traceroute outcomes and the derived topology.
 */
export const PUBLIC_SUBJECTS = {
  site: ['nodedb', 'status', 'trace'].map((k) => subjects.kindFilter(k as 'nodedb' | 'status' | 'trace')),
  derived: subjects.topologyAll,
} as const;

/**
 * A reader's own durable, named after its user: create it with any filter that starts with `prefix` (every literal
 * token of the prefix pins the filter; the create subject carries the filter and nats-server refuses a body whose
 * filter differs), delete it, pull and ack it. `prefix` undefined: any filter, or none.
 */
function ownReader(user: string, stream: string, prefix?: string): string[] {
  const create = createPinned(stream, user);
  return [
    ...(prefix ? [`${create}.${prefix}`] : [create, `${create}.>`]),
    `${API}.CONSUMER.DELETE.${stream}.${user}`,
    ...pullFrom(stream, user),
  ];
}

/**
 * Downstream readers on the hub (bots, dashboards, analytics): read only. Live core subscriptions on their subjects;
 * history through consumers named after the user, so no reader can touch another's or a service's consumer
 * (nats-server 2.9 lets a create request rewrite an existing consumer of the same name).
 * - consumer-full: every event subject (`mesh.v1.>`); its durable `<user>` on MESH and MESH_DERIVED, any filter.
 * - consumer-public: `PUBLIC_SUBJECTS` only; pulls the durables `consumers.publicReader(user)` that an admin made
 *   (`mmm streams provision --public-reader`): its filters contain `*`, which a permission cannot pin (see there).
 * - consumer-site: one site's events; its durable `<user>` on MESH, any filter within `mesh.v1.<site>.`.
 */
export function consumerPermissions(profile: ConsumerProfile, user: string, site?: string): Permissions {
  const common = [`${API}.INFO`, `${API}.STREAM.INFO.${streams.hub}`];
  const subscribe = [`${inboxPrefix(user)}.>`];
  switch (profile) {
    case 'consumer-full':
      return {
        publish: [
          ...common,
          `${API}.STREAM.INFO.${streams.derived}`,
          ...ownReader(user, streams.hub),
          ...ownReader(user, streams.derived),
        ],
        // Every event subject, dead letters included (they are events too, and carry what failed).
        subscribe: [...subscribe, 'mesh.v1.>'],
      };
    case 'consumer-public':
      return {
        publish: [
          ...common,
          `${API}.STREAM.INFO.${streams.derived}`,
          ...consumers.publicReader(user).flatMap((c) => pullFrom(c.stream, c.name)),
        ],
        subscribe: [...subscribe, ...PUBLIC_SUBJECTS.site, PUBLIC_SUBJECTS.derived],
      };
    case 'consumer-site': {
      if (!site) throw new Error('consumer-site needs a site');
      const all = subjects.siteAll(site);
      return {
        publish: [...common, ...ownReader(user, streams.hub, all)],
        subscribe: [...subscribe, all],
      };
    }
  }
}

/** Deliver-subject prefix of the hub's source consumer on a site stream (`external.deliver` of MESH's source). */
export function sourcingDeliverPrefix(site: string): string {
  return streams.sourceDeliverPrefix(site);
}

/**
 * A site's leafnode link on the hub, from the link's side (nats-server applies a leafnode user's permissions to what
 * the leaf may send into the hub, "publish", and what the hub passes to the leaf, "subscribe"). Measured on
 * nats-server 2.9.10, MESH sourcing `MESH_<site>` across JetStream domains uses: hub -> leaf
 * `$JS.<site>.API.CONSUMER.CREATE.MESH_<site>` (and DELETE when a source is reset) with the reply on `$JSC.R.<id>`,
 * flow-control replies on `$JS.FC.MESH_<site>.>`; leaf -> hub the API reply on `$JSC.R.<id>` and the messages on the
 * deliver subject, `<external.deliver>.S.<id>`, which provisioning sets to a per-site prefix. `$LDS.>` is the servers'
 * loop detection. The leaf's own subjects cross as core messages too (live subscribers on the hub).
 */
export function leafnodePermissions(site: string): Permissions {
  const stream = streams.site(site);
  return {
    publish: [
      subjects.siteAll(site),
      '$JSC.R.*',
      `${sourcingDeliverPrefix(site)}.>`,
      '$LDS.>',
      hubStreamInfo(),
      // Agents' answers to the alerts service's text commands.
      `${inboxPrefix('alerts')}.>`,
    ],
    subscribe: [
      // Text commands to this site's agents, and no other site's.
      commandSubjects.site(site),
      `$JS.${streams.domain(site)}.API.CONSUMER.CREATE.${stream}`,
      `$JS.${streams.domain(site)}.API.CONSUMER.DELETE.${stream}.*`,
      `$JS.FC.${stream}.>`,
      '$LDS.>',
      // The hub's answers to this site's agents (their inboxes are `_INBOX_<site>.<agent>`), and no other site's.
      `${inboxPrefix(site)}.>`,
    ],
  };
}

/**
 * The hub's `MESH` stream info, asked in the hub's JetStream domain from a leaf: read only, and it carries no events
 * (the stream's config and state, its sources' names and lag).
 */
function hubStreamInfo(): string {
  return `$JS.${streams.hubDomain}.API.STREAM.INFO.${streams.hub}`;
}
