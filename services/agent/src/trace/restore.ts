import { type Logger, readStreamRange } from '@mmm/common';
import { decodeEvent, type TraceOutcome } from '@mmm/schemas';
import type { JetStreamClient, JetStreamManager } from 'nats';
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
  const read = await readStreamRange(
    o.js,
    o.jsm,
    {
      stream: o.stream,
      name: o.consumer,
      filter: o.subject,
      from: { timeMs: o.sinceMs },
      batch: BATCH,
      deadlineMs: DEADLINE_MS,
    },
    (m) => {
      // The same decoding ingest applies (subject, JSON, contract); anything else on the subject is skipped.
      const res = decodeEvent(m.subject, m.data);
      if (!res.ok || res.value.kind !== 'trace') return;
      result.outcomes++;
      if (o.scheduler.restore(res.value as TraceOutcome)) result.routes++;
    },
  );
  if (read.left > 0) o.log.warn({ left: read.left }, 'route cache restore stopped early; the rest is traced again');
  return result;
}
