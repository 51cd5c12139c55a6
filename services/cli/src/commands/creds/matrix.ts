import { consumers, streams } from '@mmm/schemas';
import {
  agentPermissions,
  consumerPermissions,
  leafnodePermissions,
  type Permissions,
  type Service,
  servicePermissions,
} from './permissions.js';

/**
 * "Who may do what": every credential profile against a fixed set of actions, each one NATS operation on one
 * subject. docs/operations.md's table is rendered from this, and matrix.test.ts runs every cell against real servers,
 * so the documentation, the permission functions and nats-server's behaviour cannot drift apart.
 */

/** The example installation the matrix speaks of. */
export const EXAMPLE = {
  site: 'north',
  otherSite: 'south',
  agent: 'gw-1',
  otherAgent: 'gw-2',
  otherSiteAgent: 'gw-3',
  /** Both north agents relay to a legacy destination of this name. */
  legacy: 'primary',
  readers: { full: 'bi', public: 'dashboard', site: 'north-bot' },
} as const;

export type Place = 'leaf' | 'hub' | 'link';

export interface Profile {
  id: string;
  /** How docs name it. */
  label: string;
  place: Place;
  /** NATS user name in the example (the leaf link's user for the link). */
  user: string;
  /** undefined: no restrictions (admins). */
  permissions: Permissions | undefined;
  /** Name of its own consumer on MESH for a kind of event (readers; a service's durable). */
  ownConsumer?: (kind: 'text' | 'nodedb') => string;
}

const E = EXAMPLE;
const agentUser = `${E.site}.${E.agent}`;

export const PROFILES: readonly Profile[] = [
  {
    id: 'agent',
    label: `agent (\`${agentUser}\`)`,
    place: 'leaf',
    user: agentUser,
    permissions: agentPermissions(E.site, E.agent, { legacyDestinations: [E.legacy] }),
  },
  {
    id: 'site-admin',
    label: `site admin (\`admin-${E.site}\`)`,
    place: 'leaf',
    user: `admin-${E.site}`,
    permissions: undefined,
  },
  { id: 'admin', label: 'admin (`admin`)', place: 'hub', user: 'admin', permissions: undefined },
  ...(['ingest', 'route-analysis', 'api', 'alerts'] as Service[]).map((s) => ({
    id: s,
    label: `${s} (\`${s}\`)`,
    place: 'hub' as const,
    user: s,
    permissions: servicePermissions(s),
    ownConsumer: () =>
      ({
        ingest: consumers.ingest,
        'route-analysis': consumers.routeAnalysis,
        api: consumers.api(),
        alerts: consumers.alerts,
      })[s],
  })),
  {
    id: 'consumer-full',
    label: `consumer-full (\`${E.readers.full}\`)`,
    place: 'hub',
    user: E.readers.full,
    permissions: consumerPermissions('consumer-full', E.readers.full),
    ownConsumer: () => E.readers.full,
  },
  {
    id: 'consumer-public',
    label: `consumer-public (\`${E.readers.public}\`)`,
    place: 'hub',
    user: E.readers.public,
    permissions: consumerPermissions('consumer-public', E.readers.public),
    ownConsumer: (kind) => `${E.readers.public}_${kind}`,
  },
  {
    id: 'consumer-site',
    label: `consumer-site ${E.site} (\`${E.readers.site}\`)`,
    place: 'hub',
    user: E.readers.site,
    permissions: consumerPermissions('consumer-site', E.readers.site, E.site),
    ownConsumer: () => E.readers.site,
  },
  {
    id: 'leaf-link',
    label: `leafnode link of ${E.site} (\`leaf-${E.site}\`)`,
    place: 'link',
    user: `leaf-${E.site}`,
    permissions: leafnodePermissions(E.site),
  },
];

/**
 * One action: a publish or subscribe of `subject` by the profile's user (for the link: "pub" is what the leaf may
 * send into the hub, "sub" what the hub may pass to the leaf). `destructive` actions are not run for admins.
 */
export interface Action {
  id: string;
  label: string;
  place: Place;
  op: 'pub' | 'sub';
  subject: (p: Profile) => string;
  destructive?: boolean;
}

const siteStream = streams.site(E.site);
const ACK_TAIL = '1.1.1.1.0';
const readerName = (p: Profile, kind: 'text' | 'nodedb') => p.ownConsumer?.(kind) ?? p.user;
const readerFilter = (p: Profile, what: 'rx.text' | 'nodedb') =>
  `mesh.v1.${p.id === 'consumer-site' ? E.site : '*'}.*.${what}`;

