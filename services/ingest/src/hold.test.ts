import { type ClickHouseServer, type NatsServer, startClickHouse, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from './clickhouse/store.js';
import { type RunningIngest, startIngest } from './service.js';
import { bulkReceptions } from './testing/bulk.js';
import { createHubStream, publishAll, quietLog, testConfig } from './testing/nats.js';
import { defaultBase } from './testing/sim-hour.js';

const RECEPTIONS = 20_000;
const ACK_WAIT_S = 5;

/**
 * Two ingest copies on one durable and one ClickHouse. ClickHouse is frozen (SIGSTOP) longer than the hold deadline
 * (half of ack_wait) while both copies hold batches: each copy gives its batch up (nak) instead of writing it late,
 * and every reception is stored exactly once, counted without FINAL.
 */
describe('hold deadline: two ingest copies and a frozen ClickHouse', () => {
  let nats: NatsServer;
  let ch: ClickHouseServer;
  let nc: NatsConnection;
  let copies: RunningIngest[] = [];
  let reader: ClickHouseStore;

  beforeAll(async () => {
    [nats, ch] = await Promise.all([startNatsServer(), startClickHouse()]);
    nc = await connect({ servers: nats.url });
    await createHubStream(nc);
    const config = testConfig(
      `[nats]\nurl = ${nats.url}\n[clickhouse]\nurl = ${ch.url}\ndatabase = hold\n[ingest]\nops_port = 0\nbatch_max = 1000\nbatch_ms = 100\nack_wait = ${ACK_WAIT_S}\n`,
    );
    copies = [await startIngest(config, quietLog()), await startIngest(config, quietLog())];
    reader = new ClickHouseStore({ url: ch.url, database: 'hold' });
  }, 120_000);
  afterAll(async () => {
    if (ch?.pid) process.kill(ch.pid, 'SIGCONT');
    for (const c of copies) await c.stop();
    await reader?.close();
    await nc?.drain();
    await Promise.all([nats?.dispose(), ch?.dispose()]);
  });

  const count = async () => (await reader.query<{ n: number }>('SELECT count() AS n FROM receptions'))[0]!.n;
  const released = async () => {
    let sum = 0;
    for (const c of copies) {
      const text = await (await fetch(`http://127.0.0.1:${c.opsPort}/metrics`)).text();
      sum += Number(/^ingest_released_messages_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    }
    return sum;
  };

  it('releases batches held past the deadline and stores every reception once', { timeout: 240_000 }, async () => {
    const events = bulkReceptions(RECEPTIONS, defaultBase(), 11);
    const publishing = publishAll(nats.url, events);
    await waitFor('some receptions stored', async () => (await count()) > 0, 60_000, 50);
    const pid = ch.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      // Both copies keep pulling and hold batches against a store that answers nothing.
      await new Promise((r) => setTimeout(r, ACK_WAIT_S * 1000 + 3_000));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await publishing;
    await waitFor('every reception stored', async () => (await count().catch(() => 0)) >= RECEPTIONS, 120_000, 250);
    expect(await released(), 'messages released at the hold deadline').toBeGreaterThan(0);
    const [stats] = await reader.query<{ n: number; ids: number; rollup: number }>(
      `SELECT (SELECT count() FROM receptions) AS n, (SELECT uniqExact(msg_id) FROM receptions) AS ids,
              (SELECT sum(receptions) FROM packets_hourly) AS rollup`,
    );
    expect(stats).toEqual({ n: RECEPTIONS, ids: RECEPTIONS, rollup: RECEPTIONS });
  });
});
