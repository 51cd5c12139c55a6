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

export const SITE_EVENT_KINDS = ['rx', 'nodedb', 'trace', 'status'] as const;
export type SiteEventKind = (typeof SITE_EVENT_KINDS)[number];

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
  nodedb(site: string, agent: string): string {
    return `${SUBJECT_ROOT}.${assertSite(site)}.${assertToken('agent id', agent)}.nodedb`;
  },
  trace(site: string, agent: string): string {
    return `${SUBJECT_ROOT}.${assertSite(site)}.${assertToken('agent id', agent)}.trace`;
  },
  status(site: string, agent: string): string {
    return `${SUBJECT_ROOT}.${assertSite(site)}.${assertToken('agent id', agent)}.status`;
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
  kindFilter(kind: Exclude<SiteEventKind, 'rx'>, opts: { site?: string; agent?: string } = {}): string {
    return `${SUBJECT_ROOT}.${opts.site ? assertSite(opts.site) : '*'}.${opts.agent ? assertToken('agent id', opts.agent) : '*'}.${kind}`;
  },
  topologyAll: `${SUBJECT_ROOT}.derived.topology.>`,
  deadLetterAll: `${SUBJECT_ROOT}.dlq.>`,
} as const;

export type ParsedSubject =
  | { kind: 'rx'; site: string; agent: string; port: Port }
  | { kind: 'nodedb' | 'trace' | 'status'; site: string; agent: string }
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
  if (t.length === 5 && (t[4] === 'nodedb' || t[4] === 'trace' || t[4] === 'status')) {
    return { kind: t[4], site, agent };
  }
  throw new ContractError(`subject ${JSON.stringify(subject)} is not a known event subject`);
}
