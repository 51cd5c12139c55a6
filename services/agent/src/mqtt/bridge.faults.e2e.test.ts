import { streams, subjects } from '@mmm/schemas';
import {
  type MosquittoServer,
  mulberry32,
  type NatsServer,
  startMosquitto,
  startNatsServer,
  waitFor,
} from '@mmm/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietLog } from '../testing/test-stack.js';
import { type RunningBridge, startMqttBridge } from './bridge.js';
import { DEAD_LETTER_CODES } from './convert.js';
import { parseMqttSettings } from './settings.js';
import { feedEnvelopes, jsonNodeinfo, portEnvelopes } from './testing.js';

const SITE = 'mqtt-faults';
/** CI publishes this many fuzzed payloads; MMM_MQTT_FUZZ=100000 runs the full count (a few minutes). */
const FUZZ_COUNT = Number(process.env.MMM_MQTT_FUZZ ?? 5_000);

function ini(leafUrl: string, brokerUrl: string, broker: string, extra = ''): string {
  return `[nats]
url = ${leafUrl}
site = ${SITE}
${extra}
[broker_${broker}]
url = ${brokerUrl}
reconnect_min = 0.1
reconnect_max = 1
`;
}

/** Payloads and topics a broken or hostile publisher might send, from real envelopes and JSON (seeded). */
function* fuzzed(count: number, seed: number): Generator<{ topic: string; payload: Buffer }> {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const envs = [...feedEnvelopes(), ...portEnvelopes()];
  const json = Buffer.from(jsonNodeinfo());
  const letters = () => Array.from({ length: 1 + int(8) }, () => String.fromCharCode(97 + int(26))).join('');
  for (let i = 0; i < count; i++) {
    const e = envs[int(envs.length)]!;
    const base = int(5) === 0 ? json : e.bytes;
    let payload: Buffer;
    switch (int(6)) {
      case 0:
        payload = Buffer.from(Array.from({ length: int(600) }, () => int(256)));
        break;
      case 1: {
        payload = Buffer.from(base);
        for (let k = 0, n = 1 + int(8); k < n && payload.length > 0; k++) payload[int(payload.length)]! ^= 1 << int(8);
        break;
      }
      case 2:
        payload = base.subarray(0, int(base.length + 1));
        break;
      case 3:
        payload = Buffer.concat([base.subarray(0, int(base.length)), envs[int(envs.length)]!.bytes.subarray(int(40))]);
        break;
      case 4:
        payload = Buffer.alloc(17_000 + int(3000), int(256));
        break;
      default:
        payload = Buffer.from(base);
    }
    const topics = [
      e.topic,
      e.topic.replace('/2/e/', '/2/json/'),
      'msh/EU_868/2/map/',
      `msh/${letters()}/${letters()}`,
      e.topic.replace('LongFast', letters()),
    ];
    yield { topic: topics[int(topics.length)]!, payload };
  }
}

