import { createLogger } from '@mmm/common';
import { type AlertEvent, alertSubjects, nodeIdFromNum, TOPOLOGY_BUCKET, topologyLinkKey } from '@mmm/schemas';
import { type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import { parseAlertsConfig } from '../config.js';
import { rx } from '../test-events.js';
import { configText, createHubStream, publish, Receiver } from '../test-harness.js';
import { startAlerts } from './service.js';

const WATCHED = 0x1a2b3c4d;
const OTHER = 0x0badcafe;

/** A link as route analysis writes it to its snapshot bucket. */
const link = (quality: number, at: number) => ({
  from: OTHER,
  to: WATCHED,
  snrLatest: 2,
  snrMedian: 2,
  samples: 3,
  firstSeen: at - 60_000,
  lastSeen: at,
  evidence: ['direct'],
  quality,
});

describe('link quality rule against a real nats-server', () => {
  it("follows route analysis's snapshot bucket, even when it appears after the start: fires on the subject and the webhook, resolves, and a deleted link counts as none", async () => {
    const nats: NatsServer = await startNatsServer({ name: 'alerts-links' });
    const nc = await connect({ servers: nats.url });
    const receiver = await Receiver.start();
    const onSubject: AlertEvent[] = [];
    const sub = nc.subscribe(alertSubjects.all);
    void (async () => {
      for await (const m of sub) onSubject.push(m.json<AlertEvent>());
    })();
    const js = nc.jetstream();
    await createHubStream(await nc.jetstreamManager());
    await publish(js, rx('routing', { from: WATCHED, at: Date.now() }, {}));
    const cfg = parseAlertsConfig(
      configText({
        url: nats.url,
        hook: receiver.url,
        rules: `[rule_weak]\nkind = link_quality\nthreshold = 40\nduration = 0\nnodes = ${nodeIdFromNum(WATCHED)}\n`,
      }),
    );
    const service = await startAlerts(cfg, { log: createLogger({ name: 'alerts-test', level: 'warn' }) });
    try {
      await waitFor('ready', () => service.ready(), 30_000);
      // Route analysis starts later: its bucket does not exist yet when the service starts.
      const kv = await js.views.kv(TOPOLOGY_BUCKET);
      const key = topologyLinkKey(OTHER, WATCHED);
      await kv.put(key, JSON.stringify(link(0.8, Date.now())));
      await kv.put(key, JSON.stringify(link(0.2, Date.now())));
      const states = () => onSubject.filter((a) => a.rule === 'weak').map((a) => a.state);
      // The service retries the bucket every 10 s.
      await waitFor('fired', () => states().includes('firing'), 40_000);
      const fired = onSubject.find((a) => a.rule === 'weak')!;
      expect(fired.node_id).toBe(nodeIdFromNum(WATCHED));
      expect(fired.summary).toContain(`best link quality 20 % (below 40 %), to ${nodeIdFromNum(OTHER)}`);
      const line = `weak:${nodeIdFromNum(WATCHED)}:firing`;
      await waitFor('on the webhook', () => receiver.count(line) === 1, 20_000);
      await kv.put(key, JSON.stringify(link(0.9, Date.now())));
      await waitFor('resolved', () => states().length === 2, 20_000);
      // The link aged out: no link at all is as weak as it gets.
      await kv.delete(key);
      await waitFor('fired again', () => states().length === 3, 20_000);
      expect(states()).toEqual(['firing', 'resolved', 'firing']);
    } finally {
      await service.stop();
      sub.unsubscribe();
      await nc.close();
      await receiver.down();
      await nats.dispose();
    }
  }, 90_000);
});
