import type { Json } from '../rest/rows.js';

/**
 * The flat columns of the CSV exports, named as in the JSON answers of /api/packets and /api/nodes/detailed so a
 * column means the same as the field of that name. Nested values (payload, lists) are written as JSON text.
 */
export const PACKET_COLUMNS = [
  'id',
  'timestamp',
  'rx_time',
  'site',
  'agent_id',
  'agent_location',
  'from_node',
  'from_node_display',
  'to_node',
  'to_node_display',
  'type',
  'port',
  'packet_id',
  'channel',
  'rssi',
  'snr',
  'hop_start',
  'hop_limit',
  'hops',
  'relay_node',
  'via_mqtt',
  'source',
  'payload',
] as const;

export const NODE_COLUMNS = [
  'node_id',
  'node_num',
  'short_name',
  'long_name',
  'hw_model',
  'role',
  'is_licensed',
  'latitude',
  'longitude',
  'altitude',
  'position_time',
  'battery_level',
  'voltage',
  'channel_utilization',
  'air_util_tx',
  'uptime_seconds',
  'rssi',
  'snr',
  'hops_away',
  'last_heard',
  'first_seen',
  'updated_at',
  'packet_count',
  'active',
  'agent_count',
  'seeing_agent_ids',
] as const;

/** One /api/packets row for CSV: the payload always as JSON text (a text message's is a quoted JSON string). */
export function flatPacket(p: Json): Record<string, unknown> {
  return { ...p, payload: p.payload === null || p.payload === undefined ? null : JSON.stringify(p.payload) };
}

/** One /api/nodes/detailed row as flat properties (CSV columns, GeoJSON feature properties). */
export function flatNode(n: Json): Record<(typeof NODE_COLUMNS)[number], unknown> {
  const pos = n.position as [number, number] | null;
  return {
    node_id: n.node_id,
    node_num: n.node_num,
    short_name: n.short_name,
    long_name: n.long_name,
    hw_model: n.hw_model,
    role: n.role,
    is_licensed: n.is_licensed,
    latitude: pos ? pos[0] : null,
    longitude: pos ? pos[1] : null,
    altitude: n.altitude,
    position_time: n.position_time,
    battery_level: n.battery_level,
    voltage: n.voltage,
    channel_utilization: n.channel_utilization,
    air_util_tx: n.air_util_tx,
    uptime_seconds: n.uptime_seconds,
    rssi: n.rssi,
    snr: n.snr,
    hops_away: n.hops_away,
    last_heard: n.last_heard,
    first_seen: n.first_seen,
    updated_at: n.updated_at,
    packet_count: n.packet_count,
    active: n.active,
    agent_count: n.agent_count,
    seeing_agent_ids: (n.seeing_agent_ids as string[]).join(';'),
  };
}

/** How one value is written into a CSV cell: empty for null, JSON for objects, true/false for booleans. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
