import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, parseConfig } from '@mmm/common';
import { ingestConfigSpec, type RunningIngest, startIngest } from '@mmm/ingest';
import type { Reception } from '@mmm/schemas';
import { type ClickHouseServer, type NatsServer, startClickHouse, startNatsServer, waitFor } from '@mmm/testkit';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, msgIdOf, nodedb, provisionStreams, rx, type Stack, startStack, subjectOf } from '../testing.js';
import { chString } from './clickhouse.js';

const BOB = 0x0000beef;
const CAROL = 0x00c0ffee;
const now = Date.now();

/** What agents publish: 2 positions, 1 telemetry packet heard by two agents, 1 text. */
function published(): Reception[] {
  const base = { to: 0xffffffff, snr: 5, rssi: -90, hopStart: 3, hopLimit: 2 };
  return [
    rx(
      'position',
      { latitudeI: 525310000, longitudeI: 134120000, altitude: 40 },
      {
        ...base,
        agent: 'gw-1',
        from: BOB,
        id: 11,
        at: now - 40_000,
      },
    ),
    rx(
      'position',
      { latitudeI: 525320000, longitudeI: 134130000, altitude: 41 },
      {
        ...base,
        agent: 'gw-1',
        from: BOB,
        id: 12,
        at: now - 30_000,
      },
    ),
    rx(
      'telemetry',
      { deviceMetrics: { batteryLevel: 0, voltage: 3.9 } },
      {
        ...base,
        agent: 'gw-1',
        from: BOB,
        id: 13,
        at: now - 20_000,
      },
    ),
    rx(
      'telemetry',
      { deviceMetrics: { batteryLevel: 0, voltage: 3.9 } },
      {
        ...base,
        agent: 'gw-2',
        from: BOB,
        id: 13,
        at: now - 19_000,
        snr: -2,
        rssi: -115,
        hopLimit: 0,
        relay: 0xee,
      },
    ),
    rx(
      'text',
      { text: "it's <b>bold</b>" },
      { ...base, agent: 'gw-2', from: CAROL, to: BOB, id: 14, at: now - 10_000 },
    ),
  ];
}

const iso = (ms: number) => new Date(ms).toISOString();

async function answers(s: Stack) {
  const q = async (p: string) => (await getJson(`${s.url}${p}`)).body;
  return {
    positions: await q('/api/nodes/!0000beef/positions'),
    telemetry: await q('/api/nodes/!0000beef/telemetry?variant=deviceMetrics'),
    battery: await q('/api/nodes/!0000beef/telemetry?variant=deviceMetrics&field=batteryLevel'),
    packets: await q('/api/packets'),
    text: await q('/api/packets?type=text&from_node=!00c0ffee&to_node=!0000beef'),
    agent: await q('/api/packets?agent_id=gw-2'),
    receptions: await q('/api/packets/!0000beef/13/receptions'),
  };
}

/** The API's answers checked against the published events, field by field. */
function expectAnswersMatch(got: Awaited<ReturnType<typeof answers>>, ev: Reception[]) {
  const t1 = ev[2]!;
  const text = ev[4]!;
  expect(got.positions.positions).toEqual([
    expect.objectContaining({ latitude: 52.531, longitude: 13.412, altitude: 40 }),
    expect.objectContaining({ latitude: 52.532, longitude: 13.413, altitude: 41 }),
  ]);
  // One telemetry packet heard twice is one point, from the agent that heard it first; zero stays zero.
  expect(got.telemetry.points).toEqual([
    expect.objectContaining({ agent_id: 'gw-1', values: { batteryLevel: 0, voltage: 3.9 } }),
  ]);
  expect(got.battery.points).toEqual([expect.objectContaining({ values: { batteryLevel: 0 } })]);
  expect(got.packets.packets).toHaveLength(ev.length);
  expect(
    got.packets.packets
      .map((p: { agent_id: string; packet_id: number; timestamp: string }) => [p.agent_id, p.packet_id, p.timestamp])
      .sort(),
  ).toEqual(ev.map((e) => [e.agent, e.packet.id, iso(e.receivedAt)]).sort());
  expect(got.text.packets).toEqual([
    expect.objectContaining({
      type: 'text_message',
      payload: "it's <b>bold</b>",
      from_node: '!00c0ffee',
      to_node: '!0000beef',
      agent_id: 'gw-2',
      timestamp: iso(text.receivedAt),
    }),
  ]);
  expect(got.agent.packets.map((p: { agent_id: string }) => p.agent_id)).toEqual(['gw-2', 'gw-2']);
  expect(got.receptions.receptions).toEqual([
    expect.objectContaining({ agent_id: 'gw-1', hops: 1, snr: t1.packet.rxSnr, rssi: t1.packet.rxRssi }),
    expect.objectContaining({ agent_id: 'gw-2', hops: 3, snr: -2, rssi: -115, relay_node: 0xee }),
  ]);
}

