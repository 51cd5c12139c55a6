import { streams, subjects } from '@mmm/schemas';

export interface Permissions {
  publish: string[];
  subscribe: string[];
}

/** Replies to requests (JetStream API answers, publish acks) arrive on the client's inbox. */
const INBOX = '_INBOX.>';

/**
 * An agent on its site's leaf: publish its own events only (`mesh.v1.<site>.<agent>.>`), and the JetStream API
 * calls it makes on the leaf: look up / create / update the site stream, and run durable consumers on it for the
 * original's HTTP destinations. It cannot write another agent's or another site's subjects.
 */
export function agentPermissions(site: string, agent: string): Permissions {
  const stream = streams.site(site);
  const own = subjects.siteAll(site).replace(/\.>$/, `.${agent}.>`);
  return {
    publish: [
      own,
      '$JS.API.INFO',
      `$JS.API.STREAM.INFO.${stream}`,
      `$JS.API.STREAM.CREATE.${stream}`,
      `$JS.API.STREAM.UPDATE.${stream}`,
      `$JS.API.CONSUMER.INFO.${stream}.*`,
      `$JS.API.CONSUMER.CREATE.${stream}.>`,
      `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.*`,
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
      `$JS.ACK.${stream}.>`,
    ],
    subscribe: [INBOX],
  };
}

/** What each hub service does on the hub (consumers on MESH, its own output subjects, its KV buckets). */
export function servicePermissions(service: 'ingest' | 'route-analysis' | 'api', legacySite = 'legacy'): Permissions {
  const consume = (stream: string) => [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
    `$JS.ACK.${stream}.>`,
  ];
  const base = ['$JS.API.INFO', ...consume(streams.hub)];
  switch (service) {
    case 'ingest':
      return {
        publish: [...base, subjects.deadLetter('ingest'), `$JS.API.STREAM.INFO.${streams.deadLetters}`],
        subscribe: [INBOX],
      };
    case 'route-analysis':
      return {
        publish: [
          ...base,
          subjects.topologyAll,
          subjects.deadLetter('route-analysis'),
          // KV buckets are streams named KV_<bucket>; the snapshot and the analyser's checkpoint.
          '$KV.mesh_topology.>',
          '$KV.mesh_topology_state.>',
          '$JS.API.STREAM.INFO.KV_mesh_topology',
          '$JS.API.STREAM.INFO.KV_mesh_topology_state',
          '$JS.API.STREAM.CREATE.KV_mesh_topology',
          '$JS.API.STREAM.CREATE.KV_mesh_topology_state',
          '$JS.API.STREAM.MSG.GET.KV_mesh_topology',
          '$JS.API.STREAM.MSG.GET.KV_mesh_topology_state',
          '$JS.API.DIRECT.GET.KV_mesh_topology.>',
          '$JS.API.DIRECT.GET.KV_mesh_topology_state.>',
        ],
        subscribe: [INBOX],
      };
    case 'api':
      return {
        publish: [
          ...base,
          ...consume(streams.derived),
          // The original agents' HTTP API republishes as the legacy site.
          subjects.siteAll(legacySite),
          subjects.deadLetter('api'),
          '$JS.API.STREAM.INFO.KV_mesh_topology',
          '$JS.API.STREAM.MSG.GET.KV_mesh_topology',
          '$JS.API.DIRECT.GET.KV_mesh_topology.>',
        ],
        // Core subscriptions for the live feed as well as replies.
        subscribe: [INBOX, 'mesh.v1.>', '$KV.mesh_topology.>'],
      };
  }
}
