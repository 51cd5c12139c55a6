import { portOfTypeName } from '@mmm/schemas/legacy';
import { toMs } from './format.js';
import { any, arr, bool, num, type Obj, obj, str } from './pick.js';
import { roleName } from './roles.js';
import type {
  AgentHealth,
  AgentRow,
  AlertRow,
  LinkRow,
  MapConfig,
  NameChange,
  NeighborRow,
  NodeDetail,
  NodeRoute,
  NodeRow,
  PacketRow,
  PositionPoint,
  Reception,
  Stats,
  TelemetryPoint,
  TraceRow,
} from './types.js';

// One mapper per API object. They accept the original's snake_case shapes and the new camelCase ones, so the app
// keeps working while the API evolves; anything else in the JSON is ignored.

const ACTIVE_MS = 3600_000;

/** `!xxxxxxxx` from a node number, an id string, or nothing. */
export function nodeId(v: unknown): string {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
    return v === 0xffffffff ? '^all' : `!${v.toString(16).padStart(8, '0')}`;
  }
  if (typeof v === 'string') return v;
  return '?';
}

function time(o: Obj, ...keys: string[]): number | null {
  return toMs(any(o, ...keys));
}

function latLon(o: Obj): { lat: number | null; lon: number | null; alt: number | null } {
  const pos = obj(any(o, 'position'));
  const coords = arr(any(o, 'coordinates', 'position'));
  let lat = num(o, 'lat', 'latitude', 'position_lat', 'location_lat') ?? num(pos, 'lat', 'latitude');
  let lon = num(o, 'lon', 'longitude', 'position_lon', 'location_lon') ?? num(pos, 'lon', 'lng', 'longitude');
  if (lat === null && num(pos, 'latitudeI') !== null) lat = (num(pos, 'latitudeI') as number) / 1e7;
  if (lon === null && num(pos, 'longitudeI') !== null) lon = (num(pos, 'longitudeI') as number) / 1e7;
  if (lat === null && coords.length === 2 && typeof coords[0] === 'number') lat = coords[0];
  if (lon === null && coords.length === 2 && typeof coords[1] === 'number') lon = coords[1] as number;
  // A radio without a fix reports 0,0: that is "no position", not a point in the Gulf of Guinea.
  if (lat === 0 && lon === 0) return { lat: null, lon: null, alt: null };
  if (lat !== null && (lat < -90 || lat > 90)) lat = null;
  if (lon !== null && (lon < -180 || lon > 180)) lon = null;
  return { lat, lon, alt: num(o, 'alt', 'altitude') ?? num(pos, 'alt', 'altitude') };
}

function hwName(o: Obj): string | null {
  return str(o, 'hwModelName', 'hw_model_name', 'hwModel', 'hw_model', 'user.hwModel');
}

function agentsOf(o: Obj): string[] {
  const a = any(o, 'seeing_agent_ids', 'agents', 'seeing_agents', 'heardBy', 'agent_ids');
  if (Array.isArray(a))
    return a.map((x) => (typeof x === 'string' ? x : (str(obj(x), 'agent', 'agent_id', 'id') ?? '?')));
  const single = str(o, 'agent_id', 'agent');
  return single ? [single] : [];
}

function routesOf(o: Obj): NodeRoute[] {
  const r = any(o, 'routes', 'agent_routes');
  const list = Array.isArray(r) ? r : Object.values(obj(r));
  return list.map((x) => {
    const ro = obj(x);
    const path = arr(any(ro, 'path', 'route_path', 'route')).map(nodeId);
    return {
      agent: str(ro, 'agent', 'agent_id') ?? '?',
      path,
      hops: num(ro, 'hops', 'hop_count') ?? (path.length > 0 ? path.length - 1 : null),
      at: time(ro, 'at', 'discovery_timestamp', 'finishedAt'),
    };
  });
}