describe('history: events published to NATS -> ingest -> SQLite and ClickHouse -> the API', () => {
  let nats: NatsServer;
  let ch: ClickHouseServer;
  const ingests: RunningIngest[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'mmm-api-hist-'));
  const historyPath = join(dir, 'history.db');
  const events = published();
  const results: Record<string, Awaited<ReturnType<typeof answers>>> = {};

  const ingestConfig = (store: string, durable: string) =>
    parseConfig(
      ingestConfigSpec,
      `[nats]\nurl = ${nats.url}\n[ingest]\ndurable = ${durable}\nops_port = 0\nbatch_ms = 100\n${store}`,
      'test.ini',
      { env: {} },
    );

  beforeAll(async () => {
    nats = await startNatsServer({ name: 'api-hist' });
    ch = await startClickHouse();
    const nc = await connect({ servers: nats.url });
    await provisionStreams(nc);
    await nc.close();
    const log = createLogger({ name: 'ingest', level: process.env.MMM_TEST_LOG ?? 'silent' });
    ingests.push(await startIngest(ingestConfig(`[sqlite]\npath = ${historyPath}\n`, 'hist-sqlite'), log));
    ingests.push(
      await startIngest(ingestConfig(`[clickhouse]\nurl = ${ch.url}\ndatabase = mmm\n`, 'hist-clickhouse'), log),
    );
    // Published once, the way agents do (Msg-Id per reception); both ingests consume the same stream.
    const pub = await connect({ servers: nats.url });
    const js = pub.jetstream();
    for (const e of events) await js.publish(subjectOf(e), JSON.stringify(e), { msgID: msgIdOf(e) });
    await pub.drain();
  }, 120_000);
  afterAll(async () => {
    for (const i of ingests) await i.stop();
    await ch?.dispose();
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function ask(s: Stack) {
    // Node routes need the node in the projection (a NodeDB entry); the series come from the history store.
    await s.publish(nodedb('gw-1', [{ num: BOB, user: { shortName: 'BOB', longName: 'Bob' } }]));
    await waitFor('node known', async () => (await getJson(`${s.url}/api/nodes/!0000beef/positions`)).status === 200);
    await waitFor(
      'every reception stored',
      async () => (await getJson(`${s.url}/api/packets`)).body.packets?.length === events.length,
      30_000,
    );
    return answers(s);
  }

  it("answers from ingest's SQLite history what was published", async () => {
    const s = await startStack('', { nats, historyPath });
    try {
      results.sqlite = await ask(s);
      expectAnswersMatch(results.sqlite, events);
    } finally {
      await s.dispose();
    }
  });

  it("answers from ingest's ClickHouse history what was published, the same as from SQLite", async () => {
    const s = await startStack(`[clickhouse]\nurl = ${ch.url}\ndatabase = mmm\n`, { nats });
    try {
      const got = await ask(s);
      expectAnswersMatch(got, events);
      expect(got).toEqual(results.sqlite);
    } finally {
      await s.dispose();
    }
  });

  it('escapes strings for ClickHouse literals', () => {
    expect(chString("a'b\\c")).toBe("'a\\'b\\\\c'");
  });
});
