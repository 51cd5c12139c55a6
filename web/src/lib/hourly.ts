import type { PacketRow } from './types.js';

/** Receptions per hour over the last `hours`, oldest first; x in epoch seconds at the start of each hour. */
export function hourlyCounts(
  packets: readonly PacketRow[],
  hours: number,
  now = Date.now(),
): { x: number[]; counts: number[] } {
  const H = 3600_000;
  const end = Math.floor(now / H) * H;
  const start = end - (hours - 1) * H;
  const counts = new Array<number>(hours).fill(0);
  for (const p of packets) {
    if (p.at === null || p.at < start || p.at >= end + H) continue;
    const i = Math.floor((p.at - start) / H);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  if (packets.length === 0) return { x: [], counts: [] };
  return { x: counts.map((_, i) => (start + i * H) / 1000), counts };
}
