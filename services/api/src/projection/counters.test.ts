import type { MeshEvent } from '@mmm/schemas';
import { describe, expect, it } from 'vitest';
import { openDb } from '../store/db.js';
import { rx } from '../testing.js';
import { ProjectionWriter } from './apply.js';
import { emptyChanges } from './changes.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 10, 30);

/** Receptions of three nodes by two agents over two hour buckets, in no particular time order. */
function events(): MeshEvent[] {
  const out: MeshEvent[] = [];
  for (let i = 0; i < 60; i++) {
    const at = T0 + ((i * 7919) % 90) * 60_000; // 10:30 to 12:00, shuffled
    const from = 100 + (i % 3);
    const agent = i % 2 ? 'gw-1' : 'gw-2';
    if (i % 3 === 0)
      out.push(rx('position', { latitudeI: 525_000_000 + i, longitudeI: 134_000_000 }, { from, agent, at, id: i + 1 }));
    else if (i % 3 === 1)
      out.push(rx('telemetry', { deviceMetrics: { batteryLevel: 50 + i } }, { from, agent, at, id: i + 1 }));
    else out.push(rx('text', { text: `hi ${i}` }, { from, agent, at, id: i + 1 }));
  }
  return out;
}

const dump = (db: ReturnType<typeof openDb>) => ({
  nodes: db.prepare('SELECT * FROM nodes ORDER BY num').all(),
  agents: db.prepare('SELECT site, agent, first_seen, last_seen, packet_count FROM agents ORDER BY agent').all(),
  ports: db.prepare('SELECT * FROM port_counts ORDER BY hour, port').all(),
  nodeAgents: db.prepare('SELECT * FROM node_agents ORDER BY num, agent').all(),
  receptions: (db.prepare('SELECT count(*) AS n FROM receptions').get() as { n: number }).n,
});

describe('projection counters summed per batch', () => {
  it('leave the same rows as one event at a time, and a redelivered batch moves no counter', () => {
    const one = openDb(':memory:');
    const w1 = new ProjectionWriter(one);
    for (const ev of events()) w1.apply(ev, emptyChanges());

    const batched = openDb(':memory:');
    const w2 = new ProjectionWriter(batched);
    batched.transaction(() => w2.applyBatch(events(), emptyChanges()))();
    expect(dump(batched)).toEqual(dump(one));
    const d = dump(batched);
    expect(d.receptions).toBe(60);
    expect((d.agents as { packet_count: number }[]).map((a) => a.packet_count)).toEqual([30, 30]);
    expect((d.ports as { n: number }[]).reduce((a, p) => a + p.n, 0)).toBe(60);
    expect(new Set((d.ports as { hour: number }[]).map((p) => p.hour)).size).toBe(2);
    const node = (d.nodes as { num: number; first_seen: number; last_heard: number; packet_count: number }[])[0]!;
    expect(node.packet_count).toBe(20);
    expect(node.first_seen).toBeLessThan(node.last_heard);
    expect(node.last_heard - node.first_seen).toBeLessThan(1.5 * HOUR);

    // Redelivery of the whole batch: every reception is known, nothing moves.
    batched.transaction(() => w2.applyBatch(events(), emptyChanges()))();
    expect(dump(batched)).toEqual(d);
    one.close();
    batched.close();
  });

  it('drop the sums of a batch whose transaction failed', () => {
    const db = openDb(':memory:');
    const w = new ProjectionWriter(db);
    const evs = events();
    const broken = { ...evs[0]!, kind: 'reception', packet: null } as unknown as MeshEvent;
    expect(() => db.transaction(() => w.applyBatch([...evs.slice(1, 10), broken], emptyChanges()))()).toThrow();
    // Redelivered and applied again: counted once.
    db.transaction(() => w.applyBatch(evs, emptyChanges()))();
    const agents = db.prepare('SELECT packet_count FROM agents ORDER BY agent').all() as { packet_count: number }[];
    expect(agents.map((a) => a.packet_count)).toEqual([30, 30]);
    db.close();
  });
});
