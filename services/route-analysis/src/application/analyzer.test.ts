import { describe, expect, it } from 'vitest';
import { nodeDb, T0, textRx } from '../test-events.js';
import { subjectOf } from '../test-nats.js';
import { Analyzer } from './analyzer.js';

const settings = { linkMaxAgeMs: 3_600_000, nodeMaxAgeMs: 3_600_000, snrWindowMs: 3_600_000, maxSamples: 8 };
const bytes = (ev: object) => new TextEncoder().encode(JSON.stringify(ev));

describe('Analyzer', () => {
  it('skips sequences it already counted and reports invalid events with a reason', () => {
    const a = Analyzer.fresh(settings);
    const db = nodeDb({ myNodeNum: 1 });
    expect(a.handle(1, subjectOf(db), bytes(db)).status).toBe('applied');
    expect(a.handle(1, subjectOf(db), bytes(db)).status).toBe('duplicate');
    expect(a.handle(2, subjectOf(db), bytes({ ...db, nodes: 'x' }))).toEqual({
      status: 'invalid',
      reason: expect.stringMatching(/^\/nodes/),
    });
    expect(a.lastSeq).toBe(2);
  });

  it('plans updates, snapshot and checkpoint per flush, with the checkpoint meta last', () => {
    const a = Analyzer.fresh(settings);
    const evs = [nodeDb({ myNodeNum: 1 }), textRx({ from: 9, id: 5, rxSnr: 3 })];
    for (const [i, ev] of evs.entries()) a.handle(i + 1, subjectOf(ev), bytes(ev));
    const plan = a.flush(T0 + 1000, 0);
    expect(plan.updates.map((u) => [u.subject, u.event.type])).toEqual([
      ['mesh.v1.derived.topology.link', 'link'],
      ['mesh.v1.derived.topology.hops', 'hops'],
      ['mesh.v1.derived.topology.relay', 'relay'],
    ]);
    expect(plan.snapshot.puts.map(([k]) => k)).toEqual([
      'link.00000009.00000001',
      'hops.s1.a1',
      'relays.s1.a1',
      'links',
      'meta',
    ]);
    expect(plan.state.puts.at(-1)).toEqual(['meta', { v: 1, lastSeq: 2, at: T0 + 1000 }]);
    expect(plan.lastSeq).toBe(2);
  });

  it('rewrites the whole links array at most once per links interval, and catches up later', () => {
    const a = Analyzer.fresh(settings);
    a.linksIndexIntervalMs = 5000;
    const db = nodeDb({ myNodeNum: 1 });
    a.handle(1, subjectOf(db), bytes(db));
    const rx = (seq: number, from: number) => {
      const ev = textRx({ from, id: seq, rxSnr: 1 });
      a.handle(seq, subjectOf(ev), bytes(ev));
    };
    rx(2, 9);
    const keys = (mono: number) => a.flush(T0, mono).snapshot.puts.map(([k]) => k);
    expect(keys(10_000)).toContain('links');
    rx(3, 10);
    expect(keys(11_000)).toEqual(['link.0000000a.00000001', 'hops.s1.a1']);
    expect(a.snapshotPending).toBe(true);
    expect(keys(12_000)).toEqual([]);
    expect(keys(15_000)).toEqual(['links', 'meta']);
    expect(a.snapshotPending).toBe(false);
  });
});