export const ACTIONS: readonly Action[] = [
  // On the site leaf.
  {
    id: 'pub-own',
    label: 'publish its own events',
    place: 'leaf',
    op: 'pub',
    subject: () => `mesh.v1.${E.site}.${E.agent}.status`,
  },
  {
    id: 'pub-agent',
    label: 'publish as another agent',
    place: 'leaf',
    op: 'pub',
    subject: () => `mesh.v1.${E.site}.${E.otherAgent}.status`,
  },
  {
    id: 'pub-site',
    label: 'publish as another site',
    place: 'leaf',
    op: 'pub',
    subject: () => `mesh.v1.${E.otherSite}.${E.otherSiteAgent}.status`,
  },
  {
    id: 'stream-update',
    label: 'update the site stream',
    place: 'leaf',
    op: 'pub',
    subject: () => `$JS.API.STREAM.UPDATE.${siteStream}`,
    destructive: true,
  },
  {
    id: 'stream-delete',
    label: 'delete the site stream',
    place: 'leaf',
    op: 'pub',
    subject: () => `$JS.API.STREAM.DELETE.${siteStream}`,
    destructive: true,
  },
  {
    id: 'consumer-restore',
    label: 'create its route-cache reader',
    place: 'leaf',
    op: 'pub',
    subject: () =>
      `$JS.API.CONSUMER.CREATE.${siteStream}.${consumers.restore(E.agent)}.mesh.v1.${E.site}.${E.agent}.trace`,
  },
  {
    id: 'consumer-any',
    label: 'create a consumer on the whole site',
    place: 'leaf',
    op: 'pub',
    subject: () => `$JS.API.CONSUMER.CREATE.${siteStream}.spy.mesh.v1.${E.site}.>`,
  },
  {
    id: 'consumer-unnamed',
    label: 'create an unnamed consumer',
    place: 'leaf',
    op: 'pub',
    subject: () => `$JS.API.CONSUMER.CREATE.${siteStream}`,
  },
  {
    id: 'ack-own',
    label: 'ack its own relay',
    place: 'leaf',
    op: 'pub',
    subject: () => `$JS.ACK.${siteStream}.${consumers.legacy(E.agent, E.legacy)}.${ACK_TAIL}`,
  },
  {
    id: 'ack-foreign',
    label: "ack another agent's relay",
    place: 'leaf',
    op: 'pub',
    subject: () => `$JS.ACK.${siteStream}.${consumers.legacy(E.otherAgent, E.legacy)}.${ACK_TAIL}`,
  },
  {
    id: 'inbox-other-leaf',
    label: "read another agent's inbox",
    place: 'leaf',
    op: 'sub',
    subject: () => `_INBOX_${E.site}.${E.otherAgent}.>`,
  },
  { id: 'inbox-all-leaf', label: 'read every inbox', place: 'leaf', op: 'sub', subject: () => '_INBOX.>' },
  {
    id: 'hub-sourcing',
    label: 'ask the hub how far its sourcing is',
    place: 'leaf',
    op: 'pub',
    subject: () => `$JS.${streams.hubDomain}.API.STREAM.INFO.${streams.hub}`,
  },
  {
    id: 'cmd-own',
    label: 'take text commands for itself',
    place: 'leaf',
    op: 'sub',
    subject: () => `mmm.cmd.${E.site}.${E.agent}.text`,
  },
  {
    id: 'cmd-other',
    label: "take another agent's text commands",
    place: 'leaf',
    op: 'sub',
    subject: () => `mmm.cmd.${E.site}.${E.otherAgent}.text`,
  },
  {
    id: 'cmd-forge',
    label: "publish into the alerts service's inbox unasked",
    place: 'leaf',
    op: 'pub',
    subject: () => '_INBOX_alerts.probe',
  },
  // On the hub.
  {
    id: 'send-text',
    label: 'send a text command to an agent',
    place: 'hub',
    op: 'pub',
    subject: () => `mmm.cmd.${E.site}.${E.agent}.text`,
  },
  { id: 'live-text', label: 'live text messages', place: 'hub', op: 'sub', subject: () => 'mesh.v1.*.*.rx.text' },
  {
    id: 'live-raw',
    label: 'live positions (carry raw bytes)',
    place: 'hub',
    op: 'sub',
    subject: () => 'mesh.v1.*.*.rx.position',
  },
  { id: 'live-nodedb', label: 'live node DB snapshots', place: 'hub', op: 'sub', subject: () => 'mesh.v1.*.*.nodedb' },
  { id: 'live-topology', label: 'live topology', place: 'hub', op: 'sub', subject: () => 'mesh.v1.derived.topology.>' },
  { id: 'live-site', label: `live events of ${E.site}`, place: 'hub', op: 'sub', subject: () => `mesh.v1.${E.site}.>` },
  {
    id: 'live-other-site',
    label: `live events of ${E.otherSite}`,
    place: 'hub',
    op: 'sub',
    subject: () => `mesh.v1.${E.otherSite}.>`,
  },
  {
    id: 'own-consumer-text',
    label: 'own consumer on text',
    place: 'hub',
    op: 'pub',
    subject: (p) => `$JS.API.CONSUMER.CREATE.${streams.hub}.${readerName(p, 'text')}.${readerFilter(p, 'rx.text')}`,
  },
  {
    id: 'own-consumer-nodedb',
    label: 'own consumer on node DB',
    place: 'hub',
    op: 'pub',
    subject: (p) => `$JS.API.CONSUMER.CREATE.${streams.hub}.${readerName(p, 'nodedb')}.${readerFilter(p, 'nodedb')}`,
  },
  {
    id: 'widen-filter',
    label: 'own consumer with a misplaced `>` in its filter',
    place: 'hub',
    op: 'pub',
    subject: (p) => `$JS.API.CONSUMER.CREATE.${streams.hub}.${readerName(p, 'nodedb')}.mesh.v1.*.>.nodedb`,
  },
  {
    id: 'pull-own',
    label: 'pull its own durable',
    place: 'hub',
    op: 'pub',
    subject: (p) => `$JS.API.CONSUMER.MSG.NEXT.${streams.hub}.${readerName(p, 'nodedb')}`,
  },
  {
    id: 'hijack-ingest',
    label: "rewrite ingest's durable",
    place: 'hub',
    op: 'pub',
    subject: () => `$JS.API.CONSUMER.CREATE.${streams.hub}.${consumers.ingest}.mesh.v1.*.*.nodedb`,
    destructive: true,
  },
  {
    id: 'pull-ingest',
    label: "pull ingest's durable",
    place: 'hub',
    op: 'pub',
    subject: () => `$JS.API.CONSUMER.MSG.NEXT.${streams.hub}.${consumers.ingest}`,
  },
  {
    id: 'ack-ingest',
    label: "ack ingest's durable",
    place: 'hub',
    op: 'pub',
    subject: () => `$JS.ACK.${streams.hub}.${consumers.ingest}.${ACK_TAIL}`,
  },
  {
    id: 'hub-stream-update',
    label: 'update the hub stream',
    place: 'hub',
    op: 'pub',
    subject: () => `$JS.API.STREAM.UPDATE.${streams.hub}`,
    destructive: true,
  },
  {
    id: 'forge-site',
    label: "publish a site's events",
    place: 'hub',
    op: 'pub',
    subject: () => `mesh.v1.${E.site}.${E.agent}.status`,
  },
  {
    id: 'pub-topology',
    label: 'publish topology',
    place: 'hub',
    op: 'pub',
    subject: () => 'mesh.v1.derived.topology.link',
  },
  {
    id: 'pub-legacy',
    label: 'publish as the legacy site',
    place: 'hub',
    op: 'pub',
    subject: () => 'mesh.v1.legacy.old-agent.status',
  },
  { id: 'inbox-other-hub', label: "read ingest's inbox", place: 'hub', op: 'sub', subject: () => '_INBOX_ingest.>' },
  { id: 'inbox-all-hub', label: 'read every inbox', place: 'hub', op: 'sub', subject: () => '_INBOX.>' },
  // The leafnode link (publish: leaf -> hub; subscribe: hub -> leaf).
  {
    id: 'link-own',
    label: `carry ${E.site}'s events to the hub`,
    place: 'link',
    op: 'pub',
    subject: () => `mesh.v1.${E.site}.${E.agent}.status`,
  },
  {
    id: 'link-other',
    label: `carry ${E.otherSite}'s events to the hub`,
    place: 'link',
    op: 'pub',
    subject: () => `mesh.v1.${E.otherSite}.${E.otherSiteAgent}.status`,
  },
  {
    id: 'link-sourced-own',
    label: `carry ${E.site}'s sourced messages`,
    place: 'link',
    op: 'pub',
    subject: () => `${streams.sourceDeliverPrefix(E.site)}.S.probe`,
  },
  {
    id: 'link-sourced-other',
    label: `carry ${E.otherSite}'s sourced messages`,
    place: 'link',
    op: 'pub',
    subject: () => `${streams.sourceDeliverPrefix(E.otherSite)}.S.probe`,
  },
  {
    id: 'link-source-create',
    label: 'pass the source consumer request to the leaf',
    place: 'link',
    op: 'sub',
    subject: () => `$JS.${E.site}.API.CONSUMER.CREATE.${siteStream}`,
  },
  {
    id: 'link-hub-info',
    label: "carry an agent's question about the hub's sourcing",
    place: 'link',
    op: 'pub',
    subject: () => `$JS.${streams.hubDomain}.API.STREAM.INFO.${streams.hub}`,
  },
  {
    id: 'link-hub-api',
    label: "carry other requests to the hub's JetStream API",
    place: 'link',
    op: 'pub',
    subject: () => `$JS.${streams.hubDomain}.API.STREAM.DELETE.${streams.hub}`,
    destructive: true,
  },
  {
    id: 'link-inbox-own',
    label: `pass replies to ${E.site}'s agents`,
    place: 'link',
    op: 'sub',
    subject: () => `_INBOX_${E.site}.${E.agent}.probe`,
  },
  {
    id: 'link-inbox-other',
    label: `pass replies to ${E.otherSite}'s agents`,
    place: 'link',
    op: 'sub',
    subject: () => `_INBOX_${E.otherSite}.${E.otherSiteAgent}.probe`,
  },
  {
    id: 'link-cmd-own',
    label: `pass text commands to ${E.site}'s agents`,
    place: 'link',
    op: 'sub',
    subject: () => `mmm.cmd.${E.site}.${E.agent}.text`,
  },
  {
    id: 'link-cmd-other',
    label: `pass text commands to ${E.otherSite}'s agents`,
    place: 'link',
    op: 'sub',
    subject: () => `mmm.cmd.${E.otherSite}.${E.otherSiteAgent}.text`,
  },
  {
    id: 'link-cmd-answer',
    label: "carry an agent's answer to the alerts service",
    place: 'link',
    op: 'pub',
    subject: () => '_INBOX_alerts.probe',
  },
  {
    id: 'link-stream-api',
    label: "pass the hub's stream API requests to the leaf",
    place: 'link',
    op: 'sub',
    subject: () => `$JS.${E.site}.API.STREAM.DELETE.${siteStream}`,
    destructive: true,
  },
];

