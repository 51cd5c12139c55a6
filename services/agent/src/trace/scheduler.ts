/** Why a traceroute was sent (TraceOutcome.trigger). */
export type TraceTrigger = 'sweep' | 'priority' | 'stale' | 'seen' | 'manual';

export interface SchedulerConfig {
  intervalMs: number;
  maxPerCycle: number;
  /** Only nodes heard this recently are swept. */
  recentMs: number;
  cacheMs: number;
  priorityCacheMs: number;
  priorityNodes: readonly number[];
  /** Least time between two attempts at the same priority node for the priority rules. */
  priorityCheckMs: number;
  proactiveMs?: number;
  seenAfterMs?: number;
  staleAfterMs?: number;
}

/** Priority rules (hours, as in the original's priority monitor). */
export const PROACTIVE_MS = 2 * 3_600_000;
export const SEEN_AFTER_MS = 4 * 3_600_000;
export const STALE_AFTER_MS = 6 * 3_600_000;

interface CacheEntry {
  discoveredAt: number;
}

/**
 * Which node to traceroute next. Pure: time comes from the injected clock, the caller sends the request and
 * reports the outcome. Route age is measured from when the route was discovered (the original measured it from
 * its own last lookup, so priority routes never looked stale).
 */
export class TraceScheduler {
  private readonly heardAt = new Map<number, number>();
  private readonly cache = new Map<number, CacheEntry>();
  private readonly lastAttempt = new Map<number, number>();
  private readonly urgent: { target: number; trigger: TraceTrigger }[] = [];
  /** Nodes swept in the current cycle; a cycle lasts intervalMs and takes at most maxPerCycle nodes. */
  private readonly sweptThisCycle = new Set<number>();
  private cycleStartedAt: number | undefined;
  private readonly priority: ReadonlySet<number>;

  constructor(
    private readonly cfg: SchedulerConfig,
    private readonly clock: () => number = Date.now,
  ) {
    this.priority = new Set(cfg.priorityNodes);
  }

  isPriority(num: number): boolean {
    return this.priority.has(num);
  }

  /** A packet from `num` was heard. A priority node not traced for 4 h gets a refresh. */
  heard(num: number, at = this.clock()): void {
    this.heardAt.set(num, at);
    if (!this.priority.has(num)) return;
    const last = this.lastAttempt.get(num);
    if (last !== undefined && at - last < (this.cfg.seenAfterMs ?? SEEN_AFTER_MS)) return;
    if (last === undefined && this.cache.has(num)) return;
    if (!this.urgent.some((u) => u.target === num)) this.urgent.push({ target: num, trigger: 'seen' });
  }

  /** Request a trace now (next slot), e.g. from an operator. */
  request(num: number, trigger: TraceTrigger = 'manual'): void {
    if (!this.urgent.some((u) => u.target === num)) this.urgent.push({ target: num, trigger });
  }

  started(num: number, at = this.clock()): void {
    this.lastAttempt.set(num, at);
  }

  succeeded(num: number, at = this.clock()): void {
    this.cache.set(num, { discoveredAt: at });
  }

  /**
   * Replays an outcome from before a restart: its attempt counts for the priority checks and a success is a cached
   * route discovered when it finished. Returns whether it was a route.
   */
  restore(o: { to: number; startedAt: number; finishedAt: number; outcome: string }): boolean {
    const last = this.lastAttempt.get(o.to);
    if (last === undefined || o.startedAt > last) this.lastAttempt.set(o.to, o.startedAt);
    if (o.outcome !== 'success') return false;
    const c = this.cache.get(o.to);
    if (!c || o.finishedAt > c.discoveredAt) this.cache.set(o.to, { discoveredAt: o.finishedAt });
    return true;
  }

  ttl(num: number): number {
    return this.priority.has(num) ? this.cfg.priorityCacheMs : this.cfg.cacheMs;
  }

  /** A route discovered less than its TTL ago. */
  cached(num: number, now = this.clock()): boolean {
    const c = this.cache.get(num);
    return c !== undefined && now - c.discoveredAt < this.ttl(num);
  }

  routeAge(num: number, now = this.clock()): number | undefined {
    const c = this.cache.get(num);
    return c === undefined ? undefined : now - c.discoveredAt;
  }

  /** The next target, or undefined when nothing is due. `self` is the agent's own node. */
  next(self: number | undefined): { target: number; trigger: TraceTrigger } | undefined {
    const now = this.clock();
    while (this.urgent.length) {
      const u = this.urgent.shift()!;
      if (u.target !== self) return u;
    }
    const p = this.duePriority(now, self);
    if (p) return p;
    if (this.cycleStartedAt === undefined || now - this.cycleStartedAt >= this.cfg.intervalMs) {
      this.cycleStartedAt = now;
      this.sweptThisCycle.clear();
    }
    if (this.sweptThisCycle.size >= this.cfg.maxPerCycle) return undefined;
    // Chosen when due rather than listed at the cycle's start, so nodes first heard during the cycle (e.g. right
    // after start-up) are swept in it too; most recently heard first.
    let best: [number, number] | undefined;
    for (const [num, at] of this.heardAt) {
      if (num === self || now - at > this.cfg.recentMs || this.sweptThisCycle.has(num) || this.cached(num, now))
        continue;
      if (!best || at > best[1]) best = [num, at];
    }
    if (!best) return undefined;
    this.sweptThisCycle.add(best[0]);
    return { target: best[0], trigger: 'sweep' };
  }

  private duePriority(now: number, self: number | undefined): { target: number; trigger: TraceTrigger } | undefined {
    const checkMs = this.cfg.priorityCheckMs;
    for (const num of this.priority) {
      if (num === self) continue;
      const last = this.lastAttempt.get(num);
      if (last !== undefined && now - last < checkMs) continue;
      const age = this.routeAge(num, now);
      if (age !== undefined && age >= (this.cfg.staleAfterMs ?? STALE_AFTER_MS) && age < this.ttl(num))
        return { target: num, trigger: 'stale' };
      if (last === undefined || now - last >= (this.cfg.proactiveMs ?? PROACTIVE_MS)) {
        if (age !== undefined && age < (this.cfg.proactiveMs ?? PROACTIVE_MS)) continue;
        return { target: num, trigger: 'priority' };
      }
    }
    return undefined;
  }
}
