import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOpsServer } from '@mmm/common';
import { create, Mqtt, toBinary } from '@mmm/meshtastic';
import { type DeadLetter, type Reception, subjects } from '@mmm/schemas';
import { type MosquittoServer, startMosquitto, waitFor } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServiceEnvelope } from '../decode/envelope.js';
import { ChannelKeyring } from '../decode/keyring.js';
import { decodeLine } from '../decode/line.js';
import { ctx as decodeCtx } from '../decode/test-support.js';
import { quietLog, readStream, type Stack, startStack } from '../testing/test-stack.js';
import { type RunningBridge, startMqttBridge } from './bridge.js';
import { convertMqttMessage } from './convert.js';
import { parseMqttSettings } from './settings.js';
import { feedEnvelopes, jsonNodeinfo, portEnvelopes } from './testing.js';

const SITE = 'mqtt-e2e';

function bridgeIni(o: { leafUrl: string; brokerUrl: string; extra?: string; brokerExtra?: string }): string {
  return `[nats]
url = ${o.leafUrl}
site = ${SITE}
${o.extra ?? ''}
[broker_local]
url = ${o.brokerUrl}
topics = "msh/#"
reconnect_min = 0.1
reconnect_max = 1
${o.brokerExtra ?? ''}
`;
}

/** Receptions of the site on the hub, by Msg-Id. */
async function hubReceptions(stack: Stack) {
  const events = await readStream(stack.hubNc, 'MESH', subjects.rxFilter({ site: SITE }));
  return events;
}

