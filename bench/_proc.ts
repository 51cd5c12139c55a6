// /proc readings for benchmarks: CPU seconds and resident memory of a process by pid.
import { readFileSync } from 'node:fs';

const CLK_TCK = 100;

/** User + system CPU seconds a process has used so far (0 once it is gone). */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLK_TCK; // utime + stime
  } catch {
    return 0;
  }
}

/** Resident set size in MB (0 once it is gone). */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds each named process uses between start() and the returned function's call. */
export function cpuMeter(pids: Record<string, number | undefined>): () => Record<string, number> {
  const start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  return () =>
    Object.fromEntries(
      Object.entries(pids).map(([k, pid]) => [k, Math.round((cpuSeconds(pid) - start[k]!) * 100) / 100]),
    );
}
