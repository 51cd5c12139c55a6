import { nodeLabel } from './format.js';
import { ROLE_NAMES } from './roles.js';
import type { NodeRow } from './types.js';

// The nodes page's filtering and sorting, pure so it is tested without a DOM and stays fast at 10k rows.

export const BATTERY_HIGH = 70;
export const BATTERY_LOW = 30;

export interface NodeFilter {
  readonly text: string;
  readonly hwModel: string;
  /** Role names; a node matches when its role is any of them (empty = every role). */
  readonly roles: ReadonlySet<string>;
  readonly hasGps: boolean;
  readonly batteryHigh: boolean;
  readonly batteryLow: boolean;
  readonly activeOnly: boolean;
  /** Only nodes heard within this many hours (0 = no limit). */
  readonly hours: number;
}

export const EMPTY_FILTER: NodeFilter = {
  text: '',
  hwModel: '',
  roles: new Set(),
  hasGps: false,
  batteryHigh: false,
  batteryLow: false,
  activeOnly: false,
  hours: 0,
};

export function hasGps(n: NodeRow): boolean {
  return n.lat !== null && n.lon !== null;
}

function batteryOk(n: NodeRow, f: NodeFilter): boolean {
  if (!f.batteryHigh && !f.batteryLow) return true;
  const b = n.battery;
  if (b === null) return false;
  // 101 = external power: counts as high.
  return (f.batteryHigh && b > BATTERY_HIGH) || (f.batteryLow && b < BATTERY_LOW);
}

/** Role chips OR together; GPS, battery, activity, hardware and text narrow the result (AND). */
export function matches(n: NodeRow, f: NodeFilter, now = Date.now()): boolean {
  if (f.roles.size > 0 && !f.roles.has(n.role)) return false;
  if (f.hwModel && (n.hwModel ?? 'UNKNOWN') !== f.hwModel) return false;
  if (f.hasGps && !hasGps(n)) return false;
  if (!batteryOk(n, f)) return false;
  if (f.activeOnly && n.active === false) return false;
  if (f.hours > 0 && (n.lastHeard === null || now - n.lastHeard > f.hours * 3600_000)) return false;
  if (f.text) {
    const q = f.text.trim().toLowerCase();
    if (q && !`${n.id}\u0000${n.shortName ?? ''}\u0000${n.longName ?? ''}`.toLowerCase().includes(q)) return false;
  }
  return true;
}

export function filterNodes(nodes: Iterable<NodeRow>, f: NodeFilter, now = Date.now()): NodeRow[] {
  const out: NodeRow[] = [];
  for (const n of nodes) if (matches(n, f, now)) out.push(n);
  return out;
}

export type SortKey =
  | 'id'
  | 'name'
  | 'role'
  | 'agents'
  | 'lastHeard'
  | 'battery'
  | 'position'
  | 'signal'
  | 'hops'
  | 'packets';

function sortValue(n: NodeRow, key: SortKey): string | number | null {
  switch (key) {
    case 'id':
      return n.id;
    case 'name':
      return nodeLabel(n).toLowerCase();
    case 'role':
      return n.role;
    case 'agents':
      return n.agents.length;
    case 'lastHeard':
      return n.lastHeard;
    case 'battery':
      return n.battery;
    case 'position':
      return n.lat;
    case 'signal':
      return n.snr ?? n.rssi;
    case 'hops':
      return n.hops;
    case 'packets':
      return n.packets;
  }
}

/** Stable sort; missing values go last in either direction. */
export function sortNodes(nodes: readonly NodeRow[], key: SortKey, dir: 'asc' | 'desc'): NodeRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  const keyed = nodes.map((n, i) => ({ n, i, v: sortValue(n, key) }));
  keyed.sort((a, b) => {
    if (a.v === null && b.v === null) return a.i - b.i;
    if (a.v === null) return 1;
    if (b.v === null) return -1;
    const c = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v).localeCompare(String(b.v));
    return c !== 0 ? c * sign : a.i - b.i;
  });
  return keyed.map((k) => k.n);
}

/** Hardware models with node counts, most common first. */
export function hwModelCounts(nodes: Iterable<NodeRow>): { model: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const n of nodes) {
    const m = n.hwModel ?? 'UNKNOWN';
    counts.set(m, (counts.get(m) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([model, count]) => ({ model, count }))
    .sort((a, b) => b.count - a.count || a.model.localeCompare(b.model));
}

/** Count per firmware role, every role listed (zero included) so the chips do not jump around. */
export function roleCounts(nodes: Iterable<NodeRow>): Map<string, number> {
  const counts = new Map<string, number>(ROLE_NAMES.map((r) => [r, 0]));
  for (const n of nodes) counts.set(n.role, (counts.get(n.role) ?? 0) + 1);
  return counts;
}
