// Helpers for integration tests against a real nats-server (excluded from the build by the test-* name).
import { ensureStream, parseConfig } from '@mmm/common';
import { DUPLICATE_WINDOW_MS, type MeshEvent, msgIds, streams, subjects, TOPOLOGY_BUCKET } from '@mmm/schemas';
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

export function subjectOf(ev: MeshEvent): string {
  switch (ev.kind) {
    case 'reception':
      return subjects.rx(ev.site, ev.agent, ev.port);
    case 'trace':
      return subjects.trace(ev.site, ev.agent);
    case 'nodedb':
      return subjects.nodedb(ev.site, ev.agent);
    case 'status':
      return subjects.status(ev.site, ev.agent);
    default:
      throw new Error(`not a site event: ${ev.kind}`);
  }
}

export function msgIdOf(ev: MeshEvent): string {
  switch (ev.kind) {
    case 'reception':
      return msgIds.reception(ev.site, ev.agent, ev.packet.from, ev.packet.id, ev.packet.rxTime, ev.receivedAt);
    case 'trace':
      return msgIds.trace(ev.site, ev.agent, ev.requestId);
    case 'nodedb':
      return msgIds.nodedb(ev.site, ev.agent, ev.takenAt);
    case 'status':
      return msgIds.status(ev.site, ev.agent, ev.at);
    default:
      throw new Error(`not a site event: ${ev.kind}`);
  }
}

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
