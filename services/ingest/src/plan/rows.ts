import {
  type AgentStatus,
  msgIds,
  type NodeDbEntry,
  type NodeDbSnapshot,
  type PayloadOf,
  type Port,
  type Reception,
  type TraceOutcome,
  type TracePath,
} from '@mmm/schemas';
import type { Row } from './tables.js';

/** A reception of one port with its payload typed (the contract's union does not narrow through Extract). */
type ReceptionOf<P extends Port> = Omit<Reception, 'port' | 'payload'> & { port: P; payload: PayloadOf<P> };

// Pure mapping from contract events to table rows. Column names and meanings are documented in schemas/ddl/README.md.

const b = (v: boolean | undefined): number => (v ? 1 : 0);
const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function receptionMsgId(ev: Reception): string {
  return msgIds.receptionOf(ev);
}

/** hop_start 0 means the firmware did not say (before 2.3), not "heard directly". */
export function hopsOf(hopStart: number, hopLimit: number): number | null {
  return hopStart > 0 && hopStart >= hopLimit ? hopStart - hopLimit : null;
}

export function receptionRow(ev: Reception, msgId: string, isFirst: boolean, seq: number, now: number): Row {
  const p = ev.packet;
  return {
    msg_id: msgId,
    site: ev.site,
    agent: ev.agent,
    from_node: p.from,
    to_node: p.to,
    packet_id: p.id,
    port: ev.port,
    portnum: ev.data?.portnum ?? 0,
    channel: p.channel,
    channel_name: ev.channelName ?? '',
    rx_time: p.rxTime,
    received_at: ev.receivedAt,
    rx_snr: p.rxSnr,
    rx_rssi: p.rxRssi,
    hop_start: p.hopStart,
    hop_limit: p.hopLimit,
    hops: hopsOf(p.hopStart, p.hopLimit),
    relay_node: p.relayNode,
    next_hop: p.nextHop,
    via_mqtt: b(p.viaMqtt),
    want_ack: b(p.wantAck),
    priority: p.priority,
    pki_encrypted: b(p.pkiEncrypted),
    encryption: ev.encryption,
    source: ev.source,
    gateway_id: ev.gatewayId ?? '',
    request_id: ev.data?.requestId ?? 0,
    reply_id: ev.data?.replyId ?? 0,
    payload: JSON.stringify(ev.payload),
    raw: ev.raw ?? '',
    is_first: isFirst ? 1 : 0,
    stream_seq: seq,
    ingested_at: now,
  };
}

/** Rows of the per-packet tables, produced from the first stored reception of a packet. */
export interface PacketRows {
  positions: Row[];
  telemetry: Row[];
  text_messages: Row[];
  neighbor_edges: Row[];
  traceroutes: Row[];
  traceroute_hops: Row[];
}

export function emptyPacketRows(): PacketRows {
  return { positions: [], telemetry: [], text_messages: [], neighbor_edges: [], traceroutes: [], traceroute_hops: [] };
}

function positionRow(ev: ReceptionOf<'position'>, now: number): Row | undefined {
  const pos = ev.payload;
  if (pos.latitudeI === undefined || pos.longitudeI === undefined) return undefined;
  return {
    from_node: ev.packet.from,
    packet_id: ev.packet.id,
    received_at: ev.receivedAt,
    site: ev.site,
    agent: ev.agent,
    latitude_i: pos.latitudeI,
    longitude_i: pos.longitudeI,
    latitude: pos.latitudeI / 1e7,
    longitude: pos.longitudeI / 1e7,
    altitude: orNull(pos.altitude),
    time: pos.time ?? 0,
    precision_bits: pos.precisionBits ?? 0,
    location_source: pos.locationSource ?? 0,
    altitude_source: pos.altitudeSource ?? 0,
    ground_speed: orNull(pos.groundSpeed),
    ground_track: orNull(pos.groundTrack),
    sats_in_view: orNull(pos.satsInView),
    pdop: orNull(pos.PDOP),
    hdop: orNull(pos.HDOP),
    ingested_at: now,
  };
}

const TELEMETRY_VARIANTS = [
  'deviceMetrics',
  'environmentMetrics',
  'airQualityMetrics',
  'powerMetrics',
  'localStats',
  'healthMetrics',
  'hostMetrics',
] as const;

/** Every numeric field of every variant, zeros kept; booleans become 0/1; strings and nulls have no value to chart. */
function telemetryRows(ev: ReceptionOf<'telemetry'>, now: number): Row[] {
  const t = ev.payload as PayloadOf<'telemetry'> & Record<string, unknown>;
  const rows: Row[] = [];
  const variants = new Set<string>(TELEMETRY_VARIANTS);
  // Variants from newer firmware pass through the open payload schema: any object-valued key is a variant.
  for (const [k, v] of Object.entries(t)) if (v && typeof v === 'object' && !Array.isArray(v)) variants.add(k);
  for (const variant of variants) {
    const metrics = t[variant] as Record<string, unknown> | undefined;
    if (!metrics || typeof metrics !== 'object') continue;
    for (const [field, raw] of Object.entries(metrics)) {
      const value = typeof raw === 'boolean' ? (raw ? 1 : 0) : num(raw);
      if (value === null) continue;
      rows.push({
        from_node: ev.packet.from,
        packet_id: ev.packet.id,
        received_at: ev.receivedAt,
        time: typeof t.time === 'number' ? t.time : 0,
        variant,
        field,
        value,
        site: ev.site,
        agent: ev.agent,
        ingested_at: now,
      });
    }
  }
  return rows;
}