/** NATS subject matching: `*` one token, `>` one or more trailing tokens; the subject's own tokens are literal. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** What the permission functions say: allowed, or undefined where the action does not apply to the profile. */
export function permits(profile: Profile, action: Action): boolean | undefined {
  if (profile.place !== action.place) return undefined;
  if (!profile.permissions) return true;
  const list = action.op === 'pub' ? profile.permissions.publish : profile.permissions.subscribe;
  const subject = action.subject(profile);
  return list.some((p) => subjectMatches(p, subject));
}

const PLACE_TITLES: Record<Place, string> = {
  leaf: 'On a site leaf',
  hub: 'On the hub',
  link: "On the hub, a site's leafnode link (publish: leaf to hub; subscribe: hub to leaf)",
};

/** The Markdown tables of docs/operations.md, one per place: a row per profile, a column per action. */
export function renderMatrix(): string {
  const out: string[] = [];
  for (const place of ['leaf', 'hub', 'link'] as const) {
    const actions = ACTIONS.filter((a) => a.place === place);
    const profiles = PROFILES.filter((p) => p.place === place);
    out.push(`**${PLACE_TITLES[place]}**`, '');
    out.push(`| profile | ${actions.map((a) => a.label).join(' | ')} |`);
    out.push(`| --- | ${actions.map(() => ':-:').join(' | ')} |`);
    for (const p of profiles)
      out.push(`| ${p.label} | ${actions.map((a) => (permits(p, a) ? 'yes' : 'no')).join(' | ')} |`);
    out.push('', '| action | operation |', '| --- | --- |');
    const example = profiles.find((p) => p.id === 'consumer-full') ?? profiles[0]!;
    for (const a of actions)
      out.push(`| ${a.label} | ${a.op === 'pub' ? 'publish' : 'subscribe'} \`${a.subject(example)}\` |`);
    out.push('');
  }
  return out.join('\n');
}

export const TABLE_BEGIN =
  '<!-- permissions-table: generated by `npm run permissions-table -w @mmm/cli`; do not edit -->';
export const TABLE_END = '<!-- /permissions-table -->';

/** Replaces the generated part of a document (between the markers) with the current table. */
export function withMatrix(doc: string): string {
  const a = doc.indexOf(TABLE_BEGIN);
  const b = doc.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error('the document has no permissions-table markers');
  return `${doc.slice(0, a + TABLE_BEGIN.length)}\n\n${renderMatrix()}\n${doc.slice(b)}`;
}
