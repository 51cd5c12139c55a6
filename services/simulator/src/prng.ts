/**
 * Seeded PRNG (sfc32, seeded through splitmix32). Everything the simulator invents comes from one of these, so a seed
 * reproduces the same mesh and the same packet sequence; Math.random is never used.
 */
/** Weight tables are constants; their cumulative form is computed once per table. */
const TABLES = new WeakMap<object, { keys: string[]; weights: number[]; total: number }>();

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 0x1_0000_0000;
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks a key with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    let table = TABLES.get(weights);
    if (!table) {
      const entries = Object.entries(weights) as [string, number][];
      table = {
        keys: entries.map(([k]) => k),
        total: entries.reduce((s, [, w]) => s + w, 0),
        weights: entries.map(([, w]) => w),
      };
      TABLES.set(weights, table);
    }
    let x = this.next() * table.total;
    for (let i = 0; i < table.keys.length; i++) {
      x -= table.weights[i]!;
      if (x < 0) return table.keys[i] as K;
    }
    return table.keys[table.keys.length - 1] as K;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A child generator whose sequence does not depend on how much of this one is consumed later. */
  fork(label: number): Prng {
    return new Prng((this.u32() ^ Math.imul(label + 1, 0x27d4eb2d)) >>> 0);
  }
}
