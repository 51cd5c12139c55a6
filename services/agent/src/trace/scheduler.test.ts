import { describe, expect, it } from 'vitest';
import { PROACTIVE_MS, SEEN_AFTER_MS, STALE_AFTER_MS, TraceScheduler } from './scheduler.js';

const H = 3_600_000;
const ME = 1;

function make(over: Partial<ConstructorParameters<typeof TraceScheduler>[0]> = {}) {
  let now = 1_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const s = new TraceScheduler(
    {
      intervalMs: H,
      maxPerCycle: 3,
      recentMs: 2 * H,
      cacheMs: 24 * H,
      priorityCacheMs: 12 * H,
      priorityNodes: [],
      priorityCheckMs: 300_000,
      ...over,
    },
    clock.now,
  );
  return { s, clock };
}

describe('TraceScheduler', () => {
  it('sweeps only recently heard nodes, most recent first, capped per cycle, never itself', () => {
    const { s, clock } = make();
    s.heard(10);
    clock.advance(3 * H); // 10 is now too old
    for (const n of [20, 30, 40, 50, ME]) {
      s.heard(n);
      clock.advance(1000);
    }
    const picks = [s.next(ME), s.next(ME), s.next(ME), s.next(ME)];
    expect(picks.slice(0, 3).map((p) => p?.target)).toEqual([50, 40, 30]);
    expect(picks.map((p) => p?.trigger).slice(0, 3)).toEqual(['sweep', 'sweep', 'sweep']);
    expect(picks[3]).toBeUndefined(); // cap of 3, next cycle only after the interval
    clock.advance(H);
    for (const n of [20, 30]) {
      s.heard(n);
      clock.advance(1000);
    }
    expect(s.next(ME)).toEqual({ target: 30, trigger: 'sweep' }); // a new cycle: the most recently heard first
  });

  it('sweeps nodes first heard during a cycle in that cycle (e.g. right after start-up)', () => {
    const { s, clock } = make();
    expect(s.next(ME)).toBeUndefined(); // nothing heard yet: the cycle has started empty
    clock.advance(5_000);
    s.heard(20);
    expect(s.next(ME)).toEqual({ target: 20, trigger: 'sweep' });
    expect(s.next(ME)).toBeUndefined(); // each node once per cycle
  });

  it('skips nodes whose cached route is younger than its TTL (24 h, or priority_cache_duration for priority nodes)', () => {
    const { s, clock } = make({ cacheMs: 24 * H });
    s.heard(5);
    s.started(5);
    s.succeeded(5);
    expect(s.cached(5)).toBe(true);
    clock.advance(2 * H);
    s.heard(5);
    expect(s.next(ME)).toBeUndefined();
    clock.advance(22 * H + 1);
    s.heard(5);
    expect(s.next(ME)).toEqual({ target: 5, trigger: 'sweep' });
    const p = make({ priorityNodes: [7], cacheMs: 24 * H, priorityCacheMs: 3 * H });
    p.s.succeeded(7);
    expect(p.s.ttl(7)).toBe(3 * H);
    expect(p.s.ttl(5)).toBe(24 * H);
    p.clock.advance(3 * H);
    expect(p.s.cached(7)).toBe(false);
  });

  it('refreshes priority nodes proactively every 2 h', () => {
    const { s, clock } = make({ priorityNodes: [7] });
    expect(s.next(ME)).toEqual({ target: 7, trigger: 'priority' });
    s.started(7);
    s.succeeded(7);
    clock.advance(PROACTIVE_MS - 1000);
    expect(s.next(ME)).toBeUndefined();
    clock.advance(1000);
    expect(s.next(ME)).toEqual({ target: 7, trigger: 'priority' });
  });

  it('traces a priority node when it is heard after 4 h without a trace', () => {
    const { s, clock } = make({ priorityNodes: [7], priorityCheckMs: 10 * H });
    s.started(7);
    s.succeeded(7);
    clock.advance(SEEN_AFTER_MS - 1000);
    s.heard(7);
    expect(s.next(ME)).toBeUndefined();
    clock.advance(1000);
    s.heard(7);
    expect(s.next(ME)).toEqual({ target: 7, trigger: 'seen' });
  });

  it('re-traces a priority route when it is 6 h old, measuring age from its discovery', () => {
    const { s, clock } = make({ priorityNodes: [7], priorityCacheMs: 12 * H, proactiveMs: 100 * H });
    s.started(7);
    s.succeeded(7);
    clock.advance(STALE_AFTER_MS - 1000);
    // Looking at the cache must not make the route young again (the original's bug).
    expect(s.cached(7)).toBe(true);
    expect(s.next(ME)).toBeUndefined();
    clock.advance(1000);
    expect(s.routeAge(7)).toBe(STALE_AFTER_MS);
    expect(s.next(ME)).toEqual({ target: 7, trigger: 'stale' });
  });
});
