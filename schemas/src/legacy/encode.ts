// Contract events in the original agent's HTTP bodies (original-inventory §1.4–§1.8), with its bugs fixed: RSSI and
// SNR read from the right fields, names and zeros kept, routes ending at their target. The agent posts these; the
// API answers its legacy packet list with the same payloads.
import type { NodeDbSnapshot, TraceOutcome } from '../events/nodedb.js';
import type { Reception } from '../events/reception.js';

import { nodeIdFromNum } from '../nodes.js';
import type { Port } from '../subjects.js';
import { legacyTypeOfPort, nodeRef, snakeKeys, snrDb } from './vocabulary.js';

type Obj = Record<string, unknown>;
const ids = (v: unknown): string[] => (Array.isArray(v) ? v.map((n) => nodeRef(n as number)) : []);
const snrs = (v: unknown): (number | null)[] => (Array.isArray(v) ? v.map((s) => snrDb(s as number)) : []);
const iso = (ms: number) => new Date(ms).toISOString();

/** A Routing message without an error reason is an ack (NONE, 0, absent on the wire) unless it is a route request or reply. */
function errorReason(p: Obj): number | null {
  if (typeof p.errorReason === 'number') return p.errorReason;
  return p.routeRequest !== undefined || p.routeReply !== undefined ? null : 0;
}

/** A decoded payload in the shape the original gave that type; `from` fills a user's missing id. */
export function legacyPayload(port: Port, payload: unknown, from?: number): unknown {
  const p = (payload && typeof payload === 'object' ? payload : {}) as Obj;
  switch (port) {
    case 'text':
    case 'rangetest':
      return typeof p.text === 'string' ? p.text : null;
    case 'position':
      return {
        latitude: p.latitude ?? (typeof p.latitudeI === 'number' ? p.latitudeI / 1e7 : null),
        longitude: p.longitude ?? (typeof p.longitudeI === 'number' ? p.longitudeI / 1e7 : null),
        altitude: p.altitude ?? null,
        time: p.time ?? null,
      };
    case 'telemetry':
      return snakeKeys(p);
    case 'nodeinfo':
      return {
        id: p.id ?? (from === undefined ? null : nodeIdFromNum(from)),
        long_name: p.longName ?? null,
        short_name: p.shortName ?? null,
        macaddr: p.macaddr ?? null,
        hw_model: p.hwModel ?? null,
        // CLIENT (0) is the protobuf default and absent on the wire.
        role: p.role ?? 0,
      };
    case 'routing':
      return { error_reason: errorReason(p) };
    case 'traceroute':
      return {
        route: ids(p.route),
        route_back: ids(p.routeBack),
        snr_towards: snrs(p.snrTowards),
        snr_back: snrs(p.snrBack),
      };
    case 'encrypted':
      return null;
    default:
      return payload ?? null;
  }
}

const rxAt = (r: Reception) => (r.packet.rxTime > 0 ? r.packet.rxTime * 1000 : r.receivedAt);
const rssiOf = (r: Reception) => (r.packet.rxRssi === 0 ? null : r.packet.rxRssi);
// 0/0 is what a radio reports for a packet it did not measure (its own); a real 0 dB SNR comes with an RSSI.
const snrOf = (r: Reception) => (r.packet.rxSnr === 0 && r.packet.rxRssi === 0 ? null : r.packet.rxSnr);

/** One reception as the original agent's packet record. */
export function legacyPacket(r: Reception): Obj {
  const h = r.packet;
  return {
    timestamp: iso(rxAt(r)),
    from_node: nodeIdFromNum(h.from),
    to_node: nodeRef(h.to),
    packet_id: h.id,
    channel: h.channel,
    hop_limit: h.hopLimit,
    hop_start: h.hopStart,
    want_ack: h.wantAck,
    rssi: rssiOf(r),
    snr: snrOf(r),
    type: legacyTypeOfPort(r.port),
    payload: legacyPayload(r.port, r.payload, h.from),
    ...(r.data ? { portnum: r.data.portnum } : {}),
  };
}

