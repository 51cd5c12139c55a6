// Percentiles and timed GETs shared by the benchmarks (api, live, history-tools).

/** Nearest-rank percentile. */
export function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const median = (v: number[]) => pct(v, 50);
export const r1 = (x: number) => Math.round(x * 10) / 10;

/** Latencies of `n` sequential GETs (after `warm` untimed ones). */
export async function timeGets(
  url: string,
  n: number,
  warm = 3,
): Promise<{ ms: number[]; status: number; items: number }> {
  let status = 0;
  let items = 0;
  for (let i = 0; i < warm; i++) await (await fetch(url)).arrayBuffer();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(url);
    const body = (await res.json()) as Record<string, unknown>;
    ms.push(performance.now() - t0);
    status = res.status;
    const arr = Object.values(body).find(Array.isArray) as unknown[] | undefined;
    items = arr?.length ?? 0;
  }
  return { ms, status, items };
}
