import { bindOrEnsureConsumer, isPermissionError, type Logger, NotProvisionedError } from '@mmm/common';
import {
  consumers,
  type NodeDbSnapshot,
  parseSubject,
  type Reception,
  SUBJECT_ROOT,
  streams,
  type TraceOutcome,
} from '@mmm/schemas';
import { legacyDataBody, legacyNodeDbBody, legacyRegisterBody, legacyRoutesBody } from '@mmm/schemas/legacy';
import { AckPolicy, type Consumer, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';
import type { AgentSettings, LegacyDestination } from '../config/settings.js';
import { backoffDelay } from '../radio/backoff.js';
import { nodeAllowed, routeAllowed, wantsPacket } from './format.js';
import { postJson } from './http.js';

/** A destination that failed this often in a row is probed at most this rarely. */
export const MAX_PROBE_MS = 5 * 60_000;
/** Ack wait of the relay's consumer; extended with `working()` while a batch is retried. */
const ACK_WAIT_MS = 10 * 60_000;

interface Part {
  path: string;
  body: unknown;
  done: boolean;
}

export interface LegacyRelayOptions {
  dest: LegacyDestination;
  settings: AgentSettings;
  jsm: JetStreamManager;
  js: JetStreamClient;
  log: Logger;
}

/**
 * Feeds one of the original's HTTP servers from the site stream: a durable consumer per destination (its own ack
 * position), batches POSTed in the original's shapes, stream messages acked only after every part of the batch
 * got a 2xx. While the server is down the batch is retried (unhealthy: probed with growing backoff) and nothing
 * is acked, so the stream holds everything until it recovers.
 */
export class LegacyRelay {
  registered = false;
  consecutiveFailures = 0;
  posted = 0;
  acked = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly durable: string;

  constructor(private readonly o: LegacyRelayOptions) {
    this.durable = consumers.legacy(o.settings.agent, o.dest.name);
  }

  get healthy(): boolean {
    return this.consecutiveFailures < this.o.dest.maxRetries;
  }

  async start(): Promise<void> {
    const { site, agent } = this.o.settings;
    try {
      // The name and filter are what `mmm creds --legacy` permits this agent to create, pull and ack.
      await bindOrEnsureConsumer(
        this.o.jsm,
        streams.site(site),
        {
          durable_name: this.durable,
          filter_subject: `${SUBJECT_ROOT}.${site}.${agent}.>`,
          ack_policy: AckPolicy.Explicit,
          // A new destination starts with what is published from now on; the original server keeps no dedup, so
          // replaying a long site history into it would be a flood, not a migration.
          deliver_policy: DeliverPolicy.New,
          ack_wait: ACK_WAIT_MS * 1_000_000,
          max_ack_pending: Math.max(1000, this.o.dest.batchSize * 2),
        },
        this.o.log,
      );
    } catch (err) {
      if (!isPermissionError(err)) throw err;
      throw new NotProvisionedError(
        `this agent's NATS user may not run the relay consumer ${this.durable}: add the destination to its credential with \`mmm creds --legacy ${site}.${agent}:${this.o.dest.name}\``,
        { cause: err },
      );
    }
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }

  private failed(err: unknown): void {
    this.consecutiveFailures++;
    const level = this.consecutiveFailures === this.o.dest.maxRetries ? 'error' : 'warn';
    this.o.log[level](
      { err: (err as Error).message, failures: this.consecutiveFailures, healthy: this.healthy },
      'legacy destination failed',
    );
  }

  private succeeded(): void {
    if (!this.healthy) this.o.log.info('legacy destination recovered');
    this.consecutiveFailures = 0;
  }

  /** Wait before the next attempt: the report interval while healthy, growing backoff while unhealthy. */
  private retryDelay(): number {
    const d = this.o.dest;
    if (this.healthy) return d.reportIntervalMs;
    return Math.max(
      d.reportIntervalMs,
      backoffDelay(this.consecutiveFailures - d.maxRetries, d.reportIntervalMs, MAX_PROBE_MS),
    );
  }

  private async post(path: string, body: unknown): Promise<void> {
    await postJson(`${this.o.dest.url}${path}`, this.o.dest.apiKey, body, this.o.dest.timeoutMs);
    this.posted++;
  }

  private async run(): Promise<void> {
    const { settings } = this.o;
    while (!this.stopped && !this.registered) {
      try {
        await this.post('/api/agent/register', legacyRegisterBody(settings.agent, settings.location));
        this.registered = true;
        this.succeeded();
      } catch (err) {
        this.failed(err);
        await this.sleep(this.retryDelay());
      }
    }
    let consumer: Consumer | undefined;
    while (!this.stopped && !consumer) {
      try {
        consumer = await this.o.js.consumers.get(streams.site(settings.site), this.durable);
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message }, 'cannot open the relay consumer; retrying');
        await this.sleep(1000);
      }
    }
    if (!consumer) return;
    while (!this.stopped) {
      const msgs: JsMsg[] = [];
      try {
        const iter = await consumer.fetch({
          max_messages: this.o.dest.batchSize,
          expires: Math.min(2000, Math.max(1000, this.o.dest.reportIntervalMs)),
        });
        for await (const m of iter) msgs.push(m);
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message }, 'cannot fetch from the site stream');
        await this.sleep(1000);
        continue;
      }
      if (msgs.length === 0) continue;
      const parts = this.partsOf(msgs);
      while (!this.stopped && parts.some((p) => !p.done)) {
        try {
          for (const p of parts) {
            if (p.done) continue;
            await this.post(p.path, p.body);
            p.done = true;
          }
          this.succeeded();
        } catch (err) {
          this.failed(err);
          for (const m of msgs) m.working();
          await this.sleep(this.retryDelay());
        }
      }
      if (this.stopped && parts.some((p) => !p.done)) break; // unacked: redelivered after a restart
      for (const m of msgs) m.ack();
      this.acked += msgs.length;
      // Under a backlog, keep sending full batches; otherwise wait for the report interval.
      if (msgs.length < this.o.dest.batchSize) await this.sleep(this.o.dest.reportIntervalMs);
    }
  }

  private partsOf(msgs: JsMsg[]): Part[] {
    const { dest, settings } = this.o;
    const packets: Reception[] = [];
    let nodedb: NodeDbSnapshot | undefined;
    const routes: TraceOutcome[] = [];
    for (const m of msgs) {
      let kind: string;
      let event: unknown;
      try {
        kind = parseSubject(m.subject).kind;
        event = m.json();
      } catch (err) {
        this.o.log.warn(
          { err: (err as Error).message, subject: m.subject, seq: m.seq },
          'skipping an unreadable stream message',
        );
        continue;
      }
      if (kind === 'rx') {
        if (wantsPacket(dest, event as Reception)) packets.push(event as Reception);
      } else if (kind === 'nodedb') nodedb = event as NodeDbSnapshot;
      else if (kind === 'trace' && routeAllowed(dest, event as TraceOutcome)) routes.push(event as TraceOutcome);
    }
    const now = Date.now();
    const { agent, location } = settings;
    const parts: Part[] = [];
    if (packets.length)
      parts.push({ path: '/api/agent/data', body: legacyDataBody(agent, location, packets, now), done: false });
    if (nodedb) {
      const body = legacyNodeDbBody(agent, nodedb, (num) => nodeAllowed(dest, num));
      parts.push({ path: '/api/agent/nodedb', body, done: false });
    }
    if (routes.length)
      parts.push({ path: '/api/agent/routes', body: legacyRoutesBody(agent, routes, now), done: false });
    return parts;
  }
}
