import { Mesh } from '@meshtastic/protobufs';
import { nodeIdFromNum, type Port, ROLE_NAMES, roleName } from '@mmm/schemas';

const HW = Mesh.HardwareModel as unknown as Record<string | number, string | number>;

export function iso(ms: number | null | undefined): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;
}

/** `^all` for broadcast, as the original printed it. */
export function nodeRef(num: number): string {
  return num === 0xffffffff ? '^all' : nodeIdFromNum(num);
}

export function hwModelName(num: number | null | undefined, name?: string | null): string | null {
  if (name) return name;
  if (num === null || num === undefined) return null;
  const n = HW[num];
  return typeof n === 'string' ? n : `HW_${num}`;
}

export function hwModelNum(name: string): number | undefined {
  const v = HW[name.toUpperCase()];
  return typeof v === 'number' ? v : undefined;
}

export function roleNum(role: unknown): number | undefined {
  if (typeof role === 'number' && Number.isInteger(role) && role >= 0) return role;
  if (typeof role === 'string') {
    const i = (ROLE_NAMES as readonly string[]).indexOf(role.toUpperCase());
    if (i >= 0) return i;
    if (/^[0-9]+$/.test(role)) return Number(role);
  }
  return undefined;
}

export function roleLabel(role: number | null | undefined): string | null {
  return role === null || role === undefined ? null : roleName(role);
}

export function display(short: string | null | undefined, long: string | null | undefined): string | null {
  if (short && long) return `${short} (${long})`;
  return short || long || null;
}

/** The original agent's type names; ports it did not know keep their port name. */
const TYPE_BY_PORT: Partial<Record<Port, string>> = { text: 'text_message', nodeinfo: 'user_info' };
export const PORT_BY_TYPE: Record<string, Port> = { text_message: 'text', user_info: 'nodeinfo', error: 'other' };

export function typeOfPort(port: string): string {
  return TYPE_BY_PORT[port as Port] ?? port;
}

const snake = (k: string) => k.replace(/([A-Z])/g, (c) => `_${c.toLowerCase()}`);

function snakeKeys(o: unknown): unknown {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
  return Object.fromEntries(Object.entries(o as Record<string, unknown>).map(([k, v]) => [snake(k), v]));
}

const snrDb = (v: number) => (v === -128 ? null : v / 4);

/** The payload in the shape the original's packets API returned for that type. */
export function legacyPayload(port: string, payload: Record<string, unknown>): unknown {
  switch (port) {
    case 'text':
    case 'rangetest':
      return payload.text;
    case 'position': {
      const lat =
        (payload.latitude as number | undefined) ??
        (typeof payload.latitudeI === 'number' ? payload.latitudeI / 1e7 : null);
      const lon =
        (payload.longitude as number | undefined) ??
        (typeof payload.longitudeI === 'number' ? payload.longitudeI / 1e7 : null);
      return { latitude: lat, longitude: lon, altitude: payload.altitude ?? null, time: payload.time ?? null };
    }
    case 'telemetry': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(payload))
        out[snake(k)] = k.endsWith('Metrics') || k === 'localStats' ? snakeKeys(v) : v;
      return out;
    }
    case 'nodeinfo':
      return {
        id: payload.id ?? null,
        long_name: payload.longName ?? null,
        short_name: payload.shortName ?? null,
        macaddr: typeof payload.macaddr === 'string' ? macFromB64(payload.macaddr) : null,
        hw_model: hwModelName(payload.hwModel as number | undefined, payload.hwModelName as string | undefined),
        role: roleLabel((payload.role as number | undefined) ?? 0),
      };
    case 'routing':
      return { error_reason: payload.errorReason ?? null };
    case 'traceroute':
      return {
        route: ((payload.route as number[]) ?? []).map(nodeRef),
        route_back: ((payload.routeBack as number[]) ?? []).map(nodeRef),
        snr_towards: ((payload.snrTowards as number[]) ?? []).map(snrDb),
        snr_back: ((payload.snrBack as number[]) ?? []).map(snrDb),
      };
    default:
      return payload;
  }
}

export function macFromB64(b64: string): string | null {
  const bytes = Buffer.from(b64, 'base64');
  return bytes.length ? [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':') : null;
}
