// Display helpers. Every function takes "maybe missing" input and returns a string: a missing value is shown
// as an em dash, a zero stays zero (the original turned 0 % into "no data").

export const MISSING = '—';

export function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function fmtNum(v: unknown, digits = 0, unit = ''): string {
  return isNum(v) ? `${v.toFixed(digits)}${unit}` : MISSING;
}

export function fmtPercent(v: unknown, digits = 0): string {
  return isNum(v) ? `${v.toFixed(digits)} %` : MISSING;
}

/** Meshtastic reports 101 for "powered, no battery". */
export function fmtBattery(v: unknown): string {
  if (!isNum(v)) return MISSING;
  if (v > 100) return 'powered';
  return `${Math.round(v)} %`;
}

export function fmtCoord(lat: unknown, lon: unknown, digits = 4): string {
  if (!isNum(lat) || !isNum(lon)) return MISSING;
  return `${lat.toFixed(digits)}, ${lon.toFixed(digits)}`;
}

export function fmtSignal(rssi: unknown, snr: unknown): string {
  if (!isNum(rssi) && !isNum(snr)) return MISSING;
  return `${isNum(rssi) ? `${rssi} dBm` : MISSING} / ${isNum(snr) ? `${snr.toFixed(2).replace(/\.?0+$/, '')} dB` : MISSING}`;
}

export function fmtUptime(seconds: unknown): string {
  if (!isNum(seconds)) return MISSING;
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `${d}d ${h}h ${m}m`;
}

/** Accepts epoch ms, epoch s, or an ISO string; returns epoch ms or null. */
export function toMs(t: unknown): number | null {
  if (isNum(t)) return t < 1e11 ? t * 1000 : t;
  if (typeof t === 'string' && t !== '') {
    // SQLite's "YYYY-MM-DD HH:MM:SS" is UTC without a zone marker.
    const s = /^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d(\.\d+)?)?$/.test(t) ? `${t.replace(' ', 'T')}Z` : t;
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

export function fmtAgo(t: unknown, now = Date.now()): string {
  const ms = toMs(t);
  if (ms === null) return MISSING;
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function fmtTime(t: unknown): string {
  const ms = toMs(t);
  if (ms === null) return MISSING;
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "short (long)", or whichever exists, or the id. */
export function nodeLabel(n: { id: string; shortName?: string | null; longName?: string | null }): string {
  const s = n.shortName?.trim();
  const l = n.longName?.trim();
  if (s && l) return `${s} (${l})`;
  return s || l || n.id;
}

export function fmtBytes(n: unknown): string {
  if (!isNum(n)) return MISSING;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
