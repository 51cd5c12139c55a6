import { isNum } from './format.js';

// The original map's palette: hop distance 0..5+, with low battery overriding it.
export const HOP_COLORS = ['#2E7D32', '#4CAF50', '#FF9800', '#F57C00', '#f44336', '#9E9E9E'] as const;
export const LOW_BATTERY_COLOR = '#D32F2F';
export const LOW_BATTERY_PERCENT = 20;
export const AGENT_COLOR = '#2196F3';
export const UNKNOWN_HOPS_ACTIVE = '#4CAF50';
export const UNKNOWN_HOPS_INACTIVE = '#FF9800';

export function nodeColor(hops: number | null | undefined, battery: number | null | undefined, active = true): string {
  if (isNum(battery) && battery < LOW_BATTERY_PERCENT) return LOW_BATTERY_COLOR;
  if (!isNum(hops) || hops < 0) return active ? UNKNOWN_HOPS_ACTIVE : UNKNOWN_HOPS_INACTIVE;
  return HOP_COLORS[Math.min(Math.floor(hops), HOP_COLORS.length - 1)]!;
}

/** SNR (dB) → colour: LoRa decodes down to about −20 dB; above +5 dB a link is comfortable. */
export function snrColor(snr: number | null | undefined): string {
  if (!isNum(snr)) return '#9E9E9E';
  if (snr >= 5) return '#2E7D32';
  if (snr >= 0) return '#8BC34A';
  if (snr >= -7) return '#FF9800';
  if (snr >= -13) return '#F57C00';
  return '#f44336';
}

/** Quality 0..1 → colour on the same scale. */
export function qualityColor(q: number | null | undefined): string {
  if (!isNum(q)) return '#9E9E9E';
  if (q >= 0.8) return '#2E7D32';
  if (q >= 0.6) return '#8BC34A';
  if (q >= 0.4) return '#FF9800';
  if (q >= 0.2) return '#F57C00';
  return '#f44336';
}

export function batteryClass(b: number | null | undefined): 'good' | 'warn' | 'bad' | 'none' {
  if (!isNum(b)) return 'none';
  if (b > 50) return 'good';
  if (b > 20) return 'warn';
  return 'bad';
}

export function hopsClass(h: number | null | undefined): 'h0' | 'h2' | 'h4' | 'hfar' | 'none' {
  if (!isNum(h)) return 'none';
  if (h === 0) return 'h0';
  if (h <= 2) return 'h2';
  if (h <= 4) return 'h4';
  return 'hfar';
}
