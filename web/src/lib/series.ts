import type { TelemetryPoint } from './types.js';

// Telemetry points → aligned columns for uPlot: one x column (epoch seconds, ascending) and one column per field
// the node sent; a point without a field is a gap (null), a zero stays zero.

export interface Series {
  readonly x: number[];
  readonly fields: ReadonlyMap<string, (number | null)[]>;
}

export function toSeries(points: readonly TelemetryPoint[]): Series {
  const sorted = [...points].sort((a, b) => a.at - b.at);
  const names = new Set<string>();
  for (const p of sorted) for (const k of Object.keys(p.values)) names.add(k);
  const fields = new Map<string, (number | null)[]>();
  for (const k of [...names].sort())
    fields.set(
      k,
      sorted.map((p) => (k in p.values ? p.values[k]! : null)),
    );
  return { x: sorted.map((p) => p.at / 1000), fields };
}

const LABELS: Record<string, string> = {
  batteryLevel: 'Battery (%)',
  voltage: 'Voltage (V)',
  channelUtilization: 'Channel utilisation (%)',
  airUtilTx: 'Air util TX (%)',
  uptimeSeconds: 'Uptime (s)',
  temperature: 'Temperature (°C)',
  relativeHumidity: 'Relative humidity (%)',
  barometricPressure: 'Barometric pressure (hPa)',
  gasResistance: 'Gas resistance (MΩ)',
  iaq: 'IAQ',
  lux: 'Lux',
  windSpeed: 'Wind speed (m/s)',
  windDirection: 'Wind direction (°)',
};

export function fieldLabel(k: string): string {
  return LABELS[k] ?? k.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());
}

/** Device metrics shown first, in this order; uptime is a counter, not worth a chart. */
export const DEVICE_FIELDS = ['batteryLevel', 'voltage', 'channelUtilization', 'airUtilTx'] as const;

const PALETTE = ['#1976d2', '#2e7d32', '#ef6c00', '#7b1fa2', '#00838f', '#c2185b', '#5d4037', '#455a64'];
export function colorFor(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}