/** The node_status list of a data body, from the receptions in it (latest per node). */
export function legacyNodeStatus(rs: readonly Reception[]): Obj[] {
  const byNode = new Map<number, Obj>();
  for (const r of rs) {
    const h = r.packet;
    const prev = byNode.get(h.from) ?? { node_id: nodeIdFromNum(h.from), battery_level: null, position: null };
    prev.last_seen = iso(rxAt(r));
    prev.rssi = rssiOf(r) ?? prev.rssi ?? null;
    prev.snr = snrOf(r) ?? prev.snr ?? null;
    const p = r.payload as Obj | null;
    if (r.port === 'position' && typeof p?.latitude === 'number' && typeof p?.longitude === 'number')
      prev.position = [p.latitude, p.longitude];
    const dm = r.port === 'telemetry' ? (p?.deviceMetrics as Obj | undefined) : undefined;
    if (dm && typeof dm.batteryLevel === 'number') prev.battery_level = dm.batteryLevel;
    byNode.set(h.from, prev);
  }
  return [...byNode.values()];
}

/** The agent's place, as its register and data bodies carry it. */
export interface LegacyLocation {
  readonly name: string;
  readonly lat: number | null;
  readonly lon: number | null;
}

const locationOf = (l: LegacyLocation) => ({ name: l.name, coordinates: [l.lat, l.lon] });

/** POST /api/agent/register. */
export function legacyRegisterBody(agent: string, location: LegacyLocation): Obj {
  return { agent_id: agent, location: locationOf(location) };
}

/** POST /api/agent/data: the packets and the node status derived from them. */
export function legacyDataBody(agent: string, location: LegacyLocation, rs: readonly Reception[], now: number): Obj {
  return {
    agent_id: agent,
    location: locationOf(location),
    timestamp: iso(now),
    packets: rs.map(legacyPacket),
    node_status: legacyNodeStatus(rs),
  };
}

/** POST /api/agent/nodedb: the nodes `allow` passes (a destination's node filters). */
export function legacyNodeDbBody(agent: string, snap: NodeDbSnapshot, allow: (num: number) => boolean): Obj {
  const nodes: Obj = {};
  for (const n of snap.nodes) {
    if (!allow(n.num)) continue;
    const id = nodeIdFromNum(n.num);
    const u = n.user;
    const p = n.position;
    nodes[id] = {
      num: n.num,
      user: u
        ? {
            id: u.id ?? id,
            longName: u.longName,
            shortName: u.shortName,
            macaddr: u.macaddr,
            hwModel: u.hwModel,
            role: u.role ?? 0,
            isLicensed: u.isLicensed ?? false,
          }
        : undefined,
      position: p ? { latitude: p.latitude, longitude: p.longitude, altitude: p.altitude, time: p.time } : undefined,
      deviceMetrics: n.deviceMetrics,
      snr: n.snr,
      hopsAway: n.hopsAway,
      lastHeard: n.lastHeard,
      isFavorite: n.isFavorite ?? false,
    };
  }
  return { agent_id: agent, timestamp: iso(snap.takenAt), nodes };
}

/** A successful traceroute as one entry of the routes body (the path ends at the target, not the agent). */
export function legacyRoute(t: TraceOutcome): Obj {
  const path = t.towards?.route ?? [t.from, t.to];
  return {
    discovery_id: `${t.agent}-${t.requestId.toString(16)}`,
    source_node_id: nodeIdFromNum(t.from),
    target_node_id: nodeIdFromNum(t.to),
    route_path: path.map(nodeIdFromNum),
    // The original's route_back holds the intermediate hops only.
    route_back: (t.back?.route ?? []).slice(1, -1).map(nodeIdFromNum),
    snr_towards: t.towards?.snr ?? [],
    snr_back: t.back?.snr ?? [],
    hop_count: path.length - 1,
    total_time_ms: t.finishedAt - t.startedAt,
    discovery_timestamp: iso(t.startedAt),
    response_timestamp: iso(t.finishedAt),
    channel_index: t.channel ?? 0,
    discovery_method: 'meshtastic_traceroute',
    success: t.outcome === 'success',
  };
}

/** POST /api/agent/routes. */
export function legacyRoutesBody(agent: string, traces: readonly TraceOutcome[], now: number): Obj {
  return { agent_id: agent, timestamp: iso(now), discovery_type: 'traceroute', routes: traces.map(legacyRoute) };
}