/** Publishes each message with its own mosquitto_pub (a client nobody here wrote), a few at a time. */
async function publishAll(broker: MosquittoServer, dir: string, msgs: { topic: string; bytes: Uint8Array }[]) {
  let next = 0;
  const worker = async () => {
    while (next < msgs.length) {
      const i = next++;
      const file = join(dir, `m${i}.bin`);
      writeFileSync(file, msgs[i]!.bytes);
      await broker.pub(msgs[i]!.topic, { file });
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
}

const comparable = (r: Reception) => {
  const { agent: _a, receivedAt: _t, mqtt: _m, ...rest } = r;
  return rest;
};

describe('mmm mqtt: Mosquitto → bridge → leaf → hub', () => {
  let stack: Stack;
  let broker: MosquittoServer;
  let bridge: RunningBridge;
  let dir: string;
  const deadLetters: DeadLetter[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmm-mqtt-e2e-'));
    stack = await startStack(SITE);
    broker = await startMosquitto();
    bridge = await startMqttBridge(parseMqttSettings(bridgeIni({ leafUrl: stack.leafUrl, brokerUrl: broker.url })), {
      log: quietLog(),
    });
    const sub = stack.hubNc.subscribe(subjects.deadLetter('mqtt'));
    void (async () => {
      for await (const m of sub) deadLetters.push(m.json() as DeadLetter);
    })();
    await waitFor(
      'the bridge to subscribe',
      () => bridge.ready() && bridge.sources[0]!.counters.subscribes > 0,
      20_000,
    );
  }, 90_000);
  afterAll(async () => {
    await bridge?.stop();
    await broker?.dispose();
    await stack?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers the real feed as receptions equal to mmm decode, dead-letters the malformed ones, counts per gateway', async () => {
    // Every malformed envelope and every third good one: one mosquitto_pub process each is slow on a loaded box, and
    // convert.test.ts already holds all 337 against mmm decode.
    const feed = feedEnvelopes().filter(
      (e, i) => i % 3 === 0 || decodeLine(e.b64, 'envelope', decodeCtx({ source: 'mqtt' })).kind === 'error',
    );
    const malformed = feed.filter((e) => decodeLine(e.b64, 'envelope', decodeCtx({ source: 'mqtt' })).kind === 'error');
    expect(malformed.length).toBe(14);
    await publishAll(broker, dir, feed);
    // Expected: one event per distinct Msg-Id among what converts (the capture repeats some packets).
    const expected = new Map<string, Reception>();
    for (const e of feed) {
      const c = convertMqttMessage(e.topic, e.bytes, {
        site: SITE,
        broker: 'local',
        keys: new ChannelKeyring(),
        maxPayload: 16_384,
        channels: new Set(),
        receivedAt: 0,
      });
      if (c.kind === 'reception' && !expected.has(c.msgId)) expected.set(c.msgId, c.event);
    }
    const events = await waitFor(
      'every reception on the hub',
      async () => {
        const ev = await hubReceptions(stack);
        return ev.length >= expected.size ? ev : undefined;
      },
      90_000,
      500,
    );
    expect(events.length).toBe(expected.size);
    expect(new Set(events.map((e) => e.msgId))).toEqual(new Set(expected.keys()));
    for (const e of events) {
      const r = e.data as unknown as Reception;
      // raw is the packet: find the envelope that carried it and compare with mmm decode's output for those bytes.
      const env = feed.find((f) => {
        const p = readServiceEnvelope(f.bytes);
        return p.ok && Buffer.from(p.value.raw).toString('base64') === r.raw && p.value.gatewayId === r.gatewayId;
      });
      expect(env, e.msgId).toBeDefined();
      const out = decodeLine(env!.b64, 'envelope', decodeCtx({ source: 'mqtt', site: SITE }));
      expect(out.kind).toBe('event');
      if (out.kind === 'event') expect(comparable(r)).toEqual(comparable(out.event));
      expect(r.mqtt).toMatchObject({ broker: 'local', format: 'protobuf', region: 'EU_868', channel: 'LongFast' });
    }
    expect(bridge.stats.outcomes).toMatchObject({ decoded: feed.length - 14, deadletter: 14, no_key: 0 });
    const gateways = new Set(
      feed.map((f) => readServiceEnvelope(f.bytes)).flatMap((p) => (p.ok ? [p.value.gatewayId] : [])),
    );
    expect(bridge.stats.byGateway.size).toBeGreaterThanOrEqual(gateways.size);
    await waitFor('14 dead letters on the hub', () => deadLetters.length >= 14, 20_000);
    expect(deadLetters.every((d) => d.reason.startsWith('not_envelope') && d.payloadEncoding === 'base64')).toBe(true);
    const metrics = await bridge.registry.metrics();
    expect(metrics).toMatch(
      /mmm_mqtt_messages_total\{broker="local",gateway="![0-9a-f]{8}",outcome="decoded"[^}]*\} \d+/,
    );
    expect(metrics).toMatch(/mmm_mqtt_dead_letters_total\{broker="local",reason="not_envelope"[^}]*\} 14/);
  }, 180_000);

  it('delivers the firmware JSON uplink (unauthenticated, its own Msg-Id) and map reports', async () => {
    const map = portEnvelopes().find((e) => e.label === 'MAP_REPORT_APP')!;
    const jsonFile = join(dir, 'nodeinfo.json');
    writeFileSync(jsonFile, jsonNodeinfo());
    await broker.pub('msh/EU_868/2/json/LongFast/!e2e52244', { file: jsonFile });
    await publishAll(broker, dir, [{ topic: 'msh/EU_868/2/map/', bytes: map.bytes }]);
    const got = await waitFor(
      'the JSON and map receptions',
      async () => {
        const ev = await hubReceptions(stack);
        const json = ev.find((e) => (e.data as unknown as Reception).mqtt?.format === 'json');
        const mapr = ev.find((e) => (e.data as unknown as Reception).port === 'mapreport');
        return json && mapr ? { json, mapr } : undefined;
      },
      30_000,
      500,
    );
    expect(got.json.msgId).toMatch(/:json$/);
    expect(got.json.subject).toBe(subjects.rx(SITE, 'gw-e2e52244', 'nodeinfo'));
    expect(got.json.data).toMatchObject({
      gatewayId: '!e2e52244',
      payload: { longName: 'P2000 Portal ', shortName: 'P200' },
      mqtt: { format: 'json', unauthenticated: true },
    });
    const out = decodeLine(map.b64, 'envelope', decodeCtx({ source: 'mqtt', site: SITE }));
    expect(out.kind === 'event' && comparable(got.mapr.data as unknown as Reception)).toEqual(
      out.kind === 'event' && comparable(out.event),
    );
  }, 60_000);

  it('stores a packet from three gateways as three receptions of one packet, and a repeat from one gateway once', async () => {
    const source = portEnvelopes().find((e) => e.label === 'TEXT_MESSAGE_APP')!;
    const parts = readServiceEnvelope(source.bytes);
    if (!parts.ok) throw new Error(parts.error);
    const gateways = ['!0000aa01', '!0000aa02', '!0000aa03'];
    const msgs = gateways.map((g) => ({
      topic: `msh/EU_868/2/e/LongFast/${g}`,
      bytes: toBinary(
        Mqtt.ServiceEnvelopeSchema,
        create(Mqtt.ServiceEnvelopeSchema, { packet: parts.value.packet, channelId: 'LongFast', gatewayId: g }),
      ),
    }));
    await publishAll(broker, dir, [...msgs, msgs[0]!, msgs[0]!]);
    const { from, id } = parts.value.packet;
    const mine = async () =>
      (await hubReceptions(stack)).filter((e) => {
        const r = e.data as unknown as Reception;
        return r.packet.from === from && r.packet.id === id && gateways.includes(r.gatewayId ?? '');
      });
    await waitFor('the duplicates to reach the leaf', () => bridge.stats.duplicates >= 2, 30_000);
    const rx = await waitFor('three receptions', async () => ((await mine()).length >= 3 ? mine() : undefined), 30_000);
    expect(rx.map((e) => (e.data as unknown as Reception).agent).sort()).toEqual([
      'gw-0000aa01',
      'gw-0000aa02',
      'gw-0000aa03',
    ]);
    expect(rx.every((e) => (e.data as unknown as Reception).payload)).toBe(true);
  }, 60_000);

  it('says so in /readyz and metrics while the broker is gone, reconnects, and delivers everything after the restart once', async () => {
    const ops = await startOpsServer({ port: 0, registry: bridge.registry, ready: () => bridge.ready() });
    const readyz = async () => (await fetch(`http://127.0.0.1:${ops.port}/readyz`)).status;
    try {
      expect(await readyz()).toBe(200);
      const before = bridge.sources[0]!.counters.subscribes;
      await broker.kill('SIGKILL');
      await waitFor('/readyz to fail', async () => (await readyz()) === 503, 30_000);
      await waitFor('metrics to show the broker down', async () =>
        /mmm_mqtt_connected\{broker="local"[^}]*\} 0/.test(await bridge.registry.metrics()),
      );
      await broker.restart();
      // A broker restarted without persistence has forgotten the session: only a subscription made again in the
      // connect handler brings messages back.
      await waitFor('the bridge to subscribe again', () => bridge.sources[0]!.counters.subscribes > before, 60_000);
      expect(await readyz()).toBe(200);
      // Packets the hub does not hold yet (the capture repeats some packets seen in the first test).
      const held = new Set((await hubReceptions(stack)).map((e) => e.msgId));
      const after = feedEnvelopes('msh/US/TX')
        .filter((_, i) => i % 3 === 1)
        .slice(0, 30);
      await publishAll(broker, dir, after);
      const want = new Set(
        after.flatMap((e) => {
          const c = convertMqttMessage(e.topic, e.bytes, {
            site: SITE,
            broker: 'local',
            keys: new ChannelKeyring(),
            maxPayload: 16_384,
            channels: new Set(),
            receivedAt: 0,
          });
          return c.kind === 'reception' && !held.has(c.msgId) ? [c.msgId] : [];
        }),
      );
      expect(want.size).toBeGreaterThan(15);
      const got = await waitFor(
        'every message published after the restart',
        async () => {
          const ev = (await hubReceptions(stack)).filter((e) => want.has(e.msgId ?? ''));
          return ev.length >= want.size ? ev : undefined;
        },
        60_000,
        500,
      );
      expect(got.length).toBe(want.size);
      expect(got.every((e) => (e.data as unknown as Reception).mqtt?.root === 'msh/US/TX')).toBe(true);
    } finally {
      await ops.close();
    }
  }, 150_000);
});
