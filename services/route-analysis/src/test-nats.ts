// Helpers for integration tests against a real nats-server (excluded from the build by the test-* name).
import { ensureStream, parseConfig } from '@mmm/common';
import {
  DUPLICATE_WINDOW_MS,
  type MeshEvent,
  msgIdOf,
  streams,
  subjectOf,
  subjects,
  TOPOLOGY_BUCKET,
} from '@mmm/schemas';
import { type JetStreamClient, type JetStreamManager, type NatsConnection, StorageType } from 'nats';
import { type RouteAnalysisConfig, routeAnalysisConfig } from './config.js';

/** The hub stream as a single-machine install has it: capturing the sites' subjects itself. */
export function createHubStream(jsm: JetStreamManager, sites: readonly string[] = ['s1', 's2']) {
  return ensureStream(jsm, {
    name: streams.hub,
    subjects: sites.map((s) => subjects.siteAll(s)),
    storage: StorageType.File,
    duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000,
  });
}

export { msgIdOf, subjectOf };

/** Publishes events in order (windows of 200 in flight), each with its contract Msg-Id (or a suffixed one). */
export async function publishEvents(js: JetStreamClient, events: readonly MeshEvent[], idSuffix = ''): Promise<void> {
  for (let i = 0; i < events.length; i += 200) {
    await Promise.all(
      events
        .slice(i, i + 200)
        .map((ev) => js.publish(subjectOf(ev), JSON.stringify(ev), { msgID: msgIdOf(ev) + idSuffix })),
    );
  }
}

export function testConfig(url: string, extra = ''): RouteAnalysisConfig {
  return parseConfig(
    routeAnalysisConfig,
    `[nats]\nurl = ${url}\n[route_analysis]\nflush_interval = 200\nlinks_interval = 0\nbatch = 500\n${extra}\n[ops]\nenabled = false\n`,
    undefined,
    { env: {} },
  );
}

export async function kvJson<T>(nc: NatsConnection, key: string, bucket = TOPOLOGY_BUCKET): Promise<T | undefined> {
  const kv = await nc.jetstream().views.kv(bucket, { bindOnly: true });
  const e = await kv.get(key);
  return e && e.operation === 'PUT' ? e.json<T>() : undefined;
}

export async function hubLastSeq(jsm: JetStreamManager): Promise<number> {
  return (await jsm.streams.info(streams.hub)).state.last_seq;
}