export function toNode(raw: unknown): NodeRow {
  const o = obj(raw);
  const user = obj(any(o, 'user'));
  const dm = obj(any(o, 'deviceMetrics', 'device_metrics', 'metrics'));
  const { lat, lon, alt } = latLon(o);
  return {
    id: nodeId(any(o, 'id', 'node_id', 'nodeId', 'num')),
    shortName: str(o, 'shortName', 'short_name') ?? str(user, 'shortName'),
    longName: str(o, 'longName', 'long_name') ?? str(user, 'longName'),
    hwModel: hwName(o) ?? str(user, 'hwModel'),
    role: roleName((any(o, 'role', 'roleName') ?? any(user, 'role')) as number | string | undefined),
    firmware: str(o, 'firmware', 'firmwareVersion', 'firmware_version'),
    battery: num(o, 'battery', 'battery_level', 'batteryLevel') ?? num(dm, 'batteryLevel', 'battery_level'),
    voltage: num(o, 'voltage') ?? num(dm, 'voltage'),
    channelUtil: num(o, 'channelUtilization', 'channel_utilization', 'channelUtil') ?? num(dm, 'channelUtilization'),
    airUtilTx: num(o, 'airUtilTx', 'air_util_tx') ?? num(dm, 'airUtilTx'),
    uptime: num(o, 'uptimeSeconds', 'uptime_seconds', 'uptime') ?? num(dm, 'uptimeSeconds'),
    lat,
    lon,
    alt,
    rssi: num(o, 'rssi', 'rxRssi'),
    snr: num(o, 'snr', 'rxSnr'),
    hops: num(o, 'hops', 'hopsAway', 'hops_away'),
    lastHeard: time(o, 'lastHeard', 'last_heard', 'lastSeen', 'last_seen', 'updated_at'),
    packets: num(o, 'packets', 'packetCount', 'packet_count'),
    agents: agentsOf(o),
    routes: routesOf(o),
    macaddr: str(o, 'macaddr', 'mac') ?? str(user, 'macaddr'),
    active: bool(o, 'active'),
  };
}

export function toAgent(raw: unknown, now = Date.now()): AgentRow {
  const o = obj(raw);
  const loc = obj(any(o, 'location'));
  const radio = obj(any(o, 'radio'));
  const buffer = obj(any(o, 'buffer'));
  const { lat, lon } = latLon({ ...loc, ...o });
  const lastSeen = time(o, 'lastSeen', 'last_seen', 'at');
  const status = str(o, 'status');
  return {
    id: str(o, 'id', 'agent_id', 'agent') ?? '?',
    site: str(o, 'site'),
    name: str(o, 'name', 'location_name', 'locationName') ?? str(loc, 'name'),
    lat,
    lon,
    lastSeen,
    packets: num(o, 'packets', 'packet_count', 'packetCount'),
    radioState: str(o, 'radioState', 'radio_state') ?? str(radio, 'state'),
    bufferDepth: num(o, 'bufferDepth', 'buffer_depth') ?? num(buffer, 'streamMessages', 'depth'),
    hubConnected: bool(o, 'hubConnected') ?? bool(buffer, 'hubConnected'),
    mqtt: str(o, 'source') === 'mqtt',
    nodeId: (() => {
      const n = any(o, 'nodeId', 'node_id', 'myNodeNum') ?? any(radio, 'myNodeNum');
      return n === undefined ? null : nodeId(n);
    })(),
    active:
      bool(o, 'active') ??
      (status ? status.toLowerCase() === 'active' : lastSeen !== null && now - lastSeen < ACTIVE_MS),
  };
}

export function toPacket(raw: unknown, index = 0): PacketRow {
  const o = obj(raw);
  const pkt = obj(any(o, 'packet'));
  const from = nodeId(any(o, 'from', 'from_node', 'fromId') ?? any(pkt, 'from'));
  const packetId = num(o, 'packetId', 'packet_id') ?? num(pkt, 'id') ?? (typeof o.id === 'number' ? o.id : null);
  const hopStart = num(o, 'hopStart', 'hop_start') ?? num(pkt, 'hopStart');
  const hopLimit = num(o, 'hopLimit', 'hop_limit') ?? num(pkt, 'hopLimit');
  const at = time(o, 'at', 'timestamp', 'rxTime', 'receivedAt', 'time');
  return {
    key:
      typeof o.id === 'string'
        ? o.id
        : `${from}:${packetId ?? `i${index}`}:${str(o, 'agent', 'agent_id') ?? ''}:${at ?? ''}`,
    packetId,
    at,
    from,
    to: nodeId(any(o, 'to', 'to_node', 'toId') ?? any(pkt, 'to')),
    fromName: str(o, 'fromName', 'from_node_display', 'from_name'),
    toName: str(o, 'toName', 'to_node_display', 'to_name'),
    type: normalizeType(str(o, 'port', 'type') ?? 'other'),
    channel: num(o, 'channel') ?? num(pkt, 'channel'),
    agent: str(o, 'agent', 'agent_id'),
    agentName: str(o, 'agentName', 'agent_location', 'agent_name'),
    rssi: num(o, 'rssi', 'rxRssi') ?? num(pkt, 'rxRssi'),
    snr: num(o, 'snr', 'rxSnr') ?? num(pkt, 'rxSnr'),
    relay: num(o, 'relay_node', 'relayNode') ?? num(pkt, 'relayNode'),
    hops: num(o, 'hops') ?? (hopStart !== null && hopLimit !== null && hopStart > 0 ? hopStart - hopLimit : null),
    payload: any(o, 'payload', 'decoded'),
    receptions: num(o, 'receptions', 'reception_count', 'receptionCount'),
  };
}