function textRow(ev: ReceptionOf<'text'>, now: number): Row {
  return {
    from_node: ev.packet.from,
    packet_id: ev.packet.id,
    to_node: ev.packet.to,
    channel: ev.packet.channel,
    channel_name: ev.channelName ?? '',
    received_at: ev.receivedAt,
    site: ev.site,
    agent: ev.agent,
    text: ev.payload.text,
    reply_id: ev.data?.replyId ?? 0,
    emoji: ev.data?.emoji ?? 0,
    ingested_at: now,
  };
}

function neighborRows(ev: ReceptionOf<'neighborinfo'>, now: number): Row[] {
  const n = ev.payload;
  return n.neighbors.map((nb) => ({
    from_node: ev.packet.from,
    packet_id: ev.packet.id,
    node: n.nodeId,
    neighbor: nb.nodeId,
    snr: nb.snr,
    last_rx_time: nb.lastRxTime ?? 0,
    broadcast_interval: nb.nodeBroadcastIntervalSecs ?? n.nodeBroadcastIntervalSecs ?? 0,
    received_at: ev.receivedAt,
    site: ev.site,
    agent: ev.agent,
    ingested_at: now,
  }));
}

interface TraceKey {
  source: 'agent' | 'packet';
  from_node: number;
  to_node: number;
  request_id: number;
  packet_id: number;
  started_at: number;
  finished_at: number;
  site: string;
  agent: string;
}

function hopRows(key: TraceKey, direction: 'towards' | 'back', path: TracePath | null | undefined, now: number): Row[] {
  if (!path) return [];
  const rows: Row[] = [];
  for (let i = 0; i + 1 < path.route.length; i++) {
    rows.push({
      ...key,
      direction,
      hop: i,
      hop_from: path.route[i]!,
      hop_to: path.route[i + 1]!,
      snr: path.snr[i] ?? null,
      ingested_at: now,
    });
  }
  return rows;
}

function traceRows(
  key: TraceKey,
  extra: { outcome: string; trigger: string; hop_limit: number; channel: number; error: string },
  towards: TracePath | null | undefined,
  back: TracePath | null | undefined,
  now: number,
): { traceroutes: Row[]; traceroute_hops: Row[] } {
  const hops = (p: TracePath | null | undefined) => (p ? Math.max(0, p.route.length - 1) : null);
  return {
    traceroutes: [
      {
        ...key,
        ...extra,
        route_towards: JSON.stringify(towards?.route ?? []),
        snr_towards: JSON.stringify(towards?.snr ?? []),
        route_back: JSON.stringify(back?.route ?? []),
        snr_back: JSON.stringify(back?.snr ?? []),
        hops_towards: hops(towards),
        hops_back: hops(back),
        ingested_at: now,
      },
    ],
    traceroute_hops: [...hopRows(key, 'towards', towards, now), ...hopRows(key, 'back', back, now)],
  };
}

/** RouteDiscovery SNR is dB x 4; -128 means unknown. */
const snrDb = (v: number | undefined): number | null => (v === undefined || v === -128 ? null : v / 4);

function pathOf(ends: [number, number], middle: readonly number[], snr: readonly number[]): TracePath {
  const route = [ends[0], ...middle, ends[1]];
  return { route, snr: route.slice(1).map((_, i) => snrDb(snr[i])) };
}

/**
 * A traceroute reply overheard on the mesh: it travels from the target back to the requester (packet.to) and carries
 * the forward path in `route`/`snrTowards` and the return path in `routeBack`/`snrBack` (without the end points).
 * Requests (no requestId) carry half a path and are left in receptions.
 */
function overheardTrace(ev: ReceptionOf<'traceroute'>, now: number): { traceroutes: Row[]; traceroute_hops: Row[] } {
  const requestId = ev.data?.requestId ?? 0;
  if (requestId === 0) return { traceroutes: [], traceroute_hops: [] };
  const rd = ev.payload;
  const requester = ev.packet.to;
  const target = ev.packet.from;
  const towards = pathOf([requester, target], rd.route, rd.snrTowards);
  // routeBack is only meaningful when the firmware stamps hop_start (2.5+); otherwise snrBack is empty.
  const back =
    rd.snrBack.length > 0 || rd.routeBack.length > 0 ? pathOf([target, requester], rd.routeBack, rd.snrBack) : null;
  const key: TraceKey = {
    source: 'packet',
    from_node: requester,
    to_node: target,
    request_id: requestId,
    packet_id: ev.packet.id,
    started_at: 0,
    finished_at: ev.receivedAt,
    site: ev.site,
    agent: ev.agent,
  };
  return traceRows(
    key,
    { outcome: 'success', trigger: '', hop_limit: ev.packet.hopStart, channel: ev.packet.channel, error: '' },
    towards,
    back,
    now,
  );
}

