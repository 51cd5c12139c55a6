import v8 from 'node:v8';

/**
 * V8 flags that keep the agent's heap small. Under load the agent allocates a lot of short-lived garbage (decoded
 * packets, JSON, publish bookkeeping) but keeps little: its live heap is ~25 MB. With V8's defaults the young
 * generation grows to 2 × 16 MB and the old generation to ~4 × the live size before a full collection, so a busy
 * agent sat at ~200 MB resident for ~25 MB of data. A site box (often a Raspberry Pi beside the radio) wants the
 * agent small, and a radio produces at most a few hundred packets per second, far below what the agent does even
 * with these limits (docs/agent.md, "Memory").
 *
 * - `--semi-space-growth-factor=1`: the young generation stays at its initial size instead of growing to its
 *   maximum; more frequent, cheaper scavenges.
 * - `--heap-growing-percent=50`: a full collection runs when the old generation is 1.5 × what survived the last one.
 *
 * Both are read by V8 at each collection, so setting them at run time works (the maximum sizes are fixed at start
 * and are not touched). It must run before the agent's dependencies load, since the young generation keeps whatever
 * size it grew to while they did: `mmm agent` calls it first (services/cli/src/program.ts). Flags the operator gave
 * node (command line or NODE_OPTIONS) win.
 */
export const COMPACT_HEAP_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=50'] as const;

export function compactHeap(
  given: readonly string[] = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)],
): string[] {
  // V8 accepts `-` and `_` alike in flag names.
  const norm = (flag: string) => flag.replace(/^--/, '').split('=')[0]!.replaceAll('_', '-');
  const taken = new Set(given.map(norm));
  const applied: string[] = [];
  for (const flag of COMPACT_HEAP_FLAGS) {
    if (taken.has(norm(flag))) continue;
    v8.setFlagsFromString(flag);
    applied.push(flag);
  }
  return applied;
}
