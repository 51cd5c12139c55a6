import { consumers, msgIds, SCHEMA_VERSION, streams, subjects, type TraceOutcome } from '@mmm/schemas';
import { type NatsServer, startNatsServer } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSiteStream } from '../streams/provision.js';
import { quietLog } from '../testing/test-stack.js';
import { restoreRouteCache } from './restore.js';
import { TraceScheduler } from './scheduler.js';

const H = 3_600_000;
const SITE = 'site1';

function outcome(agent: string, to: number, finishedAt: number, result: TraceOutcome['outcome']): TraceOutcome {
  return {
    v: SCHEMA_VERSION,
    kind: 'trace',
    site: SITE,
    agent,
    requestId: (to ^ finishedAt) >>> 0,
    from: 1,
    to,
    startedAt: finishedAt - 2_000,
    finishedAt,
    outcome: result,
  };
}

describe('restoreRouteCache (real nats-server)', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer({ name: 'restore', domain: SITE });
    nc = await connect({ servers: server.url });
    await ensureSiteStream(await nc.jetstreamManager(), SITE);
    const js = nc.jetstream();
    const now = Date.now();
    const events: TraceOutcome[] = [
      outcome('agent1', 10, now - 2 * H, 'success'), // fresh route
      outcome('agent1', 11, now - 30 * H, 'success'), // read, but discovered past its 24 h TTL
      outcome('agent1', 12, now - H, 'timeout'), // an attempt, no route
      outcome('agent2', 13, now - H, 'success'), // another agent's route
    ];
    for (const e of events) {
      await js.publish(subjects.trace(SITE, e.agent), JSON.stringify(e), {
        msgID: msgIds.trace(SITE, e.agent, e.requestId),
      });
    }
    // Garbage on the subject is skipped, not fatal.
    await js.publish(subjects.trace(SITE, 'agent1'), 'not json', { msgID: 'garbage-1' });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  it("replays this agent's outcomes: successes become cached routes, attempts count, old and foreign ones do not", async () => {
    const scheduler = new TraceScheduler({
      intervalMs: H,
      maxPerCycle: 10,
      recentMs: 2 * H,
      cacheMs: 24 * H,
      priorityCacheMs: 12 * H,
      priorityNodes: [],
      priorityCheckMs: 300_000,
    });
    const jsm = await nc.jetstreamManager();
    // What is read is chosen by the stream's publish time (all "now" here); whether a route is still live by the
    // outcome's own finishedAt: 11 is read but is past its TTL.
    const r = await restoreRouteCache({
      jsm,
      js: nc.jetstream(),
      stream: streams.site(SITE),
      subject: subjects.trace(SITE, 'agent1'),
      consumer: consumers.restore('agent1'),
      sinceMs: Date.now() - 24 * H,
      scheduler,
      log: quietLog(),
    });
    expect(r).toEqual({ outcomes: 3, routes: 2 });
    expect(scheduler.cached(10)).toBe(true);
    expect(scheduler.cached(11)).toBe(false); // discovered 30 h ago: past its 24 h TTL
    expect(scheduler.cached(12)).toBe(false);
    expect(scheduler.routeAge(12)).toBeUndefined();
    expect(scheduler.cached(13)).toBe(false);
    // The ephemeral consumer is gone.
    const names: string[] = [];
    for await (const c of jsm.consumers.list(streams.site(SITE))) names.push(c.name);
    expect(names).toEqual([]);
  });
});
