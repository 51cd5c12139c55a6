/** Reconnect delays: 0.5 s doubling to 15 s, with ±20 % jitter so many tabs do not reconnect in lockstep. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.8 + 0.4 * random()));
}
