import { ContractError } from './errors.js';
import { assertSite, assertToken } from './tokens.js';

export const SUBJECT_ROOT = 'mesh.v1';

/** Lower-case port tokens: one per Meshtastic application port we decode, plus `encrypted` and `other`. */
export const PORTS = [
  'text',
  'position',
  'nodeinfo',
  'telemetry',
  'routing',
  'traceroute',
  'neighborinfo',
  'waypoint',
  'mapreport',
  'rangetest',
  'storeforward',
  'paxcounter',
  'encrypted',
  'other',
] as const;
export type Port = (typeof PORTS)[number];

/** The last token of a site subject: `rx` (followed by the port) or the kind of an agent's other events. */
export const SITE_EVENT_KINDS = ['rx', 'nodedb', 'trace', 'status'] as const;
export type SiteEventKind = (typeof SITE_EVENT_KINDS)[number];
/** Site events with no port token: `mesh.v1.<site>.<agent>.<kind>`. */
export type AgentEventKind = Exclude<SiteEventKind, 'rx'>;
export const AGENT_EVENT_KINDS = SITE_EVENT_KINDS.filter((k): k is AgentEventKind => k !== 'rx');

function isAgentEventKind(value: string | undefined): value is AgentEventKind {
  return (AGENT_EVENT_KINDS as readonly (string | undefined)[]).includes(value);
}

export const TOPOLOGY_KINDS = ['link', 'hops', 'relay'] as const;
export type TopologyKind = (typeof TOPOLOGY_KINDS)[number];

export function isPort(value: string): value is Port {
  return (PORTS as readonly string[]).includes(value);
}

export const subjects = {
  /** One reception of one packet by one agent. */
  rx(site: string, agent: string, port: Port): string {
    if (!isPort(port)) throw new ContractError(`port ${JSON.stringify(port)} is not one of ${PORTS.join(', ')}`);
    return `${SUBJECT_ROOT}.${assertSite(site)}.${assertToken('agent id', agent)}.rx.${port}`;
  },
  /** A site event other than a reception: `mesh.v1.<site>.<agent>.<kind>`. */
  site(site: string, agent: string, kind: AgentEventKind): string {
    if (!isAgentEventKind(kind))
      throw new ContractError(`site event kind ${JSON.stringify(kind)} is not one of ${AGENT_EVENT_KINDS.join(', ')}`);
    return `${SUBJECT_ROOT}.${assertSite(site)}.${assertToken('agent id', agent)}.${kind}`;
  },
  nodedb(site: string, agent: string): string {
    return subjects.site(site, agent, 'nodedb');
  },
  trace(site: string, agent: string): string {
    return subjects.site(site, agent, 'trace');
  },
  status(site: string, agent: string): string {
    return subjects.site(site, agent, 'status');
  },
  topology(kind: TopologyKind): string {
    if (!(TOPOLOGY_KINDS as readonly string[]).includes(kind)) {
      throw new ContractError(`topology kind ${JSON.stringify(kind)} is not one of ${TOPOLOGY_KINDS.join(', ')}`);
    }
    return `${SUBJECT_ROOT}.derived.topology.${kind}`;
  },
  deadLetter(service: string): string {
    return `${SUBJECT_ROOT}.dlq.${assertToken('service name', service)}`;
  },
  /** Every subject of one site (a leaf stream's filter). */
  siteAll(site: string): string {
    return `${SUBJECT_ROOT}.${assertSite(site)}.>`;
  },
  /** Filters for consumers: any argument left out matches every value. */
  rxFilter(opts: { site?: string; agent?: string; port?: Port } = {}): string {
    return `${SUBJECT_ROOT}.${opts.site ? assertSite(opts.site) : '*'}.${opts.agent ? assertToken('agent id', opts.agent) : '*'}.rx.${opts.port ?? '*'}`;
  },
  kindFilter(kind: AgentEventKind, opts: { site?: string; agent?: string } = {}): string {
    return `${SUBJECT_ROOT}.${opts.site ? assertSite(opts.site) : '*'}.${opts.agent ? assertToken('agent id', opts.agent) : '*'}.${kind}`;
  },
  topologyAll: `${SUBJECT_ROOT}.derived.topology.>`,
  deadLetterAll: `${SUBJECT_ROOT}.dlq.>`,
} as const;

export type ParsedSubject =
  | { kind: 'rx'; site: string; agent: string; port: Port }
  | { kind: AgentEventKind; site: string; agent: string }
  | { kind: 'topology'; topology: TopologyKind }
  | { kind: 'deadletter'; service: string }
  | { kind: 'alert'; rule: string; state: 'firing' | 'resolved' };

/** Parses any subject of the tree; throws a ContractError saying which token is wrong. */
export function parseSubject(subject: string): ParsedSubject {
  const t = subject.split('.');
  if (t[0] !== 'mesh' || t[1] !== 'v1')
    throw new ContractError(`subject ${JSON.stringify(subject)} is not under ${SUBJECT_ROOT}`);
  if (t[2] === 'derived' && t[3] === 'topology' && t.length === 5) {
    const k = t[4] as TopologyKind;
    if ((TOPOLOGY_KINDS as readonly string[]).includes(k)) return { kind: 'topology', topology: k };
    throw new ContractError(`subject ${JSON.stringify(subject)} names an unknown topology kind`);
  }
  if (t[2] === 'alerts' && t.length === 5) {
    const state = t[4];
    if (state !== 'firing' && state !== 'resolved') {
      throw new ContractError(`subject ${JSON.stringify(subject)} names an unknown alert state`);
    }
    return { kind: 'alert', rule: assertToken('rule name', t[3]), state };
  }
  if (t[2] === 'dlq' && t.length === 4) return { kind: 'deadletter', service: assertToken('service name', t[3]) };
  const site = assertSite(t[2]);
  const agent = assertToken('agent id', t[3]);
  if (t[4] === 'rx' && t.length === 6) {
    const port = t[5] ?? '';
    if (!isPort(port))
      throw new ContractError(`subject ${JSON.stringify(subject)} names an unknown port ${JSON.stringify(port)}`);
    return { kind: 'rx', site, agent, port };
  }
  const kind = t[4];
  if (t.length === 5 && isAgentEventKind(kind)) return { kind, site, agent };
  throw new ContractError(`subject ${JSON.stringify(subject)} is not a known event subject`);
}
