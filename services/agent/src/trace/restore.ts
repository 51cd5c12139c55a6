import type { Logger } from '@mmm/common';
import { decodeEvent, type TraceOutcome } from '@mmm/schemas';
import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager } from 'nats';
import type { TraceScheduler } from './scheduler.js';

export interface RestoreOptions {
  jsm: JetStreamManager;
  js: JetStreamClient;
  /** The site stream on the leaf. */
  stream: string;
  /** This agent's trace subject: only its own outcomes seed its cache. */
  subject: string;
  /**
   * Name of the reader: fixed per agent, because its credential may create only this consumer, pinned to `subject`.
   */
  consumer: string;
  /** Outcomes finished before this (ms) cannot hold a live cache entry and are not read. */
  sinceMs: number;
  scheduler: TraceScheduler;
  log: Logger;
}

export interface RestoreResult {
  outcomes: number;
  routes: number;
}

const BATCH = 500;
/** A restore that takes longer than this gives up: the agent must start even on a huge or sick stream. */
const DEADLINE_MS = 30_000;

/**
 * The route cache survives restarts: the agent's own trace outcomes are in the site stream already, so at start it
 * reads back those of the last cache TTL and replays them into the scheduler (the original kept a SQLite table for
 * this). Without it a restarted agent would traceroute every node again, one per 30 s, at the firmware's limit.
 * Best effort: any failure is logged and the agent starts with an empty cache.
 */
export async function restoreRouteCache(o: RestoreOptions): Promise<RestoreResult> {
  const result: RestoreResult = { outcomes: 0, routes: 0 };
  // A plain pull consumer that ends itself when idle (ordered consumers deliver nothing on nats-server 2.9). One
  // left by a crashed start (until its inactive threshold) would refuse the new start time: remove it first.
  await o.jsm.consumers.delete(o.stream, o.consumer).catch(() => undefined);
  const ci = await o.jsm.consumers.add(o.stream, {
    name: o.consumer,
    filter_subject: o.subject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(o.sinceMs).toISOString(),
    ack_policy: AckPolicy.None,
    inactive_threshold: 30_000 * 1_000_000,
  });
  try {
    let left = ci.num_pending;
    const consumer = await o.js.consumers.get(o.stream, ci.name);
    const deadline = Date.now() + DEADLINE_MS;
    while (left > 0 && Date.now() < deadline) {
      const batch = await consumer.fetch({ max_messages: Math.min(BATCH, left), expires: 2_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        left = m.info.pending;
        // The same decoding ingest applies (subject, JSON, contract); anything else on the subject is skipped.
        const res = decodeEvent(m.subject, m.data);
        if (!res.ok || res.value.kind !== 'trace') continue;
        result.outcomes++;
        if (o.scheduler.restore(res.value as TraceOutcome)) result.routes++;
      }
      if (got === 0) break;
    }
    if (left > 0) o.log.warn({ left }, 'route cache restore stopped early; the rest is traced again');
  } finally {
    await o.jsm.consumers.delete(o.stream, ci.name).catch(() => undefined);
  }
  return result;
}