/** Ports are the canonical type names; the original's names (as the API answers some types) map onto them. */
export function normalizeType(t: string): string {
  return portOfTypeName(t) ?? t.toLowerCase();
}

export function toReception(raw: unknown): Reception {
  const o = obj(raw);
  const pkt = obj(any(o, 'packet'));
  const relay = any(o, 'relay', 'relayNode', 'relay_node') ?? any(pkt, 'relayNode');
  return {
    agent: str(o, 'agent', 'agent_id') ?? '?',
    agentName: str(o, 'agentName', 'agent_location'),
    at: time(o, 'at', 'receivedAt', 'timestamp', 'rxTime'),
    rssi: num(o, 'rssi', 'rxRssi') ?? num(pkt, 'rxRssi'),
    snr: num(o, 'snr', 'rxSnr') ?? num(pkt, 'rxSnr'),
    hopStart: num(o, 'hopStart', 'hop_start') ?? num(pkt, 'hopStart'),
    hopLimit: num(o, 'hopLimit', 'hop_limit') ?? num(pkt, 'hopLimit'),
    relay:
      typeof relay === 'number'
        ? relay === 0
          ? null
          : `0x${relay.toString(16).padStart(2, '0')}`
        : typeof relay === 'string'
          ? relay
          : null,
    viaMqtt: any(o, 'source') === 'mqtt' || any(o, 'via_mqtt', 'viaMqtt') === true || any(pkt, 'viaMqtt') === true,
  };
}

export function toStats(raw: unknown): Stats {
  const o = obj(raw);
  const a = obj(any(o, 'agents'));
  const p = obj(any(o, 'packets'));
  const n = obj(any(o, 'nodes'));
  return {
    agentsTotal: num(a, 'total') ?? num(o, 'agentsTotal', 'total_agents'),
    agentsActive: num(a, 'active') ?? num(o, 'agentsActive', 'active_agents'),
    packetsTotal: num(p, 'total') ?? num(o, 'packetsTotal', 'total_packets'),
    packetsLastHour: num(p, 'recent_hour', 'lastHour', 'last_hour') ?? num(o, 'packetsLastHour'),
    nodesTotal: num(n, 'total') ?? num(o, 'nodesTotal', 'total_nodes'),
    nodesActive: num(n, 'active') ?? num(o, 'nodesActive', 'active_nodes'),
    packetTypes: arr(any(o, 'packet_types', 'packetTypes')).map((x) => ({
      type: normalizeType(str(obj(x), 'type', 'port') ?? 'other'),
      count: num(obj(x), 'count') ?? 0,
    })),
    perHour: arr(any(o, 'per_hour', 'perHour', 'packets_per_hour', 'hourly'))
      .map((x) => ({
        at: time(obj(x), 'at', 'hour', 'bucket', 'time') ?? 0,
        count: num(obj(x), 'count', 'packets') ?? 0,
      }))
      .filter((x) => x.at > 0),
  };
}

function snrArr(v: unknown): (number | null)[] {
  return arr(v).map((x) => (typeof x === 'number' && Number.isFinite(x) ? x : null));
}

export function toLink(raw: unknown): LinkRow {
  const o = obj(raw);
  return {
    from: nodeId(any(o, 'from', 'from_node_id', 'fromId', 'source')),
    to: nodeId(any(o, 'to', 'to_node_id', 'toId', 'target')),
    snr: num(o, 'snr', 'snrLatest', 'snr_latest', 'snrMedian'),
    snrBack: num(o, 'snrBack', 'snr_back', 'reverseSnr'),
    quality: num(o, 'quality', 'link_quality', 'linkQuality'),
    lastSeen: time(o, 'lastSeen', 'last_seen'),
    evidence: arr(any(o, 'evidence')).filter((x): x is string => typeof x === 'string'),
  };
}

