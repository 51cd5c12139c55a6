import { describe, expect, it } from 'vitest';
import { Progress } from './progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, s: { isTTY, write: (x: string) => out.push(x) } };
}

describe('Progress', () => {
  it('writes one JSON line per interval when not a terminal, with rate and ETA', () => {
    let t = 0;
    const { out, s } = sink(false);
    const p = new Progress({
      label: 'import packets',
      total: 1000,
      unit: 'rows',
      sink: s,
      everyMs: 5000,
      now: () => t,
    });
    t = 1000;
    p.add(100);
    expect(out).toHaveLength(0);
    t = 5000;
    p.add(400);
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]!)).toEqual({
      progress: 'import packets',
      done: 500,
      total: 1000,
      unit: 'rows',
      elapsed_s: 5,
      rate_per_s: 100,
      eta_s: 5,
    });
    t = 6000;
    p.add(500);
    const last = p.finish();
    expect(JSON.parse(out[1]!)).toEqual(last);
    expect(last).toMatchObject({ done: 1000, eta_s: 0, final: true });
  });

  it('redraws one terminal line with a bar, and ends it', () => {
    let t = 0;
    const { out, s } = sink(true);
    const p = new Progress({ label: 'export', total: 200, unit: 'rows', sink: s, now: () => t });
    t = 1000;
    p.add(50);
    expect(out[0]).toBe(`\r\u001b[2Kexport [${'#'.repeat(6)}${'-'.repeat(18)}] 25.0% 50/200 rows 50/s ETA 0:03`);
    p.finish();
    expect(out.at(-1)).toMatch(/\n$/);
  });

  it('counts work done before a resume in done, not in the rate', () => {
    let t = 0;
    const { s } = sink(false);
    const p = new Progress({ label: 'import', total: 1000, initial: 600, sink: s, now: () => t });
    t = 2000;
    p.add(200);
    expect(p.finish()).toMatchObject({ done: 800, rate_per_s: 100, eta_s: 2 });
  });

  it('shows count and rate without a total', () => {
    let t = 0;
    const { out, s } = sink(false);
    const p = new Progress({ label: 'export', sink: s, now: () => t });
    t = 2000;
    p.add(10);
    expect(p.finish()).toMatchObject({ total: null, eta_s: null, rate_per_s: 5 });
    expect(out).toHaveLength(1);
  });
});
