import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subjects } from '@mmm/schemas';
import { type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection, StringCodec } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningIngest, startIngest } from './service.js';
import { SqliteStore } from './sqlite/store.js';
import { askSqlite } from './testing/compare.js';
import { createHubStream, publishAll, quietLog, testConfig } from './testing/nats.js';
import { COUNT_QUESTIONS } from './testing/questions.js';
import { simulateHour } from './testing/sim-hour.js';

describe('mmm ingest service: hub stream -> SQLite', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let ingest: RunningIngest;
  let dir: string;
  let dbPath: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    await createHubStream(nc);
    dir = mkdtempSync(join(tmpdir(), 'mmm-ingest-svc-'));
    dbPath = join(dir, 'history.db');
    const config = testConfig(
      `[nats]\nurl = ${nats.url}\n[sqlite]\npath = ${dbPath}\n[ingest]\nops_port = 0\nbatch_max = 2000\n`,
    );
    ingest = await startIngest(config, quietLog());
  });
  afterAll(async () => {
    await ingest?.stop();
    await nc?.drain();
    await nats?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const count = (store: SqliteStore, table: string) =>
    (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

  it('stores a simulated hour published to the stream, exactly', async () => {
    const hour = simulateHour(7);
    await publishAll(nats.url, hour.events);
    const reader = new SqliteStore(dbPath);
    try {
      await waitFor('all receptions stored', () => count(reader, 'receptions') === hour.expected.receptions, 30_000);
      await waitFor('all statuses stored', () => count(reader, 'agent_status') === hour.expected.agent_status, 10_000);
      const counts = Object.fromEntries(COUNT_QUESTIONS.map((q) => [q.name, askSqlite(reader, q)[0]]));
      expect(counts['count packets']).toEqual({ n: hour.expected.packets });
      expect(counts['count telemetry']).toEqual({ n: hour.expected.telemetry });
      expect(counts['count node_info']).toEqual({ n: hour.expected.node_info });
      expect(counts['count traceroute_hops']).toEqual({ n: hour.expected.traceroute_hops });
      expect(counts['count nodedb']).toEqual({ n: hour.expected.nodedb });
    } finally {
      await reader.close();
    }
  });

  it('dead-letters malformed events with the reason and stores the good events around them', async () => {
    const sc = StringCodec();
    const js = nc.jetstream();
    const dlq = await js.consumers.get('MESH_DLQ');
    const good = simulateHour(99, undefined, 2)
      .events.filter((e) => e.event.kind === 'status')
      .slice(0, 4);
    const bad: [string, string, RegExp][] = [
      [subjects.status('s9', 'x1'), '{not json', /not JSON/],
      [subjects.status('s9', 'x1'), JSON.stringify({ ...good[0]!.event, site: 's9', agent: 'x1', at: 'soon' }), /\/at/],
      [subjects.rx('s9', 'x1', 'text'), JSON.stringify({ kind: 'reception' }), /\//],
      [subjects.status('s9', 'x2'), JSON.stringify({ ...good[0]!.event }), /published on a subject of s9\/x2/],
      ['mesh.v1.s9.x1.rx.bogus', '{}', /unknown port/],
    ];
    await js.publish(good[0]!.subject, sc.encode(JSON.stringify(good[0]!.event)));
    for (const [subject, body] of bad.slice(0, 3)) await js.publish(subject, sc.encode(body));
    await js.publish(good[1]!.subject, sc.encode(JSON.stringify(good[1]!.event)));
    await js.publish(bad[3]![0], sc.encode(bad[3]![1]));
    await js.publish(good[2]!.subject, sc.encode(JSON.stringify(good[2]!.event)));
    await js.publish(good[3]!.subject, new Uint8Array([0xff, 0xfe, 0x00]));

    const letters: { reason: string; subject: string; payload: string; payloadEncoding: string; streamSeq: number }[] =
      [];
    await waitFor(
      'dead letters',
      async () => {
        const batch = await dlq.fetch({ max_messages: 10, expires: 1000 });
        for await (const m of batch) {
          letters.push(m.json());
          m.ack();
        }
        return letters.length >= 5;
      },
      20_000,
    );
    expect(letters.map((l) => l.subject)).toEqual([...bad.slice(0, 4).map((b) => b[0]), good[3]!.subject]);
    for (const [i, [, body, reason]] of bad.slice(0, 4).entries()) {
      expect(letters[i]!.reason).toMatch(reason);
      expect(letters[i]!.payload).toBe(body);
      expect(letters[i]!.streamSeq).toBeGreaterThan(0);
    }
    expect(letters[4]!.payloadEncoding).toBe('base64');
    const reader = new SqliteStore(dbPath);
    try {
      await waitFor(
        'good events stored',
        () => {
          const rows = reader.db.prepare("SELECT at FROM agent_status WHERE site = 's1' OR site = 's2'").all() as {
            at: number;
          }[];
          const ats = new Set(rows.map((r) => r.at));
          return good.slice(0, 3).every((g) => ats.has((g.event as { at: number }).at));
        },
        20_000,
      );
    } finally {
      await reader.close();
    }
  });

  it('serves health, readiness and metrics', async () => {
    const base = `http://127.0.0.1:${ingest.opsPort}`;
    const health = await (await fetch(`${base}/healthz`)).json();
    expect(health).toMatchObject({ status: 'ok', store: 'sqlite', storeHealthy: true });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/ingest_events_total\{kind="reception",port="position",service="ingest"\} \d+/);
    expect(metrics).toMatch(/ingest_dead_letters_total\{service="ingest"\} 5/);
    expect(metrics).toMatch(/ingest_batches_total\{service="ingest"\} [1-9]/);
    expect(metrics).toMatch(/ingest_rows_total\{table="receptions",service="ingest"\} \d+/);
    await waitFor(
      'lag gauge',
      async () => /ingest_consumer_pending\{service="ingest"\} 0/.test(await (await fetch(`${base}/metrics`)).text()),
      10_000,
    );
  });
});