/** Pairs the two directions of each link, so a table row can show SNR both ways. */
export function pairLinks(links: readonly LinkRow[]): LinkRow[] {
  const byKey = new Map<string, LinkRow>();
  for (const l of links) {
    const [a, b] = l.from < l.to ? [l.from, l.to] : [l.to, l.from];
    const key = `${a}|${b}`;
    const prev = byKey.get(key);
    if (!prev) {
      byKey.set(key, l.from === a ? l : { ...l, from: a, to: b, snr: l.snrBack, snrBack: l.snr });
      continue;
    }
    const forward = l.from === a;
    byKey.set(key, {
      ...prev,
      snr: forward ? (l.snr ?? prev.snr) : prev.snr,
      snrBack: forward ? prev.snrBack : (l.snr ?? prev.snrBack),
      quality: Math.max(prev.quality ?? 0, l.quality ?? 0),
      lastSeen: Math.max(prev.lastSeen ?? 0, l.lastSeen ?? 0) || null,
      evidence: [...new Set([...prev.evidence, ...l.evidence])],
    });
  }
  return [...byKey.values()];
}

export function toTrace(raw: unknown): TraceRow {
  const o = obj(raw);
  const towards = obj(any(o, 'towards'));
  const back = obj(any(o, 'back'));
  const route = arr(any(towards, 'route') ?? any(o, 'route_path', 'route')).map(nodeId);
  const outcome = str(o, 'outcome');
  return {
    agent: str(o, 'agent', 'agent_id'),
    from: nodeId(any(o, 'from', 'source_node_id', 'source')),
    to: nodeId(any(o, 'to', 'target_node_id', 'target')),
    at: time(o, 'at', 'finishedAt', 'discovery_timestamp', 'response_timestamp'),
    success: outcome ? outcome === 'success' : (bool(o, 'success') ?? route.length > 0),
    towards: route,
    towardsSnr: snrArr(any(towards, 'snr') ?? any(o, 'snr_towards', 'snrTowards')),
    back: arr(any(back, 'route') ?? any(o, 'route_back', 'routeBack')).map(nodeId),
    backSnr: snrArr(any(back, 'snr') ?? any(o, 'snr_back', 'snrBack')),
  };
}

export function toNameChange(raw: unknown): NameChange {
  const o = obj(raw);
  return {
    shortName: str(o, 'shortName', 'short_name'),
    longName: str(o, 'longName', 'long_name'),
    at: time(o, 'at', 'changedAt', 'changed_at'),
    agent: str(o, 'agent', 'changed_by_agent', 'changedByAgent'),
  };
}

/** Every numeric field of every metrics group, flattened: `batteryLevel`, `temperature`, `pm25Standard`... */
export function toTelemetry(raw: unknown): TelemetryPoint | null {
  const o = obj(raw);
  const at = time(o, 'at', 'timestamp', 'time', 'receivedAt');
  if (at === null) return null;
  const values: Record<string, number> = {};
  const payload = obj(any(o, 'payload', 'metrics', 'values'));
  const groups = [
    payload,
    ...Object.values(payload).filter((v) => v && typeof v === 'object'),
    obj(any(o, 'deviceMetrics')),
    obj(any(o, 'environmentMetrics')),
  ];
  for (const g of groups) {
    for (const [k, v] of Object.entries(obj(g))) {
      if (k === 'time') continue;
      if (typeof v === 'number' && Number.isFinite(v)) values[k] = v;
    }
  }
  for (const [k, v] of Object.entries(o)) {
    if (['at', 'timestamp', 'time', 'receivedAt'].includes(k)) continue;
    if (typeof v === 'number' && Number.isFinite(v)) values[k] = v;
  }
  return { at, values };
}

export function toPosition(raw: unknown): PositionPoint | null {
  const o = obj(raw);
  const { lat, lon } = latLon({ ...obj(any(o, 'payload')), ...o });
  const at = time(o, 'at', 'timestamp', 'time', 'receivedAt');
  return lat !== null && lon !== null && at !== null ? { at, lat, lon } : null;
}

