import { create, fromBinary, Mesh, Mqtt, toBinary } from '@mmm/meshtastic';
import type { Reception } from '@mmm/schemas';
import { describe, expect, it } from 'vitest';
import { ChannelKeyring } from '../decode/keyring.js';
import { decodeLine } from '../decode/line.js';
import { contractProblems, ctx as decodeCtx, fixtureLines } from '../decode/test-support.js';
import { type ConvertContext, convertMqttMessage } from './convert.js';
import { feedEnvelopes, jsonNodeinfo, portEnvelopes } from './testing.js';

const ctx = (over: Partial<ConvertContext> = {}): ConvertContext => ({
  site: 'mqtt-test',
  broker: 'local',
  keys: new ChannelKeyring(),
  maxPayload: 16_384,
  channels: new Set(),
  receivedAt: 1_752_573_451_000,
  ...over,
});

/** What `mmm decode` prints for the same bytes, minus what only the bridge stamps. */
function decoded(b64: string): Reception | undefined {
  const out = decodeLine(b64, 'envelope', decodeCtx({ source: 'mqtt', site: 'mqtt-test' }));
  return out.kind === 'event' ? out.event : undefined;
}
const comparable = (r: Reception) => {
  const { agent: _a, receivedAt: _t, mqtt: _m, ...rest } = r;
  return rest;
};

