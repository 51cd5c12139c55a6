import { randomUUID } from 'node:crypto';
import {
  ALERT_BUCKETS,
  type AlertEvent,
  type AlertRule,
  type AlertSilence,
  alertKeys,
  alertSubjects,
} from '@mmm/schemas';
import type { KV, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';

/** The key of mesh_alerts where the alerts service lists its effective rules (file rules with run-time edits). */
const RULES_KEY = 'rules';
const KV_WINDOW = 128;

export type ListedRule = AlertRule & { source?: 'file' | 'api' };

export class AlertsUnavailableError extends Error {
  override readonly name = 'AlertsUnavailableError';
}

export interface AlertFilter {
  state?: 'firing' | 'resolved';
  rule?: string;
  node_id?: string;
}

/**
 * The API's side of alerts, through the contract only (it never imports the alerts service): reads the public
 * bucket mesh_alerts, writes operators' changes to mesh_alerts_control, which the alerts service follows, and
 * forwards mesh.v1.alerts.* to the live feed.
 */
export class AlertsAccess {
  private buckets = new Map<string, KV>();
  private sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  /** The bucket, or undefined while the alerts service (or `mmm streams provision`) has not made it yet. */
  private async bucket(name: string): Promise<KV | undefined> {
    const have = this.buckets.get(name);
    if (have) return have;
    // bindOnly does not look: status() does, so a missing bucket is an empty list here, not a failed request.
    const kv = await this.nc
      .jetstream()
      .views.kv(name, { bindOnly: true })
      .then(async (b) => ((await b.status()) ? b : undefined))
      .catch(() => undefined);
    if (kv) this.buckets.set(name, kv);
    return kv;
  }

  async list(f: AlertFilter = {}): Promise<AlertEvent[]> {
    const kv = await this.bucket(ALERT_BUCKETS.alerts);
    if (!kv) return [];
    const keys: string[] = [];
    for await (const k of await kv.keys('alert.>')) keys.push(k);
    const out: AlertEvent[] = [];
    for (let i = 0; i < keys.length; i += KV_WINDOW) {
      const entries = await Promise.all(keys.slice(i, i + KV_WINDOW).map((k) => kv.get(k)));
      for (const e of entries) {
        if (e?.operation !== 'PUT') continue;
        const a = e.json<AlertEvent>();
        if (f.state && a.state !== f.state) continue;
        if (f.rule && a.rule !== f.rule) continue;
        if (f.node_id && a.node_id !== f.node_id) continue;
        out.push(a);
      }
    }
    // Firing first, then the most recent.
    return out.sort((a, b) => (a.state === b.state ? b.at - a.at : a.state === 'firing' ? -1 : 1));
  }

  async get(id: string): Promise<AlertEvent | undefined> {
    const kv = await this.bucket(ALERT_BUCKETS.alerts);
    const e = await kv?.get(alertKeys.alert(id)).catch(() => null);
    return e?.operation === 'PUT' ? e.json<AlertEvent>() : undefined;
  }

  async rules(): Promise<ListedRule[]> {
    const kv = await this.bucket(ALERT_BUCKETS.alerts);
    const e = await kv?.get(RULES_KEY);
    return e?.operation === 'PUT' ? e.json<ListedRule[]>() : [];
  }

  private async control(): Promise<KV> {
    const kv = await this.bucket(ALERT_BUCKETS.control);
    if (!kv) {
      throw new AlertsUnavailableError(
        `the KV bucket ${ALERT_BUCKETS.control} does not exist: start mmm alerts, or provision it with mmm streams provision`,
      );
    }
    return kv;
  }

  async putRule(rule: AlertRule): Promise<void> {
    await (await this.control()).put(alertKeys.rule(rule.name), JSON.stringify(rule));
  }

  /** A tombstone, so a rule of the service's INI file is removed too (not only run-time ones). */
  async deleteRule(name: string): Promise<void> {
    await (await this.control()).put(alertKeys.rule(name), JSON.stringify({ name, deleted: true }));
  }

  async ack(id: string, by: string | undefined, at: number): Promise<void> {
    await (await this.control()).put(alertKeys.ack(id), JSON.stringify({ id, at, ...(by ? { by } : {}) }));
  }

  async silence(s: Omit<AlertSilence, 'id' | 'created_at'>, at: number): Promise<AlertSilence> {
    const silence: AlertSilence = { ...s, id: randomUUID().replace(/-/g, '').slice(0, 16), created_at: at };
    await (await this.control()).put(alertKeys.silence(silence.id), JSON.stringify(silence));
    return silence;
  }

  /** Calls `onAlert` for every transition published from now on (the live feed's "alert" messages). */
  follow(onAlert: (a: AlertEvent) => void): void {
    const sub = this.nc.subscribe(alertSubjects.all);
    this.sub = sub;
    void (async () => {
      for await (const m of sub) {
        try {
          onAlert(m.json<AlertEvent>());
        } catch (err) {
          this.log.warn({ err: (err as Error).message, subject: m.subject }, 'ignored an alert event');
        }
      }
    })();
  }

  close(): void {
    this.sub?.unsubscribe();
  }
}