describe('mmm mqtt under faults (Mosquitto, leaf nats-server)', () => {
  let leaf: NatsServer;
  let broker: MosquittoServer;
  let nc: NatsConnection;
  let pub: MqttClient;
  const running: RunningBridge[] = [];

  beforeAll(async () => {
    leaf = await startNatsServer({ name: `leaf-${SITE}`, domain: SITE });
    broker = await startMosquitto();
    nc = await connect({ servers: leaf.url });
    pub = await mqtt.connectAsync(broker.url, { clientId: 'fuzzer', clean: true });
  }, 60_000);
  afterAll(async () => {
    for (const b of running) await b.stop();
    await pub?.endAsync();
    await nc?.close();
    await broker?.dispose();
    await leaf?.dispose();
  });

  async function bridge(name: string, extra = '', brokerExtra = ''): Promise<RunningBridge> {
    const text = ini(leaf.url, broker.url, name, extra) + brokerExtra;
    const b = await startMqttBridge(parseMqttSettings(text), { log: quietLog() });
    running.push(b);
    await waitFor(`bridge ${name} to subscribe`, () => b.sources[0]!.counters.subscribes > 0, 30_000);
    return b;
  }

  it(`turns ${FUZZ_COUNT} fuzzed payloads into receptions or dead letters, never a crash or a silent drop`, async () => {
    const b = await bridge('fuzz', '', 'topics = "msh/#"\n');
    let deadLetters = 0;
    const sub = nc.subscribe(subjects.deadLetter('mqtt'));
    void (async () => {
      for await (const _ of sub) deadLetters++;
    })();
    await nc.flush();
    let sent = 0;
    const inFlight = new Set<Promise<unknown>>();
    for (const m of fuzzed(FUZZ_COUNT, 16)) {
      const p: Promise<unknown> = pub.publishAsync(m.topic, m.payload, { qos: 1 }).then(() => inFlight.delete(p));
      inFlight.add(p);
      sent++;
      if (inFlight.size >= 200) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const total = () => {
      const o = b.stats.outcomes;
      return o.decoded + o.no_key + o.json + o.deadletter + o.ignored;
    };
    await waitFor('every fuzzed message to get an outcome', () => total() >= sent, 240_000, 250);
    const o = b.stats.outcomes;
    expect(total()).toBe(sent);
    expect(o.ignored).toBe(0);
    expect(o.deadletter).toBeGreaterThan(sent / 4);
    expect(o.decoded + o.json).toBeGreaterThan(sent / 20);
    // Every reception stored (or recognised as already stored), every dead letter sent.
    await waitFor('every reception acked', () => b.stats.stored >= o.decoded + o.no_key + o.json, 120_000, 250);
    await waitFor('every dead letter seen', () => deadLetters >= o.deadletter, 60_000, 250);
    expect(deadLetters).toBe(o.deadletter);
    expect(b.stats.publishFailures).toBe(0);
    const info = await (await nc.jetstreamManager()).streams.info(streams.site(SITE));
    expect(info.state.messages).toBe(b.stats.stored - b.stats.duplicates);
    for (const code of Object.keys(b.stats.deadLetterReasons)) expect(DEAD_LETTER_CODES).toContain(code);
    expect(b.stats.deadLetterReasons.oversized).toBeGreaterThan(0);
    expect(b.ready()).toBe(true);
    sub.unsubscribe();
  }, 400_000);

  it('holds the broker back while the leaf cannot store, and then delivers every message', async () => {
    const b = await bridge('burst', 'max_backlog = 20', 'topics = "burst/#"\n');
    const envs = feedEnvelopes('burst/EU').filter((_, i) => i % 2 === 0);
    const before = (await (await nc.jetstreamManager()).streams.info(streams.site(SITE))).state.messages;
    process.kill(leaf.pid!, 'SIGSTOP');
    try {
      await Promise.all(envs.map((e) => pub.publishAsync(e.topic, e.bytes, { qos: 1 })));
      await waitFor('the bridge to hold the broker back', () => b.stats.pauses > 0, 30_000);
      expect(b.backlog).toBeLessThanOrEqual(20 + 1);
    } finally {
      process.kill(leaf.pid!, 'SIGCONT');
    }
    const o = b.stats.outcomes;
    await waitFor('every envelope read', () => o.decoded + o.deadletter >= envs.length, 60_000, 250);
    await waitFor('every reception stored', () => b.stats.stored >= o.decoded, 60_000, 250);
    expect(o.decoded + o.deadletter).toBe(envs.length);
    expect(b.stats.stored).toBe(o.decoded);
    const after = (await (await nc.jetstreamManager()).streams.info(streams.site(SITE))).state.messages;
    expect(after - before).toBe(b.stats.stored - b.stats.duplicates);
  }, 150_000);

  it('rebuilds a connection that delivers nothing for silent_timeout and subscribes again', async () => {
    const b = await bridge('idle', '', 'topics = "idle/#"\nsilent_timeout = 1\n');
    await waitFor('two silent rebuilds', () => b.sources[0]!.counters.silentRebuilds >= 2, 30_000);
    await waitFor('a subscription per connect', () => b.sources[0]!.counters.subscribes >= 3, 30_000);
    await waitFor('the metric', async () =>
      /mmm_mqtt_silent_rebuilds_total\{broker="idle"[^}]*\} [2-9]/.test(await b.registry.metrics()),
    );
    expect(b.sources[0]!.counters.connects).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
