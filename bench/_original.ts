// The original (Python) server's figures, read from shared/reference/original-bench.md: it is not in the repository,
// so it cannot be re-run beside the stack; its side-by-side table was measured on the same box class.
import { existsSync, readFileSync } from 'node:fs';

export interface OriginalCase {
  acceptedPerS: number | null;
  p50: number | null;
  /** Its one process's CPU per accepted packet (CPU % of one core ÷ packets/s), from the summary's medians. */
  cpuUsPerReception: number | null;
}

const num = (s: string | undefined) => (s === undefined ? null : Number(s.replace(/,/g, '')));

export function originalFigures(file: string): { batch100: OriginalCase; batch1: OriginalCase } {
  const md = existsSync(file) ? readFileSync(file, 'utf8') : '';
  // "| 100 packets per POST | 3,618 (420 ms) | …" in the side-by-side table.
  const side = (n: string) => new RegExp(`^\\| ${n} packets? per POST \\| ([\\d,]+) \\((\\d+) ms\\)`, 'm').exec(md);
  // Summary: "(a) ingest … | **3,600 pkts/s**", "(b) same, 1 pkt/POST | **324 pkts/s", "(d) server during (a) | CPU **95 %**".
  const rate = (c: string) => num(new RegExp(`^\\| \\(${c}\\)[^|]*\\| \\*\\*([\\d,]+) pkts/s`, 'm').exec(md)?.[1]);
  const cpu = (c: string) =>
    num(new RegExp(`^\\| \\(d\\) server during \\(${c}\\) \\| CPU (?:\\*\\*)?(\\d+) %`, 'm').exec(md)?.[1]);
  const perReception = (c: string) => {
    const r = rate(c);
    const p = cpu(c);
    return r && p ? Math.round((p / 100 / r) * 1e6) : null;
  };
  const s100 = side('100');
  const s1 = side('1');
  return {
    batch100: { acceptedPerS: num(s100?.[1]), p50: num(s100?.[2]), cpuUsPerReception: perReception('a') },
    batch1: { acceptedPerS: num(s1?.[1]), p50: num(s1?.[2]), cpuUsPerReception: perReception('b') },
  };
}
