import { sleepUnlessAborted } from '@mmm/common';
import { type AlertEvent, alertMsgIds, alertSubjects } from '@mmm/schemas';
import type { JetStreamClient, KV, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { type WebhookFormat, webhookRequest } from '../domain/bodies.js';
import type { Notice, NoticeType } from '../domain/evaluator.js';
import type { Rule } from '../domain/rule.js';
import { type MeshTarget, sendMeshText } from './mesh.js';
import { windowed } from './store.js';

/** The alert subject is one more target, so a transition is published exactly as reliably as a webhook is called. */
export const SUBJECT_TARGET = 'subject';
const FIRST_BACKOFF_MS = 1000;

export interface OutboxItem {
  key: string;
  target: string;
  type: NoticeType;
  alert: AlertEvent;
  createdAt: number;
}

export interface Webhook {
  name: string;
  url: string;
  format: WebhookFormat;
  rules: readonly string[];
  authorization?: string | undefined;
  timeoutMs: number;
  maxAgeMs: number;
  backoffMaxMs: number;
}

export interface DeliveryStats {
  delivered(target: string): void;
  failed(target: string, gaveUp: boolean): void;
  queued(target: string, n: number): void;
  /** A notification not sent on purpose (a mesh target's min_interval). */
  dropped(target: string, reason: 'rate_limited'): void;
}

/** Which webhooks a rule's notification goes to: the rule's own list, else every webhook that takes the rule. */
export function targetsOf(rule: Rule | undefined, ruleName: string, webhooks: readonly Webhook[]): Webhook[] {
  if (rule && rule.notify.length > 0) return webhooks.filter((w) => rule.notify.includes(w.name));
  return webhooks.filter((w) => w.rules.length === 0 || w.rules.includes(ruleName));
}

/** The outbox items of an evaluation's notices. Keys are made of the alert id, so a repeated notice overwrites. */
export function outboxItems(
  notices: readonly Notice[],
  rules: (name: string) => Rule | undefined,
  webhooks: readonly Webhook[],
  now: number,
  meshes: readonly MeshTarget[] = [],
): OutboxItem[] {
  const items: OutboxItem[] = [];
  for (const n of notices) {
    const { alert } = n;
    if (n.publish) {
      items.push({
        key: `out.${alert.id}.${alert.state}.${SUBJECT_TARGET}`,
        target: SUBJECT_TARGET,
        type: alert.state,
        alert,
        createdAt: now,
      });
    }
    if (!n.notify) continue;
    for (const w of targetsOf(rules(n.rule), n.rule, webhooks)) {
      items.push({ key: `out.${alert.id}.${n.n}.w-${w.name}`, target: w.name, type: n.notify, alert, createdAt: now });
    }
    // Mesh targets take only the rules they name, whatever the rule's `notify` says: they are opt-in per rule.
    for (const m of meshes.filter((x) => x.rules.includes(n.rule))) {
      const name = m.target.replace(/^mesh:/, '');
      items.push({ key: `out.${alert.id}.${n.n}.m-${name}`, target: m.target, type: n.notify, alert, createdAt: now });
    }
  }
  return items;
}

/**
 * Delivers outbox items, in order per target: an item is deleted from the bucket once its target took it (2xx, or
 * the stream's ack), retried with doubling waits otherwise, and given up after the webhook's max_age. A crash between
 * delivery and deletion repeats that one delivery (at-least-once); webhook requests carry the outbox key as
 * `Idempotency-Key` so a receiver can drop the repeat, the subject dedupes it by Msg-Id, and a mesh target's agent
 * by the command's `key`.
 */
export class Dispatcher {
  private queues = new Map<string, OutboxItem[]>();
  private wakers = new Map<string, () => void>();
  private loops: Promise<void>[] = [];
  private readonly abort = new AbortController();
  private readonly hooks: Map<string, Webhook>;
  private readonly meshes: Map<string, MeshTarget>;

  constructor(
    private readonly o: {
      js: JetStreamClient;
      nc: NatsConnection;
      state: KV;
      webhooks: readonly Webhook[];
      meshes: readonly MeshTarget[];
      stats: DeliveryStats;
      log: Logger;
      clock: () => number;
    },
  ) {
    this.hooks = new Map(o.webhooks.map((w) => [w.name, w]));
    this.meshes = new Map(o.meshes.map((m) => [m.target, m]));
  }

  /** Items left by the previous run, oldest first (firing before resolved of the same alert). */
  static async load(state: KV): Promise<OutboxItem[]> {
    const keys: string[] = [];
    for await (const k of await state.keys('out.>')) keys.push(k);
    const items: OutboxItem[] = [];
    await windowed(keys, async (k) => {
      const e = await state.get(k);
      if (e?.operation === 'PUT') items.push(e.json<OutboxItem>());
    });
    const order = (i: OutboxItem) => (i.type === 'resolved' ? 1 : 0);
    return items.sort((a, b) => a.createdAt - b.createdAt || order(a) - order(b) || a.key.localeCompare(b.key));
  }

  async persist(items: readonly OutboxItem[]): Promise<void> {
    await windowed(items, (i) => this.o.state.put(i.key, JSON.stringify(i)));
  }

  enqueue(items: readonly OutboxItem[]): void {
    for (const i of items) {
      if (i.target !== SUBJECT_TARGET && !this.hooks.has(i.target) && !this.meshes.has(i.target)) {
        // The target was removed from the config since: nobody to tell.
        void this.o.state.delete(i.key).catch(() => undefined);
        continue;
      }
      let q = this.queues.get(i.target);
      if (!q) {
        q = [];
        this.queues.set(i.target, q);
        this.loops.push(this.run(i.target, q));
      }
      q.push(i);
      this.o.stats.queued(i.target, q.length);
      this.wakers.get(i.target)?.();
    }
  }

  pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const wake of this.wakers.values()) wake();
    await Promise.all(this.loops);
  }

  private async run(target: string, q: OutboxItem[]): Promise<void> {
    const signal = this.abort.signal;
    let wait = FIRST_BACKOFF_MS;
    while (!signal.aborted) {
      const item = q[0];
      if (!item) {
        await new Promise<void>((res) => this.wakers.set(target, res));
        continue;
      }
      const hook = this.hooks.get(target);
      const mesh = this.meshes.get(target);
      const policy = hook ?? mesh;
      this.o.log.debug({ target, key: item.key }, 'delivering');
      const problem = await (mesh ? sendMeshText(this.o.nc, mesh, item) : this.deliver(item, hook)).catch(
        (err: unknown) => (err as Error).message,
      );
      if (signal.aborted && problem !== undefined) break;
      if (problem === undefined) {
        q.shift();
        wait = FIRST_BACKOFF_MS;
        this.o.stats.delivered(target);
        await this.o.state.delete(item.key).catch((err: unknown) => {
          this.o.log.warn({ err: (err as Error).message, key: item.key }, 'could not clear a delivered notification');
        });
      } else {
        const gaveUp = policy !== undefined && this.o.clock() - item.createdAt > policy.maxAgeMs;
        this.o.stats.failed(target, gaveUp);
        this.o.log.warn(
          { target, alert: item.alert.id, problem, retryInMs: gaveUp ? 0 : wait },
          gaveUp ? 'notification given up' : 'notification failed, retrying',
        );
        if (gaveUp) {
          q.shift();
          await this.o.state.delete(item.key).catch(() => undefined);
          continue;
        }
        await sleepUnlessAborted(wait, signal);
        wait = Math.min(wait * 2, policy?.backoffMaxMs ?? wait * 2);
      }
      this.o.stats.queued(target, q.length);
    }
  }

  /** undefined when delivered, else what went wrong. */
  private async deliver(item: OutboxItem, hook: Webhook | undefined): Promise<string | undefined> {
    const a = item.alert;
    if (item.target === SUBJECT_TARGET) {
      await this.o.js.publish(alertSubjects.transition(a.rule, a.state), JSON.stringify(a), {
        msgID: alertMsgIds.transition(a.id, a.state),
      });
      return undefined;
    }
    if (!hook) return undefined;
    const req = webhookRequest(hook.format, item.type, a);
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: {
        ...req.headers,
        'user-agent': 'mmm-alerts',
        'idempotency-key': item.key,
        ...(hook.authorization ? { authorization: hook.authorization } : {}),
      },
      body: req.body,
      signal: AbortSignal.timeout(hook.timeoutMs),
    });
    await res.body?.cancel().catch(() => undefined);
    return res.ok ? undefined : `HTTP ${res.status}`;
  }
}
