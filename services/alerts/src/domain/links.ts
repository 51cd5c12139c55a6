/** A link change from route analysis's snapshot bucket: a quality (0..1), or gone. */
export interface LinkChange {
  readonly from: number;
  readonly to: number;
  /** undefined: the link aged out (its key was deleted). */
  readonly quality: number | undefined;
}

/**
 * Each node's current links in either direction, as route analysis publishes them. Not checkpointed: watching the
 * bucket replays every current link at start, and the rules' conditions, which are checkpointed, carry the rest.
 */
export class LinkBook {
  private readonly byNode = new Map<number, Map<string, { other: number; quality: number }>>();

  /** Applies a change; returns the two nodes it concerns. */
  apply(c: LinkChange): [number, number] {
    const key = `${c.from}>${c.to}`;
    for (const [n, other] of [
      [c.from, c.to],
      [c.to, c.from],
    ] as const) {
      let m = this.byNode.get(n);
      if (c.quality === undefined) {
        m?.delete(key);
        continue;
      }
      if (!m) {
        m = new Map();
        this.byNode.set(n, m);
      }
      m.set(key, { other, quality: c.quality });
    }
    return [c.from, c.to];
  }

  /**
   * The node's best link, or quality 0 when every link it had aged out; undefined for a node route analysis never
   * linked (nothing known, nothing to judge).
   */
  best(num: number): { quality: number; other: number | undefined } | undefined {
    const m = this.byNode.get(num);
    if (!m) return undefined;
    let best: { quality: number; other: number | undefined } = { quality: 0, other: undefined };
    for (const l of m.values()) if (l.quality > best.quality) best = l;
    return best;
  }
}
