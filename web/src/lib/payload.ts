import { fmtBattery, fmtNum, fmtPercent, fmtTime, fmtUptime, isNum } from './format.js';
import { any, arr, obj, str } from './pick.js';
import { roleName } from './roles.js';

// A packet's payload as label/value pairs per type. Values are plain strings: the component renders them as
// text, so nothing a radio sent can become markup.

export interface Field {
  readonly label: string;
  readonly value: string;
}

export interface PayloadView {
  readonly fields: readonly Field[];
  /** Free text (a message, or JSON of an unknown payload): shown collapsed when long. */
  readonly text: string | null;
}

export const LONG_TEXT = 100;

const TELEMETRY_GROUPS: readonly [string, string][] = [
  ['device_metrics', 'deviceMetrics'],
  ['environment_metrics', 'environmentMetrics'],
  ['power_metrics', 'powerMetrics'],
  ['air_quality_metrics', 'airQualityMetrics'],
  ['local_stats', 'localStats'],
  ['health_metrics', 'healthMetrics'],
  ['host_metrics', 'hostMetrics'],
];

function metricValue(key: string, v: unknown): string {
  if (!isNum(v)) return typeof v === 'string' ? v : typeof v === 'boolean' ? String(v) : '—';
  const k = key.toLowerCase();
  if (k.includes('battery')) return fmtBattery(v);
  if (k.includes('util')) return fmtPercent(v, 1);
  if (k.includes('voltage')) return fmtNum(v, 2, ' V');
  if (k.includes('uptime')) return fmtUptime(v);
  if (k.includes('temperature')) return fmtNum(v, 1, ' °C');
  if (k.includes('humidity')) return fmtPercent(v, 0);
  if (k.includes('pressure')) return fmtNum(v, 1, ' hPa');
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function camelLabel(k: string): string {
  return k
    .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
    .replace(/([A-Z])/g, ' $1')
    .replace(/^./, (c) => c.toUpperCase())
    .trim();
}

function json(v: unknown): string {
  try {
    return JSON.stringify(v, null, 1) ?? String(v);
  } catch {
    return String(v);
  }
}

export function payloadView(type: string, payload: unknown): PayloadView {
  if (payload === null || payload === undefined) return { fields: [], text: null };
  if (typeof payload === 'string') return { fields: [], text: payload };
  const p = obj(payload);
  switch (type) {
    case 'text':
    case 'rangetest':
      return { fields: [], text: str(p, 'text') ?? json(payload) };
    case 'position': {
      let lat = any(p, 'latitude');
      let lon = any(p, 'longitude');
      if (!isNum(lat) && isNum(p.latitudeI)) lat = p.latitudeI / 1e7;
      if (!isNum(lon) && isNum(p.longitudeI)) lon = p.longitudeI / 1e7;
      return {
        fields: [
          { label: 'Lat', value: isNum(lat) ? lat.toFixed(5) : '—' },
          { label: 'Lon', value: isNum(lon) ? lon.toFixed(5) : '—' },
          { label: 'Alt', value: fmtNum(any(p, 'altitude'), 0, ' m') },
          { label: 'Time', value: isNum(p.time) && p.time > 0 ? fmtTime(p.time) : '—' },
        ],
        text: null,
      };
    }
    case 'telemetry': {
      const fields: Field[] = [];
      for (const [snake, camel] of TELEMETRY_GROUPS) {
        const g = obj(any(p, snake, camel));
        for (const [k, v] of Object.entries(g)) fields.push({ label: camelLabel(k), value: metricValue(k, v) });
      }
      return { fields, text: fields.length === 0 ? json(payload) : null };
    }
    case 'nodeinfo':
      return {
        fields: [
          { label: 'Id', value: str(p, 'id') ?? '—' },
          { label: 'Long', value: str(p, 'long_name', 'longName') ?? '—' },
          { label: 'Short', value: str(p, 'short_name', 'shortName') ?? '—' },
          { label: 'HW', value: str(p, 'hw_model', 'hwModel') ?? '—' },
          { label: 'Role', value: roleName(any(p, 'role') as number | string | undefined) },
          { label: 'MAC', value: str(p, 'macaddr') ?? '—' },
        ],
        text: null,
      };
    case 'traceroute': {
      const route = arr(any(p, 'route')).map(String);
      const back = arr(any(p, 'routeBack', 'route_back')).map(String);
      return {
        fields: [
          { label: 'Route', value: route.length ? route.join(' → ') : '(direct)' },
          ...(back.length ? [{ label: 'Back', value: back.join(' → ') }] : []),
        ],
        text: null,
      };
    }
    case 'neighborinfo': {
      const ns = arr(any(p, 'neighbors')).map((n) => {
        const o = obj(n);
        const id = any(o, 'nodeId', 'node_id');
        const idStr = isNum(id) ? `!${id.toString(16).padStart(8, '0')}` : String(id ?? '?');
        return `${idStr} (${isNum(o.snr) ? `${o.snr} dB` : '—'})`;
      });
      return { fields: [{ label: 'Neighbors', value: ns.length ? ns.join(', ') : 'none' }], text: null };
    }
    case 'routing':
      return {
        fields: [{ label: 'Error', value: String(any(p, 'errorReason', 'error_reason') ?? 'NONE') }],
        text: null,
      };
    default:
      return { fields: [], text: json(payload) };
  }
}
