import { createRegistry } from '@mmm/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeliveryStats } from './outbox.js';

export interface AlertsMetrics {
  readonly registry: Registry;
  readonly events: Counter<'result'>;
  readonly firing: Gauge<'rule'>;
  readonly notifications: Counter<'target' | 'result'>;
  readonly queued: Gauge<'target'>;
  readonly lag: Gauge;
  readonly evaluationSeconds: Histogram<'scope'>;
  readonly delivery: DeliveryStats;
}

export function createMetrics(): AlertsMetrics {
  const registry = createRegistry('alerts');
  const notifications = new Counter({
    name: 'mmm_alerts_notifications_total',
    help: 'Notifications by target (a webhook name, "mesh:<name>", or "subject" for mesh.v1.alerts.*) and result: sent, failed (will retry), given_up, rate_limited (a mesh target within its min_interval)',
    labelNames: ['target', 'result'],
    registers: [registry],
  });
  const queued = new Gauge({
    name: 'mmm_alerts_notifications_queued',
    help: 'Notifications waiting for their target, by target',
    labelNames: ['target'],
    registers: [registry],
  });
  return {
    registry,
    events: new Counter({
      name: 'mmm_alerts_events_total',
      help: 'Hub stream events read, by result: applied, invalid',
      labelNames: ['result'],
      registers: [registry],
    }),
    firing: new Gauge({
      name: 'mmm_alerts_firing',
      help: 'Alerts firing now, by rule',
      labelNames: ['rule'],
      registers: [registry],
    }),
    notifications,
    queued,
    lag: new Gauge({
      name: 'mmm_alerts_evaluation_lag_seconds',
      help: 'Time from the last evaluated event (its receivedAt / at) to its evaluation',
      registers: [registry],
    }),
    evaluationSeconds: new Histogram({
      name: 'mmm_alerts_evaluation_seconds',
      help: 'Time of one evaluation: "touched" after a batch, "full" at each sweep',
      labelNames: ['scope'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    delivery: {
      delivered: (target) => notifications.inc({ target, result: 'sent' }),
      failed: (target, gaveUp) => notifications.inc({ target, result: gaveUp ? 'given_up' : 'failed' }),
      queued: (target, n) => queued.set({ target }, n),
      dropped: (target, reason) => notifications.inc({ target, result: reason }),
    },
  };
}
