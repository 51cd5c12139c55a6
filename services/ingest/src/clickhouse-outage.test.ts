import { type ClickHouseServer, type NatsServer, startClickHouse, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from './clickhouse/store.js';
import { type RunningIngest, startIngest } from './service.js';
import { bulkReceptions } from './testing/bulk.js';
import { createHubStream, publishAll, quietLog, testConfig } from './testing/nats.js';
import { defaultBase } from './testing/sim-hour.js';

const RECEPTIONS = 20_000;

describe('ClickHouse stopped and started while ingest runs', () => {
  let nats: NatsServer;
  let ch: ClickHouseServer;
  let nc: NatsConnection;
  let ingest: RunningIngest;
  let reader: ClickHouseStore;

  beforeAll(async () => {
    [nats, ch] = await Promise.all([startNatsServer(), startClickHouse()]);
    nc = await connect({ servers: nats.url });
    await createHubStream(nc);
    const config = testConfig(
      `[nats]\nurl = ${nats.url}\n[clickhouse]\nurl = ${ch.url}\ndatabase = outage\n[ingest]\nops_port = 0\nbatch_max = 2000\nbatch_ms = 200\n`,
    );
    ingest = await startIngest(config, quietLog());
    reader = new ClickHouseStore({ url: ch.url, database: 'outage' });
  });
  afterAll(async () => {
    await ingest?.stop();
    await reader?.close();
    await nc?.drain();
    await Promise.all([nats?.dispose(), ch?.dispose()]);
  });

  const count = async () => (await reader.query<{ n: number }>('SELECT count() AS n FROM receptions'))[0]!.n;
  const ready = async () => (await fetch(`http://127.0.0.1:${ingest.opsPort}/readyz`)).status;

  it('waits without acking, resumes when ClickHouse is back, and loses nothing', { timeout: 240_000 }, async () => {
    const events = bulkReceptions(RECEPTIONS, defaultBase(), 5);
    const publishing = publishAll(nats.url, events);
    await waitFor('some receptions stored', async () => (await count()) > 0, 60_000, 50);
    await ch.kill('SIGKILL');
    await publishing;
    await waitFor('readyz reports the store down', async () => (await ready()) === 503, 30_000, 100);
    const jsm = await nc.jetstreamManager();
    const held = await jsm.consumers.info('MESH', 'ingest');
    expect(held.num_ack_pending + held.num_pending).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 2_000));
    await ch.restart();
    await waitFor('every reception stored', async () => (await count().catch(() => 0)) >= RECEPTIONS, 120_000, 250);
    await waitFor('readyz reports ready again', async () => (await ready()) === 200, 30_000, 100);
    const [stats] = await reader.query<{ n: number; ids: number; rollup: number }>(
      `SELECT (SELECT count() FROM receptions) AS n, (SELECT uniqExact(msg_id) FROM receptions) AS ids,
              (SELECT sum(receptions) FROM packets_hourly) AS rollup`,
    );
    expect(stats).toEqual({ n: RECEPTIONS, ids: RECEPTIONS, rollup: RECEPTIONS });
    const metrics = await (await fetch(`http://127.0.0.1:${ingest.opsPort}/metrics`)).text();
    expect(metrics).toMatch(/ingest_store_errors_total\{service="ingest"\} [1-9]/);
  });
});
