import { createHash } from 'node:crypto';
import {
  type AgentStatus,
  assertEvent,
  type NodeDbEntry,
  type NodeDbSnapshot,
  nodeNumFromId,
  type Port,
  type Reception,
  SCHEMA_VERSION,
  type TraceOutcome,
} from '@mmm/schemas';
import { camelCase, macToBase64, portOfLegacyType } from '@mmm/schemas/legacy';
import { hwModelNum, roleNum } from '../rest/format.js';

/** A legacy body field that cannot be turned into a contract event; the message names the field. */
export class LegacyBodyError extends Error {
  override readonly name = 'LegacyBodyError';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const fin = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const uint = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;

/** The original sends Python isoformat() ("…+00:00", microseconds); accepts epoch seconds/ms too. */
export function parseTime(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v < 1e11 ? Math.round(v * 1000) : Math.round(v);
  if (typeof v === 'string' && v.length <= 64) {
    // Python's naive isoformat has no zone: the original agent's clock is UTC.
    const s = /[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`;
    const ms = Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
    if (Number.isFinite(ms) && ms > 0) return ms;
  }
  throw new LegacyBodyError(`${field}: expected an ISO-8601 timestamp, got ${JSON.stringify(v)?.slice(0, 60)}`);
}

export function nodeNum(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  if (typeof v === 'string') {
    try {
      return nodeNumFromId(v);
    } catch {
      // fall through to the error naming the field
    }
  }
  throw new LegacyBodyError(`${field}: expected a node id like !a1b2c3d4, got ${JSON.stringify(v)?.slice(0, 60)}`);
}

function camelMetrics(v: unknown): Record<string, number | boolean | string | null> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, number | boolean | string | null> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string' || x === null) out[camelCase(k)] = x;
  }
  return out;
}

/** The original's user fields (snake_case from packets, camelCase from nodedb) as meshtastic.User JSON. */
export function userFrom(u: Obj): Obj {
  const out: Obj = {};
  const id = u.id;
  if (typeof id === 'string') out.id = id;
  const long = u.longName ?? u.long_name;
  const short = u.shortName ?? u.short_name;
  if (typeof long === 'string') out.longName = long;
  if (typeof short === 'string') out.shortName = short;
  const mac = macToBase64(u.macaddr);
  if (mac) out.macaddr = mac;
  const hw = u.hwModel ?? u.hw_model;
  if (typeof hw === 'number' && Number.isInteger(hw)) out.hwModel = hw;
  else if (typeof hw === 'string') {
    const n = hwModelNum(hw);
    if (n !== undefined) out.hwModel = n;
    else out.hwModelName = hw.slice(0, 64);
  }
  const role = roleNum(u.role);
  if (role !== undefined) out.role = role;
  const lic = u.isLicensed ?? u.is_licensed;
  if (typeof lic === 'boolean') out.isLicensed = lic;
  return out;
}

function nodeList(v: unknown, field: string): number[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((r) => (typeof r === 'string' || typeof r === 'number' ? [nodeNum(r, field)] : []));
}

/** RouteDiscovery SNRs (dB × 4, −128 unknown) from dB. */
const snrQuarters = (v: unknown): number[] =>
  Array.isArray(v) ? v.map((s) => (typeof s === 'number' && Number.isFinite(s) ? Math.round(s * 4) : -128)) : [];

function positionFrom(p: Obj): Obj {
  const out: Obj = {};
  const lat = fin(p.latitude) ?? (fin(p.latitudeI) !== undefined ? (p.latitudeI as number) / 1e7 : undefined);
  const lon = fin(p.longitude) ?? (fin(p.longitudeI) !== undefined ? (p.longitudeI as number) / 1e7 : undefined);
  if (lat !== undefined && lon !== undefined && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
    out.latitudeI = Math.round(lat * 1e7);
    out.longitudeI = Math.round(lon * 1e7);
    out.latitude = lat;
    out.longitude = lon;
  }
  const alt = fin(p.altitude);
  if (alt !== undefined) out.altitude = Math.round(alt);
  const time = fin(p.time);
  if (time !== undefined && time >= 0 && time <= 0xffffffff) out.time = Math.floor(time);
  return out;
}

function payloadFor(port: Port, raw: unknown, channel: number, portnum: number | undefined): Obj {
  const p = isObj(raw) ? raw : {};
  switch (port) {
    case 'text':
      return { text: typeof raw === 'string' ? raw : typeof p.text === 'string' ? p.text : '' };
    case 'position':
      return positionFrom(p);
    case 'telemetry': {
      const out: Obj = {};
      for (const [k, v] of Object.entries(p)) {
        const m = camelMetrics(v);
        if (m) out[camelCase(k)] = m;
      }
      return out;
    }
    case 'nodeinfo':
      return userFrom(p);
    case 'routing': {
      const e = p.error_reason ?? p.errorReason;
      return typeof e === 'number' && Number.isInteger(e) ? { errorReason: e } : {};
    }
    case 'traceroute':
      // The original sent `route` only; our agent adds the way back and the SNRs in dB (null: unknown).
      return {
        route: nodeList(p.route, 'payload.route'),
        snrTowards: snrQuarters(p.snr_towards),
        routeBack: nodeList(p.route_back, 'payload.route_back'),
        snrBack: snrQuarters(p.snr_back),
      };
    case 'encrypted':
      return { channelHash: channel, reason: 'the legacy agent could not decode it' };
    default:
      // The original forwarded the decoded dict it did not understand; keep it, bytes are not available.
      return { portnum: fin(p.portnum) ?? portnum ?? 0, bytes: '', legacy: raw ?? null };
  }
}

/** One of the original agent's packet records as a Reception (source legacy-http). */
export function receptionFromLegacy(site: string, agent: string, pkt: unknown, index: number): Reception {
  const f = `packets[${index}]`;
  if (!isObj(pkt)) throw new LegacyBodyError(`${f}: expected an object`);
  const port = portOfLegacyType(pkt.type);
  const receivedAt = parseTime(pkt.timestamp, `${f}.timestamp`);
  const from = nodeNum(pkt.from_node, `${f}.from_node`);
  const to = pkt.to_node === undefined || pkt.to_node === null ? 0xffffffff : nodeNum(pkt.to_node, `${f}.to_node`);
  const id = pkt.packet_id;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new LegacyBodyError(`${f}.packet_id: expected an unsigned 32-bit integer`);
  }
  const channel =
    typeof pkt.channel === 'number' && Number.isInteger(pkt.channel) && pkt.channel >= 0 ? pkt.channel : 0;
  const hopLimit = uint(pkt.hop_limit) ?? 0;
  // The original sent no hop_start; our agent does, and hops = hop_start − hop_limit needs it.
  const hopStart = uint(pkt.hop_start) ?? 0;
  const ev = {
    v: SCHEMA_VERSION,
    kind: 'reception',
    site,
    agent,
    receivedAt,
    source: 'legacy-http',
    port,
    packet: {
      from,
      to,
      id,
      channel,
      rxTime: Math.floor(receivedAt / 1000),
      rxSnr: fin(pkt.snr) ?? 0,
      rxRssi: Math.round(fin(pkt.rssi) ?? 0),
      hopStart,
      hopLimit,
      relayNode: 0,
      nextHop: 0,
      wantAck: pkt.want_ack === true,
      viaMqtt: false,
      priority: 0,
      pkiEncrypted: false,
    },
    encryption: port === 'encrypted' ? 'undecryptable' : 'none',
    payload: payloadFor(port, pkt.payload, channel, uint(pkt.portnum)),
  } as Reception;
  try {
    return assertEvent(ev);
  } catch (err) {
    throw new LegacyBodyError(`${f}: ${(err as Error).message}`, { cause: err });
  }
}

/** `node_status` of a data body (position, battery, last seen per node) as a NodeDbSnapshot. */
export function snapshotFromNodeStatus(
  site: string,
  agent: string,
  takenAt: number,
  list: unknown[],
): NodeDbSnapshot | undefined {
  const nodes: NodeDbEntry[] = [];
  list.forEach((s, i) => {
    if (!isObj(s)) throw new LegacyBodyError(`node_status[${i}]: expected an object`);
    const e: NodeDbEntry = { num: nodeNum(s.node_id, `node_status[${i}].node_id`) };
    if (Array.isArray(s.position) && s.position.length >= 2) {
      const pos = positionFrom({ latitude: s.position[0], longitude: s.position[1] });
      if (pos.latitudeI !== undefined) e.position = pos;
    }
    const battery = fin(s.battery_level);
    if (battery !== undefined) e.deviceMetrics = { batteryLevel: battery };
    const snr = fin(s.snr);
    if (snr !== undefined) e.snr = snr;
    nodes.push(e);
  });
  if (!nodes.length) return undefined;
  return assertEvent({ v: SCHEMA_VERSION, kind: 'nodedb', site, agent, takenAt, reason: 'legacy', nodes });
}

export function snapshotFromNodeDb(site: string, agent: string, takenAt: number, map: Obj): NodeDbSnapshot {
  const nodes: NodeDbEntry[] = [];
  for (const [key, raw] of Object.entries(map)) {
    const f = `nodes[${JSON.stringify(key).slice(0, 40)}]`;
    if (!isObj(raw)) throw new LegacyBodyError(`${f}: expected an object`);
    const e: NodeDbEntry = { num: nodeNum(raw.num ?? key, `${f}.num`) };
    if (isObj(raw.user)) e.user = userFrom(raw.user);
    if (isObj(raw.position)) {
      const pos = positionFrom(raw.position);
      if (Object.keys(pos).length) e.position = pos;
    }
    const dm = camelMetrics(raw.deviceMetrics);
    if (dm)
      e.deviceMetrics = Object.fromEntries(
        Object.entries(dm).filter(([, v]) => typeof v === 'number' || v === null),
      ) as Record<string, number | null>;
    const snr = fin(raw.snr);
    if (snr !== undefined) e.snr = snr;
    const lh = fin(raw.lastHeard);
    if (lh !== undefined && lh > 0) e.lastHeard = Math.floor(lh > 1e11 ? lh / 1000 : lh);
    const hops = raw.hopsAway;
    if (typeof hops === 'number' && Number.isInteger(hops) && hops >= 0) e.hopsAway = hops;
    if (typeof raw.isFavorite === 'boolean') e.isFavorite = raw.isFavorite;
    nodes.push(e);
  }
  try {
    return assertEvent({ v: SCHEMA_VERSION, kind: 'nodedb', site, agent, takenAt, reason: 'legacy', nodes });
  } catch (err) {
    throw new LegacyBodyError((err as Error).message, { cause: err });
  }
}

/** FNV-1a of the discovery id: the contract's requestId is a uint32, the original's discovery id a uuid. */
export function requestIdOf(discoveryId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < discoveryId.length; i++) {
    h ^= discoveryId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const snrList = (v: unknown, n: number): (number | null)[] => {
  const a = Array.isArray(v) ? v : [];
  return Array.from({ length: n }, (_, i) => fin(a[i]) ?? null);
};

export function traceFromLegacy(site: string, agent: string, bodyTs: number, r: unknown, index: number): TraceOutcome {
  const f = `routes[${index}]`;
  if (!isObj(r)) throw new LegacyBodyError(`${f}: expected an object`);
  const pathIds = Array.isArray(r.route_path) ? r.route_path : [];
  const route = pathIds.map((x, i) => nodeNum(x, `${f}.route_path[${i}]`));
  const from = r.source_node_id !== undefined ? nodeNum(r.source_node_id, `${f}.source_node_id`) : route[0];
  const to =
    r.target_node_id !== undefined ? nodeNum(r.target_node_id, `${f}.target_node_id`) : route[route.length - 1];
  if (from === undefined || to === undefined)
    throw new LegacyBodyError(`${f}: needs source_node_id and target_node_id or a route_path`);
  const discoveryId =
    typeof r.discovery_id === 'string' && r.discovery_id ? r.discovery_id : `${from}:${to}:${bodyTs}:${index}`;
  const startedAt =
    r.discovery_timestamp !== undefined ? parseTime(r.discovery_timestamp, `${f}.discovery_timestamp`) : bodyTs;
  const finishedAt =
    r.response_timestamp !== undefined ? parseTime(r.response_timestamp, `${f}.response_timestamp`) : startedAt;
  const success = r.success !== false && route.length > 1;
  const back = Array.isArray(r.route_back) ? r.route_back.map((x, i) => nodeNum(x, `${f}.route_back[${i}]`)) : [];
  const ev: TraceOutcome = {
    v: SCHEMA_VERSION,
    kind: 'trace',
    site,
    agent,
    requestId: requestIdOf(discoveryId),
    from,
    to,
    startedAt,
    finishedAt: Math.max(finishedAt, startedAt),
    outcome: success ? 'success' : 'timeout',
    trigger: 'legacy',
    ...(typeof r.channel_index === 'number' && Number.isInteger(r.channel_index) && r.channel_index >= 0
      ? { channel: r.channel_index }
      : {}),
    ...(success ? { towards: { route, snr: snrList(r.snr_towards, route.length - 1) } } : {}),
    // The original's route_back holds the intermediate hops only; the endpoints are the trace's own.
    ...(success && back.length
      ? { back: { route: [to, ...back, from], snr: snrList(r.snr_back, back.length + 1) } }
      : {}),
  };
  try {
    return assertEvent(ev);
  } catch (err) {
    throw new LegacyBodyError(`${f}: ${(err as Error).message}`, { cause: err });
  }
}

export function statusFromRegister(site: string, agent: string, body: Obj, now: number): AgentStatus {
  const loc = isObj(body.location) ? body.location : {};
  const coords = Array.isArray(loc.coordinates) ? loc.coordinates : [];
  const lat = fin(coords[0]);
  const lon = fin(coords[1]);
  const ev: AgentStatus = {
    v: SCHEMA_VERSION,
    kind: 'status',
    site,
    agent,
    at: now,
    startedAt: now,
    version: 'legacy',
    location: {
      name: typeof loc.name === 'string' ? loc.name.slice(0, 200) : agent,
      lat: lat !== undefined && Math.abs(lat) <= 90 ? lat : null,
      lon: lon !== undefined && Math.abs(lon) <= 180 ? lon : null,
    },
    radio: {
      state: 'connected',
      transport: 'none',
      address: 'legacy-http',
      since: now,
      lastFrameAt: null,
      reconnects: 0,
    },
    buffer: { inFlight: 0, streamMessages: 0, streamBytes: 0 },
    counters: {},
  };
  return assertEvent(ev);
}

/** Stable digest of a body, for Msg-Ids of events whose body carries no time of its own. */
export function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
