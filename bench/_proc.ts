// /proc readings for benchmarks: CPU seconds and resident memory of a process by pid.
import { readdirSync, readFileSync } from 'node:fs';

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

/** Parent pid of a process (undefined once it is gone). */
function parentOf(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * A pid and all its descendants alive now. `mmm` run from source is a thin launcher whose child does the work, so a
 * service's CPU is its whole tree's.
 */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const ppid = parentOf(pid);
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU seconds each named process tree (pids taken once, at the call) uses between start() and the returned call. */
export function treeCpuMeter(roots: Record<string, number>): () => Record<string, number> {
  const trees = Object.fromEntries(Object.entries(roots).map(([k, pid]) => [k, processTree(pid)]));
  const sum = (pids: number[]) => pids.reduce((a, p) => a + cpuSeconds(p), 0);
  const start = Object.fromEntries(Object.entries(trees).map(([k, pids]) => [k, sum(pids)]));
  return () => Object.fromEntries(Object.entries(trees).map(([k, pids]) => [k, sum(pids) - start[k]!]));
}
