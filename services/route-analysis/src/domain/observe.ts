import {
  BROADCAST_NUM,
  type MeshEvent,
  type NodeDbSnapshot,
  nodeNumFromId,
  type PayloadOf,
  type Reception,
  type TraceOutcome,
  type TracePath,
} from '@mmm/schemas';
import { type Observation, UNKNOWN_NODE } from './types.js';

/** RouteDiscovery SNR is dB x 4; -128 means the hop's SNR is unknown. */
const SNR_UNKNOWN_X4 = -128;

// @mmm/schemas' ReceptionOf<P> resolves to never (its variants are built by PORTS.map, so each one's port is the
// whole union); narrow the payload by hand once the port is checked.
type ReceptionWith<P extends 'neighborinfo' | 'traceroute'> = Omit<Reception, 'payload'> & { payload: PayloadOf<P> };

function isNode(n: number | undefined): n is number {
  return n !== undefined && n !== 0 && n !== UNKNOWN_NODE && n !== BROADCAST_NUM;
}

/** Turns one event into the measurements it carries. Pure: the same event always gives the same observations. */
export function observe(ev: MeshEvent): Observation[] {
  switch (ev.kind) {
    case 'reception':
      return observeReception(ev);
    case 'trace':
      return observeTrace(ev);
    case 'nodedb':
      return observeNodeDb(ev);
    case 'status':
      return isNode(ev.radio.myNodeNum)
        ? [{ kind: 'agent-node', site: ev.site, agent: ev.agent, node: ev.radio.myNodeNum, t: ev.at }]
        : [];
    default:
      return [];
  }
}

/** Links along a path: `snr[i]` was measured at route[i+1] hearing route[i]; only hops with a reported SNR slot. */
export function pathLinks(
  route: readonly number[],
  snr: readonly (number | null)[],
  t: number,
  key: string,
): Observation[] {
  const out: Observation[] = [];
  const hops = Math.min(route.length - 1, snr.length);
  for (let i = 0; i < hops; i++) {
    const from = route[i];
    const to = route[i + 1];
    if (!isNode(from) || !isNode(to) || from === to) continue;
    out.push({ kind: 'link', from, to, snr: snr[i] ?? null, t, evidence: 'traceroute', key });
  }
  for (const node of route) if (isNode(node)) out.push({ kind: 'node', node, t });
  return out;
}

function observeTrace(ev: TraceOutcome): Observation[] {
  const out: Observation[] = [];
  if (isNode(ev.from))
    out.push({ kind: 'agent-node', site: ev.site, agent: ev.agent, node: ev.from, t: ev.finishedAt });
  if (ev.outcome !== 'success') return out;
  // The same traceroute may also arrive as a reception of its reply: key by (originator, request id) so it counts once.
  const key = `tr:${ev.from}:${ev.requestId}`;
  const paths: TracePath[] = [ev.towards, ev.back].filter((p): p is TracePath => !!p);
  for (const p of paths) out.push(...pathLinks(p.route, p.snr, ev.finishedAt, key));
  return out;
}

function observeNodeDb(ev: NodeDbSnapshot): Observation[] {
  const out: Observation[] = [];
  const me = ev.myNodeNum;
  if (isNode(me)) out.push({ kind: 'agent-node', site: ev.site, agent: ev.agent, node: me, t: ev.takenAt });
  for (const n of ev.nodes) {
    if (!isNode(n.num) || n.num === me) continue;
    const heard = n.lastHeard && n.lastHeard * 1000 <= ev.takenAt ? n.lastHeard * 1000 : ev.takenAt;
    out.push({ kind: 'node', node: n.num, t: heard });
    if (n.viaMqtt || n.hopsAway === undefined) continue;
    out.push({ kind: 'hops', site: ev.site, agent: ev.agent, node: n.num, hops: n.hopsAway, t: heard });
    // The node DB's snr is that of the last packet heard from the node; with zero hops that is a direct link.
    if (n.hopsAway === 0 && isNode(me) && n.lastHeard && typeof n.snr === 'number') {
      out.push({
        kind: 'link',
        from: n.num,
        to: me,
        snr: n.snr,
        t: heard,
        evidence: 'direct',
        key: `ndb:${n.num}:${n.lastHeard}`,
      });
    }
  }
  return out;
}

