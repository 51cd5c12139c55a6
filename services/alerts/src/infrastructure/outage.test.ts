import { createLogger } from '@mmm/common';
import { type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertsConfig } from '../config.js';
import { batteryRx } from '../test-events.js';
import { configText, createHubStream, publish, Receiver } from '../test-harness.js';
import { type RunningAlerts, startAlerts } from './service.js';

/**
 * How long the webhook receiver stays down. CI uses a short outage; the five minutes is
 * `MMM_ALERTS_OUTAGE_S=300 npx vitest run src/infrastructure/outage.test.ts` (docs/alerts.md).
 */
const OUTAGE_MS = Number(process.env.MMM_ALERTS_OUTAGE_S ?? 6) * 1000;
const N1 = 0x00000b01;
const N2 = 0x00000b02;

describe('webhook receiver down, then back', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let receiver: Receiver;
  let service: RunningAlerts | undefined;

  beforeAll(async () => {
    nats = await startNatsServer({ name: 'alerts-outage' });
    nc = await connect({ servers: nats.url });
    await createHubStream(await nc.jetstreamManager());
    receiver = await Receiver.start();
  });

  afterAll(async () => {
    await service?.stop();
    await nc?.close();
    await receiver?.down();
    await nats?.dispose();
  });

  it(
    'retries with backoff and delivers each notification once, in order, when the receiver is back',
    async () => {
      const cfg = parseAlertsConfig(
        configText({
          url: nats.url,
          hook: receiver.url,
          rules: '[rule_battery-low]\nkind = battery_low\nthreshold = 20\nduration = 0\n',
        }),
      );
      service = await startAlerts(cfg, {
        log: createLogger({ name: 'alerts-outage', level: process.env.ALERTS_TEST_LOG ?? 'error' }),
      });
      await waitFor('ready', () => service?.ready(), 30_000);
      await receiver.down();
      const js = nc.jetstream();
      await publish(js, batteryRx({ from: N1, at: Date.now() }, 10), batteryRx({ from: N2, at: Date.now() }, 10));
      await waitFor('both firing', () => service!.stats().firing === 2, 30_000);
      await publish(js, batteryRx({ from: N1, at: Date.now() }, 90));
      await waitFor('N1 resolved', () => service!.stats().firing === 1, 30_000);
      const failed = () =>
        service!.metrics.notifications
          .get()
          .then((m) => m.values.filter((v) => v.labels.result === 'failed').reduce((n, v) => n + v.value, 0));
      await waitFor('failed attempts', async () => (await failed()) >= 2, 30_000);
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      const attempts = await failed();
      // Backoff doubles up to backoff_max (1 s here): attempts keep coming, but not in a tight loop.
      expect(attempts).toBeLessThan(OUTAGE_MS / 1000 + 10);
      expect(receiver.got).toEqual([]);

      const backAt = Date.now();
      await receiver.up();
      await waitFor('all three delivered', () => receiver.got.length >= 3, 60_000);
      expect(receiver.got[2]!.at - backAt).toBeLessThan(30_000);
      await new Promise((r) => setTimeout(r, 2500));
      expect(receiver.lines()).toEqual([
        'battery-low:!00000b01:firing',
        'battery-low:!00000b02:firing',
        'battery-low:!00000b01:resolved',
      ]);
      expect(service!.stats().queued).toBe(0);
    },
    OUTAGE_MS + 180_000,
  );
});
