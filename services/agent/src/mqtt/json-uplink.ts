import {
  create,
  type DescMessage,
  fromJson,
  type JsonValue,
  Mesh,
  PaxCount,
  Telemetry,
  toBinary,
} from '@mmm/meshtastic';
import { PORTNUM, type Reception, type Result } from '@mmm/schemas';
import type { DecodeContext } from '../decode/context.js';
import { receptionFromPacket } from '../decode/reception.js';

/**
 * The firmware's JSON uplink (`<root>/2/json/<channel>/<gateway>`, MeshPacketSerializer): one flat object per
 * packet, snake_case proto field names inside `payload`. It is rebuilt into a decoded MeshPacket and goes through
 * the same decoder as envelopes, so its events have exactly the shape of protobuf ones; it carries no packet bytes.
 */
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** Telemetry JSON is flat: which variant it is shows only in its keys. */
const DEVICE_KEYS = ['battery_level', 'channel_utilization', 'air_util_tx', 'uptime_seconds'];
const POWER_KEY = /^(voltage|current)_ch\d$/;

/** Firmware pads names with NULs (a real capture ends its long name with eight). */
const stripNuls = (s: unknown): unknown => (typeof s === 'string' ? s.replace(/\0+$/, '') : s);

function telemetry(p: Json): Json {
  const keys = Object.keys(p);
  if (keys.some((k) => DEVICE_KEYS.includes(k))) return { device_metrics: p };
  if (keys.some((k) => POWER_KEY.test(k))) return { power_metrics: p };
  return { environment_metrics: p };
}

interface JsonType {
  portnum: number;
  encode: (payload: unknown) => Uint8Array;
}

const utf8 = new TextEncoder();

function message<D extends DescMessage>(schema: D, map: (p: Json) => Json = (p) => p) {
  return (payload: unknown): Uint8Array => {
    if (!isObject(payload)) throw new Error('payload is not an object');
    return toBinary(schema, fromJson(schema, map(payload) as JsonValue, { ignoreUnknownFields: true }));
  };
}

function text(payload: unknown): Uint8Array {
  // Older firmware put the text straight in `payload`, newer in `payload.text`.
  const t = isObject(payload) ? payload.text : payload;
  if (typeof t !== 'string') throw new Error('payload has no text');
  return utf8.encode(t);
}

const TYPES: Record<string, JsonType> = {
  text: { portnum: PORTNUM.TEXT_MESSAGE_APP, encode: text },
  detection: { portnum: PORTNUM.DETECTION_SENSOR_APP, encode: text },
  position: { portnum: PORTNUM.POSITION_APP, encode: message(Mesh.PositionSchema) },
  nodeinfo: {
    portnum: PORTNUM.NODEINFO_APP,
    encode: message(Mesh.UserSchema, (p) => ({
      id: p.id,
      long_name: stripNuls(p.longname),
      short_name: stripNuls(p.shortname),
      hw_model: p.hardware,
      ...(p.role !== undefined ? { role: p.role } : {}),
    })),
  },
  telemetry: { portnum: PORTNUM.TELEMETRY_APP, encode: message(Telemetry.TelemetrySchema, telemetry) },
  waypoint: { portnum: PORTNUM.WAYPOINT_APP, encode: message(Mesh.WaypointSchema) },
  neighborinfo: { portnum: PORTNUM.NEIGHBORINFO_APP, encode: message(Mesh.NeighborInfoSchema) },
  traceroute: { portnum: PORTNUM.TRACEROUTE_APP, encode: message(Mesh.RouteDiscoverySchema) },
  paxcounter: {
    portnum: PORTNUM.PAXCOUNTER_APP,
    encode: message(PaxCount.PaxcountSchema, (p) => ({ wifi: p.wifi_count, ble: p.ble_count, uptime: p.uptime })),
  },
};

function num(v: unknown, what: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what} is not a number`);
  return v;
}

/** One JSON uplink message into a Reception (no `raw`: there are no packet bytes), or why it does not fit. */
export function receptionFromJson(text: string, ctx: DecodeContext): Result<{ reception: Reception; sender?: string }> {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `JSON does not parse: ${(err as Error).message}` };
  }
  if (!isObject(msg)) return { ok: false, error: 'JSON uplink is not an object' };
  if (!isU32(msg.from) || !isU32(msg.id)) return { ok: false, error: 'JSON uplink lacks a uint32 from and id' };
  if (msg.to !== undefined && !isU32(msg.to)) return { ok: false, error: 'JSON uplink field to is not a uint32' };
  const type = typeof msg.type === 'string' ? TYPES[msg.type] : undefined;
  if (!type) return { ok: false, error: `JSON uplink type ${JSON.stringify(msg.type)} is not one the firmware sends` };
  let payload: Uint8Array;
  let packet: Mesh.MeshPacket;
  try {
    payload = type.encode(msg.payload);
    const hopStart = num(msg.hop_start, 'hop_start');
    const hopsAway = num(msg.hops_away, 'hops_away');
    packet = create(Mesh.MeshPacketSchema, {
      from: msg.from,
      to: (msg.to as number | undefined) ?? 0xffffffff,
      id: msg.id,
      channel: num(msg.channel, 'channel') >>> 0,
      rxTime: num(msg.timestamp, 'timestamp') >>> 0,
      rxSnr: num(msg.snr, 'snr'),
      rxRssi: num(msg.rssi, 'rssi') | 0,
      hopStart: hopStart >>> 0,
      hopLimit: hopStart >= hopsAway ? (hopStart - hopsAway) >>> 0 : 0,
      payloadVariant: { case: 'decoded', value: create(Mesh.DataSchema, { portnum: type.portnum, payload }) },
    });
  } catch (err) {
    return { ok: false, error: `JSON uplink ${String(msg.type)} does not match: ${(err as Error).message}` };
  }
  const reception = receptionFromPacket(packet, new Uint8Array(0), ctx);
  // receptionFromPacket re-encodes a packet without bytes; bytes the gateway never sent must not pass for raw.
  delete (reception as { raw?: string }).raw;
  const sender = typeof msg.sender === 'string' && msg.sender !== '' ? msg.sender : undefined;
  return { ok: true, value: { reception, ...(sender ? { sender } : {}) } };
}