export function toNeighbors(raw: unknown): NeighborRow[] {
  const byId = new Map<string, NeighborRow>();
  for (const x of arr(raw)) {
    const o = obj(x);
    const id = nodeId(any(o, 'node_id', 'nodeId', 'id'));
    const snr = num(o, 'avg_snr', 'snr', 'snr_median');
    const out = str(o, 'direction') === 'out';
    const prev = byId.get(id);
    byId.set(id, {
      id,
      name: str(o, 'display_name', 'name') ?? prev?.name ?? null,
      snrIn: out ? (prev?.snrIn ?? null) : (snr ?? prev?.snrIn ?? null),
      snrOut: out ? (snr ?? prev?.snrOut ?? null) : (prev?.snrOut ?? null),
      quality:
        Math.max(prev?.quality ?? -1, num(o, 'quality', 'link_quality') ?? -1) >= 0
          ? Math.max(prev?.quality ?? -1, num(o, 'quality', 'link_quality') ?? -1)
          : null,
      lastContact: Math.max(prev?.lastContact ?? 0, time(o, 'last_contact', 'lastContact', 'last_seen') ?? 0) || null,
      evidence: [
        ...new Set([
          ...(prev?.evidence ?? []),
          ...arr(any(o, 'evidence')).filter((e): e is string => typeof e === 'string'),
        ]),
      ],
    });
  }
  return [...byId.values()];
}

export function toNodeDetail(raw: unknown): NodeDetail {
  const o = obj(raw);
  const stats = obj(any(o, 'packet_stats', 'packetStats'));
  const node = toNode({ ...o, packet_count: num(o, 'packet_count') ?? num(stats, 'total_packets') });
  return {
    node: { ...node, firmware: node.firmware ?? str(o, 'firmware_version') },
    region: str(o, 'region'),
    modemPreset: str(o, 'modem_preset', 'modemPreset'),
    neighbors: toNeighbors(any(o, 'neighbors')),
    firstSeen: time(o, 'first_seen', 'firstSeen') ?? time(stats, 'first_seen'),
  };
}

export function toAgentHealth(raw: unknown): AgentHealth {
  const o = obj(raw);
  const h = obj(any(o, 'health'));
  const radio = obj(any(h, 'radio'));
  const buffer = obj(any(h, 'buffer'));
  return {
    bufferDepth: num(buffer, 'stream_messages', 'streamMessages'),
    inFlight: num(buffer, 'in_flight', 'inFlight'),
    hubConnected: bool(buffer, 'hub_connected', 'hubConnected'),
    hubBacklog: num(buffer, 'hub_backlog', 'hubBacklog'),
    lastSync: time(h, 'last_sync', 'lastSync'),
    radioState: str(radio, 'state') ?? str(o, 'radio_state'),
    transport: str(radio, 'transport'),
    reconnects: num(radio, 'reconnects'),
  };
}

const DEFAULT_TILES = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
const TILES_OFF = ['', 'none', 'off', 'offline'];

export function toMapConfig(raw: unknown): MapConfig {
  const o = obj(raw);
  const tile = any(o, 'tile_url', 'tileUrl');
  return {
    centerLat: num(o, 'center_lat', 'centerLat') ?? 39.8,
    centerLon: num(o, 'center_lon', 'centerLon') ?? -98.6,
    zoom: num(o, 'zoom_level', 'zoom', 'zoomLevel') ?? 4,
    forceCenter: bool(o, 'force_center', 'forceCenter') ?? false,
    // The API's config cannot hold an empty value (it means "default"), so "none"/"off" switch tiles off.
    tileUrl: typeof tile !== 'string' ? DEFAULT_TILES : TILES_OFF.includes(tile.trim().toLowerCase()) ? '' : tile,
    tileAttribution: str(o, 'tile_attribution', 'tileAttribution') ?? '© OpenStreetMap contributors',
    siteName: str(o, 'site_name', 'siteName') ?? 'MeshyMcMapface',
  };
}

/** An alert from /api/alerts or the live feed; anything malformed becomes null and is left out. */
export function toAlert(raw: unknown): AlertRow | null {
  const o = obj(raw);
  const id = typeof o.id === 'string' ? o.id : null;
  const state = o.state === 'firing' || o.state === 'resolved' ? o.state : null;
  if (!id || !state) return null;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const s = (v: unknown) => (typeof v === 'string' ? v : null);
  const since = n(o.since) ?? 0;
  const resolvedAt = n(o.resolved_at);
  return {
    id,
    rule: s(o.rule) ?? '?',
    state,
    node_id: s(o.node_id),
    site: s(o.site),
    agent_id: s(o.agent_id),
    since,
    resolved_at: resolvedAt,
    summary: s(o.summary) ?? '',
    acknowledged: o.acknowledged === true,
    silenced_until: n(o.silenced_until),
    at: resolvedAt ?? since,
  };
}