function observeReception(ev: Reception): Observation[] {
  const p = ev.packet;
  const out: Observation[] = [];
  if (isNode(p.from)) out.push({ kind: 'node', node: p.from, t: ev.receivedAt });
  if (ev.port === 'neighborinfo') out.push(...observeNeighborInfo(ev as ReceptionWith<'neighborinfo'>));
  if (ev.port === 'traceroute') out.push(...observeRouteDiscovery(ev as ReceptionWith<'traceroute'>));
  // A packet that crossed MQTT anywhere says nothing about radio links to the receiver.
  if (p.viaMqtt || !isNode(p.from)) return out;
  // hopStart 0 is "unknown" on firmware before 2.3, not "direct".
  if (p.hopStart === 0 || p.hopLimit > p.hopStart) return out;
  const hops = p.hopStart - p.hopLimit;
  // rxSnr and rxRssi both zero: the source gave no radio metadata (e.g. a replay), not a 0 dB reading.
  const snr = p.rxSnr === 0 && p.rxRssi === 0 ? null : p.rxSnr;
  const measurement = p.id !== 0 ? `${p.from}:${p.id}` : `${p.from}:0:${p.rxTime || ev.receivedAt}`;
  if (ev.source === 'mqtt') {
    // Zero hops to an MQTT gateway is a direct link sender -> gateway; hops and relays are the gateway's, not ours.
    const gw = gatewayNode(ev.gatewayId);
    if (hops === 0 && isNode(gw) && gw !== p.from) {
      out.push({
        kind: 'link',
        from: p.from,
        to: gw,
        snr,
        t: ev.receivedAt,
        evidence: 'direct',
        key: `rx:${measurement}:${gw}`,
      });
    }
    return out;
  }
  out.push({ kind: 'hops', site: ev.site, agent: ev.agent, node: p.from, hops, t: ev.receivedAt });
  if (hops === 0) {
    out.push({
      kind: 'direct-to-agent',
      site: ev.site,
      agent: ev.agent,
      from: p.from,
      snr,
      t: ev.receivedAt,
      key: `rx:${measurement}`,
    });
  } else if (p.relayNode !== 0) {
    out.push({ kind: 'relay', site: ev.site, agent: ev.agent, relayByte: p.relayNode & 0xff, t: ev.receivedAt });
  }
  return out;
}

function gatewayNode(id: string | undefined): number | undefined {
  if (!id) return undefined;
  try {
    return nodeNumFromId(id);
  } catch {
    return undefined;
  }
}

function observeNeighborInfo(ev: ReceptionWith<'neighborinfo'>): Observation[] {
  const p = ev.packet;
  const reporter = isNode(ev.payload.nodeId) ? ev.payload.nodeId : p.from;
  if (!isNode(reporter)) return [];
  // Every agent that hears the same report gets the same packet (from, id): count it once.
  const report = p.id !== 0 ? `${p.from}:${p.id}` : `${reporter}:t${p.rxTime || ev.receivedAt}`;
  const out: Observation[] = [{ kind: 'node', node: reporter, t: ev.receivedAt }];
  for (const n of ev.payload.neighbors) {
    // No separate node observation: a link observation makes both ends known nodes.
    if (!isNode(n.nodeId) || n.nodeId === reporter) continue;
    const snr = Number.isFinite(n.snr) ? n.snr : null;
    out.push({
      kind: 'link',
      from: n.nodeId,
      to: reporter,
      snr,
      t: ev.receivedAt,
      evidence: 'neighborinfo',
      key: `ni:${report}`,
    });
  }
  return out;
}

const snrDb = (x4: number | undefined): number | null => (x4 === undefined || x4 === SNR_UNKNOWN_X4 ? null : x4 / 4);

/**
 * A RouteDiscovery overheard on the mesh. A request in flight (no requestId) carries the hops so far from its
 * sender; a reply (requestId set) carries the whole forward path and the return path so far. Both are keyed by
 * (originator, request packet id), like the agent's own trace outcome, so every sighting of one traceroute counts once.
 */
function observeRouteDiscovery(ev: ReceptionWith<'traceroute'>): Observation[] {
  const p = ev.packet;
  const d = ev.data;
  if (!d || !isNode(p.from) || !isNode(p.to)) return [];
  const rd = ev.payload;
  const t = ev.receivedAt;
  if (d.requestId === 0) {
    if (p.id === 0) return [];
    return pathLinks([p.from, ...rd.route, p.to], rd.snrTowards.map(snrDb), t, `tr:${p.from}:${p.id}`);
  }
  const key = `tr:${p.to}:${d.requestId}`;
  return [
    ...pathLinks([p.to, ...rd.route, p.from], rd.snrTowards.map(snrDb), t, key),
    ...pathLinks([p.from, ...rd.routeBack, p.to], rd.snrBack.map(snrDb), t, key),
  ];
}