describe('convertMqttMessage (real captured envelopes)', () => {
  it('turns every envelope of the public feed into exactly what mmm decode gives, or a dead letter with a reason', () => {
    const feed = feedEnvelopes();
    const outcomes: Record<string, number> = {};
    for (const e of feed) {
      const c = convertMqttMessage(e.topic, e.bytes, ctx());
      const expected = decoded(e.b64);
      if (c.kind === 'reception') {
        outcomes[c.outcome] = (outcomes[c.outcome] ?? 0) + 1;
        expect(expected, e.b64).toBeDefined();
        expect(comparable(c.event)).toEqual(comparable(expected!));
        expect(contractProblems(c.event)).toEqual([]);
        expect(c.event.mqtt).toEqual({
          broker: 'local',
          topic: e.topic,
          root: 'msh/EU_868',
          region: 'EU_868',
          channel: 'LongFast',
          format: 'protobuf',
        });
        expect(c.subject).toBe(`mesh.v1.mqtt-test.${c.event.agent}.rx.${c.event.port}`);
        expect(c.event.agent).toMatch(/^gw-[0-9a-f]{8}$/);
      } else {
        outcomes[c.kind] = (outcomes[c.kind] ?? 0) + 1;
        expect(expected).toBeUndefined();
        expect(c).toMatchObject({ kind: 'deadletter', code: 'not_envelope' });
      }
    }
    // SOURCES.md: 323 parse (255 encrypted, all decrypting with the default key; 68 plaintext), 14 malformed.
    expect(outcomes).toEqual({ decoded: 323, deadletter: 14 });
  });

  it('keeps packets of private channels as port encrypted, counted as no_key', () => {
    // Real MeshPacket captures on private channels (potato-mesh), wrapped as a gateway would wrap them.
    const privates = fixtureLines('potato-mesh_mesh_udp_capture.jsonl')
      .map((l) => Buffer.from((JSON.parse(l) as { raw_b64: string }).raw_b64, 'base64'))
      .map((raw) => fromBinary(Mesh.MeshPacketSchema, raw))
      .filter((p) => p.channel === 115);
    expect(privates.length).toBe(7);
    for (const packet of privates) {
      const env = create(Mqtt.ServiceEnvelopeSchema, { packet, channelId: 'Private', gatewayId: '!deadbeef' });
      const c = convertMqttMessage(
        'msh/EU_868/2/e/Private/!deadbeef',
        toBinary(Mqtt.ServiceEnvelopeSchema, env),
        ctx(),
      );
      expect(c).toMatchObject({
        kind: 'reception',
        outcome: 'no_key',
        event: { port: 'encrypted', agent: 'gw-deadbeef' },
      });
    }
  });

  it('gives the same Msg-Id to the same packet from one gateway and different ones across gateways', () => {
    const e = feedEnvelopes().find((x) => decoded(x.b64)?.packet.rxTime === 0)!;
    const a = convertMqttMessage(e.topic, e.bytes, ctx({ receivedAt: 1 }));
    const b = convertMqttMessage(e.topic, e.bytes, ctx({ receivedAt: 2 }));
    const other = convertMqttMessage(e.topic.replace(/![0-9a-f]+$/, '!0badcafe'), e.bytes, ctx());
    expect(a.kind === 'reception' && b.kind === 'reception' && a.msgId === b.msgId).toBe(true);
    // The gateway comes from the envelope, so the topic's gateway does not change the id.
    expect(other.kind === 'reception' && a.kind === 'reception' && other.msgId === a.msgId).toBe(true);
  });

  it('decodes the labelled envelopes, the map report on a map topic', () => {
    for (const e of portEnvelopes()) {
      const topic = e.label === 'MAP_REPORT_APP' ? 'msh/EU_868/2/map/' : e.topic;
      const c = convertMqttMessage(topic, e.bytes, ctx());
      expect(c.kind, e.label).toBe('reception');
      if (c.kind !== 'reception') continue;
      expect(comparable(c.event)).toEqual(comparable(decoded(e.b64)!));
      if (e.label === 'MAP_REPORT_APP') {
        expect(c.event.port).toBe('mapreport');
        expect(c.event.payload).toMatchObject({ longName: 'EI4IDB', firmwareVersion: '2.3.0.5f47ca1' });
        expect(c.event.mqtt).not.toHaveProperty('channel');
      }
    }
  });

  it('turns the firmware JSON uplink into an unauthenticated reception with its own Msg-Id', () => {
    const c = convertMqttMessage('msh/EU_868/2/json/LongFast/!e2e52244', Buffer.from(jsonNodeinfo()), ctx());
    expect(c.kind).toBe('reception');
    if (c.kind !== 'reception') return;
    expect(contractProblems(c.event)).toEqual([]);
    expect(c.outcome).toBe('json');
    expect(c.msgId).toMatch(/:json$/);
    expect(c.event).toMatchObject({
      agent: 'gw-e2e52244',
      gatewayId: '!e2e52244',
      port: 'nodeinfo',
      encryption: 'none',
      packet: { from: 4201166456, id: 935928891, to: 4294967295, rxTime: 1712653096, rxSnr: 6.5, rxRssi: -85 },
      // The firmware's NUL padding is gone; the names are the protobuf ones, as envelopes give them.
      payload: { id: '!fa68b678', longName: 'P2000 Portal ', shortName: 'P200', hwModel: 44 },
      mqtt: { format: 'json', unauthenticated: true, channel: 'LongFast' },
    });
    expect(c.event).not.toHaveProperty('raw');
  });

  it('dead-letters bad input with a reason and never throws', () => {
    const env = feedEnvelopes()[1]!;
    const cases: [string, Uint8Array, string, Partial<ConvertContext>?][] = [
      ['weird/topic', env.bytes, 'bad_topic'],
      [env.topic, Buffer.alloc(20_000, 1), 'oversized'],
      [env.topic, Buffer.from('not protobuf at all \xff'), 'not_envelope'],
      [env.topic, env.bytes, 'unknown_channel', { channels: new Set(['MediumFast']) }],
      [env.topic.replace('LongFast', 'Other'), env.bytes, 'unknown_channel'],
      ['msh/EU_868/2/json/LongFast/!1', Buffer.from('{"from":1'), 'bad_json'],
      ['msh/EU_868/2/json/LongFast/!1', Buffer.from('{"from":1,"id":2,"type":"bogus","payload":{}}'), 'bad_json'],
      ['msh/EU_868/2/json/LongFast/!1', Buffer.from('{"from":1,"id":2,"type":"position","payload":7}'), 'bad_json'],
      ['msh/EU_868/2/json/LongFast/!1', Buffer.from([0xff, 0xfe]), 'bad_json'],
    ];
    for (const [topic, payload, code, over] of cases) {
      const c = convertMqttMessage(topic, payload, ctx(over));
      expect(c, `${topic} ${code}`).toMatchObject({ kind: 'deadletter', code });
      if (c.kind === 'deadletter') expect(c.reason.length).toBeGreaterThan(5);
    }
    expect(convertMqttMessage('msh/EU_868/2/stat/!55c76a9c', Buffer.from('online'), ctx())).toEqual({
      kind: 'ignored',
      what: 'stat',
      gateway: '!55c76a9c',
    });
  });
});
