import {
  BROADCAST_NUM,
  type NodeDbSnapshot,
  nodeIdFromNum,
  type Port,
  type Reception,
  type TraceOutcome,
} from '@mmm/schemas';
import type { LegacyDestination, LegacyPacketType } from '../config/settings.js';

/** The original's packet type names, from our port names. */
export function legacyType(port: Port): LegacyPacketType {
  switch (port) {
    case 'text':
      return 'text_message';
    case 'position':
      return 'position';
    case 'telemetry':
      return 'telemetry';
    case 'nodeinfo':
      return 'user_info';
    case 'routing':
      return 'routing';
    case 'traceroute':
      return 'traceroute';
    case 'encrypted':
      return 'encrypted';
    default:
      return 'other';
  }
}

/** Node filters of a destination; they apply to packets, node DB entries and routes alike. */
export function nodeAllowed(dest: Pick<LegacyDestination, 'filterNodes' | 'excludeNodes'>, num: number): boolean {
  if (dest.excludeNodes.has(num)) return false;
  return dest.filterNodes.size === 0 || dest.filterNodes.has(num);
}

export function wantsPacket(dest: LegacyDestination, r: Reception): boolean {
  if (dest.packetTypes && !dest.packetTypes.has(legacyType(r.port))) return false;
  return nodeAllowed(dest, r.packet.from);
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
function snakeKeys(o: unknown): unknown {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [snake(k), snakeKeys(v)]));
}

const nid = (n: number) => (n === BROADCAST_NUM ? '^all' : nodeIdFromNum(n));

function legacyPayload(r: Reception): unknown {
  const p = r.payload as Record<string, unknown> | null;
  switch (r.port) {
    case 'text':
      return (p as { text?: string })?.text ?? null;
    case 'position':
      return {
        latitude: p?.latitude ?? null,
        longitude: p?.longitude ?? null,
        altitude: p?.altitude ?? null,
        time: p?.time ?? null,
      };
    case 'telemetry': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(p ?? {})) out[snake(k)] = snakeKeys(v);
      return out;
    }
    case 'nodeinfo':
      return {
        id: p?.id ?? nodeIdFromNum(r.packet.from),
        long_name: p?.longName ?? null,
        short_name: p?.shortName ?? null,
        macaddr: p?.macaddr ?? null,
        hw_model: p?.hwModel ?? null,
        role: p?.role ?? 0,
      };
    case 'routing':
      return { error_reason: p?.errorReason ?? (p as { variant?: unknown })?.variant ?? 0 };
    case 'traceroute':
      return {
        route: ((p?.route as number[] | undefined) ?? []).map(nid),
        route_back: ((p?.routeBack as number[] | undefined) ?? []).map(nid),
        snr_towards: ((p?.snrTowards as number[] | undefined) ?? []).map((s) => (s === -128 ? null : s / 4)),
        snr_back: ((p?.snrBack as number[] | undefined) ?? []).map((s) => (s === -128 ? null : s / 4)),
      };
    case 'encrypted':
      return null;
    default:
      return p;
  }
}

/** One reception as the original's base packet record (with RSSI/SNR read from the right fields, and rxTime). */
export function legacyPacket(r: Reception): Record<string, unknown> {
  const h = r.packet;
  const at = h.rxTime > 0 ? h.rxTime * 1000 : r.receivedAt;
  return {
    timestamp: new Date(at).toISOString(),
    from_node: nodeIdFromNum(h.from),
    to_node: nid(h.to),
    packet_id: h.id,
    channel: h.channel,
    hop_limit: h.hopLimit,
    hop_start: h.hopStart,
    want_ack: h.wantAck,
    rssi: h.rxRssi === 0 ? null : h.rxRssi,
    snr: h.rxSnr === 0 && h.rxRssi === 0 ? null : h.rxSnr,
    type: legacyType(r.port),
    payload: legacyPayload(r),
    ...(r.data ? { portnum: r.data.portnum } : {}),
  };
}

/** The node_status list of a data post, from the receptions in it (latest per node). */
export function legacyNodeStatus(rs: readonly Reception[]): Record<string, unknown>[] {
  const byNode = new Map<number, Record<string, unknown>>();
  for (const r of rs) {
    const h = r.packet;
    const prev = byNode.get(h.from) ?? { node_id: nodeIdFromNum(h.from), battery_level: null, position: null };
    const at = h.rxTime > 0 ? h.rxTime * 1000 : r.receivedAt;
    prev.last_seen = new Date(at).toISOString();
    prev.rssi = h.rxRssi === 0 ? (prev.rssi ?? null) : h.rxRssi;
    prev.snr = h.rxSnr === 0 && h.rxRssi === 0 ? (prev.snr ?? null) : h.rxSnr;
    const p = r.payload as Record<string, unknown> | null;
    if (r.port === 'position' && typeof p?.latitude === 'number' && typeof p?.longitude === 'number')
      prev.position = [p.latitude, p.longitude];
    const dm = r.port === 'telemetry' ? (p?.deviceMetrics as Record<string, unknown> | undefined) : undefined;
    if (dm && typeof dm.batteryLevel === 'number') prev.battery_level = dm.batteryLevel;
    byNode.set(h.from, prev);
  }
  return [...byNode.values()];
}

/** A node DB snapshot in the original's nodedb body shape, node filters applied. */
export function legacyNodeDb(agentId: string, snap: NodeDbSnapshot, dest: LegacyDestination): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  for (const n of snap.nodes) {
    if (!nodeAllowed(dest, n.num)) continue;
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
  return { agent_id: agentId, timestamp: new Date(snap.takenAt).toISOString(), nodes };
}

/** A successful traceroute as one entry of the original's routes body (path ends at the target, not the agent). */
export function legacyRoute(t: TraceOutcome): Record<string, unknown> {
  const path = t.towards?.route ?? [t.from, t.to];
  return {
    discovery_id: `${t.agent}-${t.requestId.toString(16)}`,
    source_node_id: nodeIdFromNum(t.from),
    target_node_id: nodeIdFromNum(t.to),
    route_path: path.map(nodeIdFromNum),
    route_back: (t.back?.route ?? []).slice(1, -1).map(nodeIdFromNum),
    snr_towards: t.towards?.snr ?? [],
    snr_back: t.back?.snr ?? [],
    hop_count: path.length - 1,
    total_time_ms: t.finishedAt - t.startedAt,
    discovery_timestamp: new Date(t.startedAt).toISOString(),
    response_timestamp: new Date(t.finishedAt).toISOString(),
    channel_index: t.channel ?? 0,
    discovery_method: 'meshtastic_traceroute',
    success: t.outcome === 'success',
  };
}

export function routeAllowed(dest: LegacyDestination, t: TraceOutcome): boolean {
  return t.outcome === 'success' && nodeAllowed(dest, t.to);
}