export function packetRows(ev: Reception, now: number): PacketRows {
  const out = emptyPacketRows();
  switch (ev.port) {
    case 'position': {
      const r = positionRow(ev as ReceptionOf<'position'>, now);
      if (r) out.positions.push(r);
      break;
    }
    case 'telemetry':
      out.telemetry.push(...telemetryRows(ev as ReceptionOf<'telemetry'>, now));
      break;
    case 'text':
      out.text_messages.push(textRow(ev as ReceptionOf<'text'>, now));
      break;
    case 'neighborinfo':
      out.neighbor_edges.push(...neighborRows(ev as ReceptionOf<'neighborinfo'>, now));
      break;
    case 'traceroute': {
      const t = overheardTrace(ev as ReceptionOf<'traceroute'>, now);
      out.traceroutes.push(...t.traceroutes);
      out.traceroute_hops.push(...t.traceroute_hops);
      break;
    }
    default:
      break;
  }
  return out;
}

export function traceOutcomeRows(ev: TraceOutcome, now: number): { traceroutes: Row[]; traceroute_hops: Row[] } {
  const key: TraceKey = {
    source: 'agent',
    from_node: ev.from,
    to_node: ev.to,
    request_id: ev.requestId,
    packet_id: 0,
    started_at: ev.startedAt,
    finished_at: ev.finishedAt,
    site: ev.site,
    agent: ev.agent,
  };
  const extra = {
    outcome: ev.outcome,
    trigger: ev.trigger ?? '',
    hop_limit: ev.hopLimit ?? 0,
    channel: ev.channel ?? 0,
    error: ev.error ?? '',
  };
  return traceRows(key, extra, ev.towards, ev.back, now);
}

export function statusRow(ev: AgentStatus, now: number): Row {
  return {
    site: ev.site,
    agent: ev.agent,
    at: ev.at,
    started_at: ev.startedAt,
    version: ev.version,
    location_name: ev.location.name,
    latitude: ev.location.lat,
    longitude: ev.location.lon,
    radio_state: ev.radio.state,
    transport: ev.radio.transport,
    address: ev.radio.address,
    radio_since: ev.radio.since,
    last_frame_at: ev.radio.lastFrameAt,
    reconnects: ev.radio.reconnects,
    my_node_num: orNull(ev.radio.myNodeNum),
    firmware_version: ev.radio.firmwareVersion ?? '',
    hw_model: orNull(ev.radio.hwModel),
    in_flight: ev.buffer.inFlight,
    stream_messages: ev.buffer.streamMessages,
    stream_bytes: ev.buffer.streamBytes,
    hub_connected: ev.buffer.hubConnected === undefined ? null : b(ev.buffer.hubConnected),
    counters: JSON.stringify(ev.counters),
    ingested_at: now,
  };
}

function metric(m: NodeDbEntry['deviceMetrics'], key: string): number | null {
  return num(m?.[key]);
}

export function nodedbRows(ev: NodeDbSnapshot, now: number): Row[] {
  return ev.nodes.map((n) => {
    const pos = n.position;
    return {
      site: ev.site,
      agent: ev.agent,
      node: n.num,
      taken_at: ev.takenAt,
      reason: ev.reason,
      long_name: orNull(n.user?.longName),
      short_name: orNull(n.user?.shortName),
      hw_model: n.user ? (n.user.hwModel ?? 0) : null,
      // CLIENT (0) is the protobuf default and is absent on the wire.
      role: n.user ? (n.user.role ?? 0) : null,
      is_licensed: b(n.user?.isLicensed),
      public_key: n.user?.publicKey ?? '',
      latitude: pos?.latitudeI !== undefined ? pos.latitudeI / 1e7 : null,
      longitude: pos?.longitudeI !== undefined ? pos.longitudeI / 1e7 : null,
      altitude: orNull(pos?.altitude),
      position_time: orNull(pos?.time),
      snr: num(n.snr),
      last_heard: orNull(n.lastHeard),
      hops_away: orNull(n.hopsAway),
      channel: n.channel ?? 0,
      via_mqtt: b(n.viaMqtt),
      is_favorite: b(n.isFavorite),
      battery_level: metric(n.deviceMetrics, 'batteryLevel'),
      voltage: metric(n.deviceMetrics, 'voltage'),
      channel_utilization: metric(n.deviceMetrics, 'channelUtilization'),
      air_util_tx: metric(n.deviceMetrics, 'airUtilTx'),
      uptime_seconds: metric(n.deviceMetrics, 'uptimeSeconds'),
      entry: JSON.stringify(n),
      ingested_at: now,
    };
  });
}
