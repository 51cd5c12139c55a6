// `npm run bench -- projection [receptions]`: CPU µs per reception of the two SQLite writers alone, in this process,
// on the same receptions in batches of 1,000 (what their consumers commit at a time under load): the API's
// projection (ProjectionWriter.applyBatch in one transaction, decode included, as its consumer does) and ingest's
// SQLite history store (SqliteStore.write). Process CPU per reception changes much less with a loaded box than the
// rates, which are printed too. Default 50,000 position receptions (bulkReceptions: ~1.5 receptions per packet).
// Prints one line per case: {"scenario":"projection","case":…,"cpu_us_per_reception":…,"receptions_per_s":…, …}

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEvent, type MeshEvent } from '@mmm/schemas';
import { ProjectionWriter } from '../services/api/src/projection/apply.js';
import { emptyChanges } from '../services/api/src/projection/changes.js';
import { openDb } from '../services/api/src/store/db.js';
import { SqliteStore } from '../services/ingest/src/sqlite/store.js';
import { bulkReceptions } from '../services/ingest/src/testing/bulk.js';
import { rawPublishRateOnOwnServer } from './_baseline.js';

const N = Number(process.argv[2] ?? 50_000);
const BATCH = 1_000;
/** Targets of issue 18 (µs of CPU per reception). */
const TARGET = { 'api-projection': 30, 'ingest-sqlite': 40 } as const;

async function measure(name: keyof typeof TARGET, run: () => Promise<void>, raw: number): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const us = (cpu.user + cpu.system) / N;
  process.stdout.write(
    `${JSON.stringify({
      scenario: 'projection',
      case: name,
      cpu_us_per_reception: Math.round(us * 10) / 10,
      target_us: TARGET[name],
      receptions_per_s: Math.round(N / seconds),
      raw_publish_per_s: Math.round(raw),
      n: N,
      load_avg_1m: Math.round(loadavg()[0]! * 100) / 100,
    })}\n`,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mmm-bench-projection-'));
  try {
    const raw = await rawPublishRateOnOwnServer('bench-projection');
    const events = bulkReceptions(N, Date.now() - 3_600_000, 7);
    // As they arrive from the stream: encoded, then decoded and validated by the consumer.
    const enc = new TextEncoder();
    const wire = events.map((e) => ({ subject: e.subject, data: enc.encode(JSON.stringify(e.event)) }));
    const batches = <T>(xs: readonly T[]) =>
      Array.from({ length: Math.ceil(xs.length / BATCH) }, (_, i) => xs.slice(i * BATCH, (i + 1) * BATCH));

    const db = openDb(join(dir, 'api.db'));
    const writer = new ProjectionWriter(db);
    await measure(
      'api-projection',
      async () => {
        for (const b of batches(wire)) {
          const evs = b.map((m) => decodeEvent(m.subject, m.data)).flatMap((r) => (r.ok ? [r.value] : []));
          db.transaction(() => writer.applyBatch(evs, emptyChanges()))();
        }
      },
      raw,
    );
    db.close();

    const store = new SqliteStore(join(dir, 'history.db'));
    await store.init();
    let seq = 0;
    await measure(
      'ingest-sqlite',
      async () => {
        for (const b of batches(wire)) {
          const items = b.flatMap((m) => {
            const r = decodeEvent(m.subject, m.data);
            return r.ok ? [{ seq: ++seq, subject: m.subject, event: r.value as MeshEvent, redelivered: false }] : [];
          });
          await store.write(items, Date.now());
        }
      },
      raw,
    );
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
