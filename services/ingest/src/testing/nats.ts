import { createLogger, ensureStream, JetStreamPublisher, parseConfig } from '@mmm/common';
import { DUPLICATE_WINDOW_MS, msgIdOf, streams, subjects } from '@mmm/schemas';
import { connect, type NatsConnection, StorageType } from 'nats';
import { type IngestConfig, ingestConfigSpec } from '../config.js';
import type { SimEvent } from './sim-hour.js';

export function testConfig(ini: string): IngestConfig {
  return parseConfig(ingestConfigSpec, ini, 'test.ini', { env: {} });
}

export const quietLog = () => createLogger({ name: 'ingest-test', level: process.env.MMM_TEST_LOG ?? 'silent' });

/** The hub stream as a single-machine setup has it: capturing every site subject itself. */
export const TEST_SITES = ['s1', 's2', 's9'];

export async function createHubStream(nc: NatsConnection, sites = TEST_SITES): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, {
    name: streams.hub,
    subjects: sites.map((s) => subjects.siteAll(s)),
    storage: StorageType.File,
    duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000,
  });
  await ensureStream(jsm, {
    name: streams.deadLetters,
    subjects: [...streams.deadLetterSubjects],
    storage: StorageType.File,
  });
}

/** Publishes with Msg-Ids through a bounded window, as agents do. */
export async function publishAll(url: string, events: readonly SimEvent[], window = 512): Promise<void> {
  const nc = await connect({ servers: url });
  const pub = new JetStreamPublisher(nc.jetstream(), { window });
  const enc = new TextEncoder();
  const pending: Promise<unknown>[] = [];
  for (const e of events) pending.push(pub.publish(e.subject, enc.encode(JSON.stringify(e.event)), msgIdOf(e.event)));
  await Promise.all(pending);
  await nc.drain();
}
