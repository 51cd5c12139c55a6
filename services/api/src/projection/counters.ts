/**
 * Per-reception counters summed over one batch and written once per key: an agent's, a node's and an hour's counters
 * each took one upsert per reception, most of the projection's statements, and every one of them is a sum, min or
 * max, so adding up in memory first gives the same rows. Only receptions that were new go in here, so a redelivered
 * batch still moves no counter.
 */
export interface CounterStatements {
  /** `source`: where the agent's latest reception of the batch came from (radio, or an MQTT gateway). */
  agentSeen(site: string, agent: string, first: number, last: number, count: number, source: string): void;
  /** `last` is both the node's latest update and when it was last heard. */
  nodeSeen(num: number, first: number, last: number, count: number): void;
  port(hour: number, port: string, n: number): void;
}

interface Span {
  first: number;
  last: number;
  count: number;
}

const widen = (s: Span | undefined, at: number): Span =>
  s
    ? { first: Math.min(s.first, at), last: Math.max(s.last, at), count: s.count + 1 }
    : { first: at, last: at, count: 1 };

export class BatchCounters {
  private readonly agents = new Map<string, { site: string; agent: string; span: Span; source: string }>();
  private readonly nodes = new Map<number, Span>();
  private readonly ports = new Map<string, { hour: number; port: string; n: number }>();

  reception(site: string, agent: string, from: number, port: string, hour: number, at: number, source: string): void {
    const ak = `${site}\u0000${agent}`;
    const a = this.agents.get(ak);
    // An agent's first_seen is set by its first row and never moved (unlike a node's, the earliest): keep the first.
    this.agents.set(ak, {
      site,
      agent,
      span: a ? { ...widen(a.span, at), first: a.span.first } : widen(undefined, at),
      source: a && a.span.last > at ? a.source : source,
    });
    this.nodes.set(from, widen(this.nodes.get(from), at));
    const pk = `${hour}\u0000${port}`;
    const p = this.ports.get(pk);
    if (p) p.n++;
    else this.ports.set(pk, { hour, port, n: 1 });
  }

  /** Writes the sums (inside the batch's transaction) and starts over. */
  flush(s: CounterStatements): void {
    for (const { site, agent, span, source } of this.agents.values())
      s.agentSeen(site, agent, span.first, span.last, span.count, source);
    for (const [num, span] of this.nodes) s.nodeSeen(num, span.first, span.last, span.count);
    for (const { hour, port, n } of this.ports.values()) s.port(hour, port, n);
    this.reset();
  }

  /** Drops the sums (a batch whose transaction failed). */
  reset(): void {
    this.agents.clear();
    this.nodes.clear();
    this.ports.clear();
  }
}
