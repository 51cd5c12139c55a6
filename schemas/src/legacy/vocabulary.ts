// The original system's wire vocabulary: its packet type names, snake_case keys, MAC and node spellings. Pure and
// free of Node APIs, so the agent (which speaks it), the API (which reads it and answers in it) and the browser
// bundle share one copy.
import { BROADCAST_NUM, nodeIdFromNum } from '../nodes.js';
import { isPort, PORTS, type Port } from '../subjects.js';

/** The original agent's packet type names: what its `[server_*] packet_types` accepts and its packets carry. */
export const LEGACY_PACKET_TYPES = [
  'text_message',
  'position',
  'telemetry',
  'user_info',
  'routing',
  'traceroute',
  'encrypted',
  'other',
  'error',
] as const;
export type LegacyPacketType = (typeof LEGACY_PACKET_TYPES)[number];

export function isLegacyPacketType(value: unknown): value is LegacyPacketType {
  return (LEGACY_PACKET_TYPES as readonly unknown[]).includes(value);
}

/**
 * The type the original agent gave a packet of this port. It classified by decoded content: range-test packets
 * carry `text` and were text messages; neighbour info, waypoints, store-and-forward, map reports and the rest were
 * `other` (original-inventory §1.4). Its servers and filters know no other names.
 */
export function legacyTypeOfPort(port: Port): LegacyPacketType {
  switch (port) {
    case 'text':
    case 'rangetest':
      return 'text_message';
    case 'nodeinfo':
      return 'user_info';
    case 'position':
    case 'telemetry':
    case 'routing':
    case 'traceroute':
    case 'encrypted':
      return port;
    case 'neighborinfo':
    case 'waypoint':
    case 'mapreport':
    case 'storeforward':
    case 'paxcounter':
    case 'other':
      return 'other';
  }
}

const PORT_OF_LEGACY_TYPE: Readonly<Record<LegacyPacketType, Port>> = {
  text_message: 'text',
  position: 'position',
  telemetry: 'telemetry',
  user_info: 'nodeinfo',
  routing: 'routing',
  traceroute: 'traceroute',
  encrypted: 'encrypted',
  other: 'other',
  // The original agent's handler-failure record: nothing decoded in it.
  error: 'other',
};

/** The port of a packet in a legacy body; anything the original agent could not have sent is `other`. */
export function portOfLegacyType(type: unknown): Port {
  return isLegacyPacketType(type) ? PORT_OF_LEGACY_TYPE[type] : 'other';
}

/**
 * The `type` our REST API answers with: the original's name where it had one for the port (so its clients keep
 * working), the port name where it lumped the port into `other` (so ours can tell a waypoint from a map report).
 */
export function typeNameOfPort(port: string): string {
  switch (port) {
    case 'text':
      return 'text_message';
    case 'nodeinfo':
      return 'user_info';
    default:
      return port;
  }
}

/** The port a type name stands for, as the original or our REST API spells it; undefined when it names none. */
export function portOfTypeName(name: string): Port | undefined {
  const s = name.toLowerCase();
  if (isLegacyPacketType(s)) return PORT_OF_LEGACY_TYPE[s];
  return isPort(s) ? s : undefined;
}

/** Every type name the REST API's `type` filter accepts. */
export const TYPE_NAMES: readonly string[] = [...new Set<string>([...LEGACY_PACKET_TYPES, ...PORTS])];

export const snakeCase = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const camelCase = (k: string): string => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Object keys in snake_case at every depth (arrays and values as they are): the original's telemetry spelling. */
export function snakeKeys(o: unknown): unknown {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [snakeCase(k), snakeKeys(v)]));
}

/** `^all` for broadcast, `!xxxxxxxx` otherwise, as the original spelled a destination. */
export function nodeRef(num: number): string {
  return num === BROADCAST_NUM ? '^all' : nodeIdFromNum(num);
}

/** RouteDiscovery SNR (dB × 4, −128 unknown) in dB. */
export const snrDb = (v: number): number | null => (v === -128 ? null : v / 4);

/** A MAC address as `aa:bb:cc:dd:ee:ff` from the protobuf JSON base64; null unless it holds exactly six bytes. */
export function macFromBase64(b64: unknown): string | null {
  if (typeof b64 !== 'string' || b64 === '') return null;
  let bin: string;
  try {
    bin = atob(b64);
  } catch {
    return null;
  }
  if (bin.length !== 6) return null;
  return [...bin].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(':');
}

/** A MAC as protobuf JSON base64: from hex with `:`/`-` separators, or base64 as it is; undefined for neither. */
export function macToBase64(mac: unknown): string | undefined {
  if (typeof mac !== 'string') return undefined;
  const hex = mac.replace(/[:-]/g, '');
  if (/^[0-9a-fA-F]{12}$/.test(hex)) {
    const bytes = hex.match(/../g)!.map((h) => String.fromCharCode(Number.parseInt(h, 16)));
    return btoa(bytes.join(''));
  }
  return /^[A-Za-z0-9+/]*={0,2}$/.test(mac) ? mac : undefined;
}
