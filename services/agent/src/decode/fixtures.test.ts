import { create, fromBinary, Mesh, Mqtt, toBinary } from '@mmm/meshtastic';
import type { Reception } from '@mmm/schemas';
import { describe, expect, it } from 'vitest';
import { decodeMeshPacketBytes, decodeServiceEnvelope } from './envelope.js';
import { contractProblems, ctx, fixtureLines } from './test-support.js';

const tally = (events: Reception[]): Record<string, number> => {
  const t: Record<string, number> = {};
  for (const e of events) {
    const k = `${e.encryption}:${e.port}`;
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
};

describe('MQTT ServiceEnvelopes from the public LongFast feed (friendlydev, 337 lines)', () => {
  const lines = fixtureLines('friendlydev_mqtt_serviceenvelopes.b64.txt');
  const { source: _s, gatewayId: _g, ...c } = ctx();
  const results = lines.map((l) => ({ line: l, res: decodeServiceEnvelope(Buffer.from(l, 'base64'), c) }));
  const events = results.flatMap((r) => (r.res.ok ? [r.res.value] : []));

  it('parses 323, rejects the 14 malformed envelopes with a reason', () => {
    expect(lines).toHaveLength(337);
    expect(events).toHaveLength(323);
    const errors = results.flatMap((r) => (r.res.ok ? [] : [r.res.error]));
    expect(errors).toHaveLength(14);
    for (const e of errors) expect(e).toMatch(/^not a ServiceEnvelope: .*illegal tag/);
  });

  it('decrypts all 255 encrypted packets with the default key and keeps the 68 plaintext ones', () => {
    expect(tally(events)).toEqual({
      'decrypted:position': 90,
      'decrypted:nodeinfo': 87,
      'decrypted:telemetry': 70,
      'decrypted:traceroute': 4,
      'decrypted:text': 2,
      'decrypted:routing': 2,
      'none:telemetry': 29,
      'none:position': 25,
      'none:nodeinfo': 14,
    });
    for (const e of events.filter((e) => e.encryption === 'decrypted')) {
      expect(e.packet.channel).toBe(8); // LongFast + default key
      expect(e.channelName).toBe('LongFast');
    }
  });

  it('every event validates against validateEvent and the committed JSON Schema (ajv)', () => {
    const bad = events.map((e) => contractProblems(e)).filter((p) => p.length > 0);
    expect(bad).toEqual([]);
  });

  it('raw is the MeshPacket exactly as the envelope carried it, and the gateway comes along', () => {
    for (const { line, res } of results) {
      if (!res.ok) continue;
      const env = fromBinary(Mqtt.ServiceEnvelopeSchema, Buffer.from(line, 'base64'));
      const raw = Buffer.from(res.value.raw!, 'base64');
      expect(fromBinary(Mesh.MeshPacketSchema, raw)).toEqual(env.packet);
      expect(res.value.gatewayId).toBe(env.gatewayId);
      expect(res.value.source).toBe('mqtt');
      expect(res.value.packet.from).toBe(env.packet!.from);
      expect(res.value.packet.rxTime).toBe(env.packet!.rxTime);
    }
  });

  it('keeps rxTime 0 as 0 (41 envelopes carry no time)', () => {
    expect(events.filter((e) => e.packet.rxTime === 0).length).toBeGreaterThan(0);
    expect(events.every((e) => typeof e.packet.hopStart === 'number' && typeof e.packet.rxSnr === 'number')).toBe(true);
  });

  it('node names, hardware model and role come through on NODEINFO', () => {
    const infos = events.filter((e) => e.port === 'nodeinfo');
    expect(infos).toHaveLength(101);
    for (const e of infos) {
      const p = e.payload as Record<string, unknown>;
      expect(typeof p.longName).toBe('string');
      expect(typeof p.shortName).toBe('string');
      expect(typeof p.hwModel).toBe('number');
      expect(p.role).toBeGreaterThanOrEqual(0);
      expect(p.role).toBeLessThanOrEqual(12);
    }
    expect(infos.some((e) => (e.payload as { role: number }).role === 0)).toBe(true);
  });
});

describe('Mesh-via-UDP MeshPackets (potato-mesh, 32 packets)', () => {
  const lines = fixtureLines('potato-mesh_mesh_udp_capture.jsonl').map((l) => JSON.parse(l) as { raw_b64: string });
  const events = lines.map((l) => {
    const r = decodeMeshPacketBytes(Buffer.from(l.raw_b64, 'base64'), ctx({ source: 'replay' }));
    if (!r.ok) throw new Error(r.error);
    return r.value;
  });

  it('decrypts the 21 default-key packets and leaves the 11 private-channel ones encrypted', () => {
    expect(events).toHaveLength(32);
    expect(tally(events)).toEqual({
      'decrypted:position': 9,
      'decrypted:telemetry': 3,
      'decrypted:text': 3,
      'decrypted:traceroute': 3,
      'decrypted:nodeinfo': 2,
      'decrypted:routing': 1,
      'undecryptable:encrypted': 11,
    });
    const hashes = events
      .filter((e) => e.port === 'encrypted')
      .map((e) => (e.payload as { channelHash: number }).channelHash);
    expect(hashes.sort((a, b) => a - b)).toEqual([0, 77, 85, 115, 115, 115, 115, 115, 115, 115, 207]);
    for (const e of events.filter((e) => e.encryption === 'decrypted')) expect(e.channelName).toBe('MediumFast');
  });

  it('keeps the traceroute route, snrTowards, routeBack and snrBack exactly as the wire gives them', () => {
    const traces = events.filter((e) => e.port === 'traceroute');
    const full = traces.find((t) => (t.payload as { routeBack: number[] }).routeBack.length > 0);
    expect(full?.payload).toEqual({
      route: [0xdead0002, 0xdead00ff],
      snrTowards: [-23, -41, -14],
      routeBack: [0xdead00ff, 0xdead00ff, 0xdead0002],
      snrBack: [-27, -62, 6],
    });
  });

  it('keeps every header field of the radio, raw bytes included', () => {
    for (const [i, e] of events.entries()) {
      const p = fromBinary(Mesh.MeshPacketSchema, Buffer.from(lines[i]!.raw_b64, 'base64'));
      expect(e.raw).toBe(lines[i]!.raw_b64);
      expect(e.packet).toEqual({
        from: p.from,
        to: p.to,
        id: p.id,
        channel: p.channel,
        rxTime: p.rxTime,
        rxSnr: p.rxSnr,
        rxRssi: p.rxRssi,
        hopStart: p.hopStart,
        hopLimit: p.hopLimit,
        relayNode: p.relayNode,
        nextHop: p.nextHop,
        wantAck: p.wantAck,
        viaMqtt: p.viaMqtt,
        priority: p.priority,
        pkiEncrypted: p.pkiEncrypted,
      });
    }
    expect(events.some((e) => e.packet.rxRssi !== 0 && e.packet.rxSnr !== 0 && e.packet.relayNode !== 0)).toBe(true);
  });

  it('text bodies are the redacted placeholder, and every event validates (validateEvent + ajv)', () => {
    for (const e of events.filter((e) => e.port === 'text')) expect(e.payload).toEqual({ text: 'redacted' });
    expect(events.map((e) => contractProblems(e)).filter((p) => p.length > 0)).toEqual([]);
  });
});

describe('one real envelope per port (friendlydev run-me.php)', () => {
  const rows = fixtureLines('friendlydev_per_portnum_envelopes.jsonl').map(
    (l) => JSON.parse(l) as { label: string; service_envelope_b64: string },
  );
  const expected: Record<string, string> = {
    TEXT_MESSAGE_APP: 'text',
    TELEMETRY_APP: 'telemetry',
    NODEINFO_APP: 'nodeinfo',
    MAP_REPORT_APP: 'mapreport',
    STORE_FORWARD_APP: 'storeforward',
    POSITION_APP: 'position',
    NEIGHBORINFO_APP: 'neighborinfo',
    ROUTING_APP: 'routing',
    RANGE_TEST_APP: 'rangetest',
    TRACEROUTE_APP: 'traceroute',
  };
  const { source: _s, gatewayId: _g, ...c } = ctx();
  const decoded = rows.map((r) => {
    const res = decodeServiceEnvelope(Buffer.from(r.service_envelope_b64, 'base64'), c);
    if (!res.ok) throw new Error(`${r.label}: ${res.error}`);
    return { label: r.label, event: res.value };
  });

  it('lands each on its port; the last POSITION_APP is decrypted with the default key', () => {
    expect(decoded).toHaveLength(11);
    for (const d of decoded) expect(d.event.port, d.label).toBe(expected[d.label]);
    expect(decoded.slice(0, 10).every((d) => d.event.encryption === 'none')).toBe(true);
    expect(decoded[10]!.event.encryption).toBe('decrypted');
    for (const d of decoded) expect(contractProblems(d.event), d.label).toEqual([]);
  });

  it('decodes the payload values', () => {
    const by = (label: string) => decoded.find((d) => d.label === label)!.event.payload as Record<string, unknown>;
    expect(by('TEXT_MESSAGE_APP')).toEqual({ text: 'Hello' });
    expect(by('RANGE_TEST_APP')).toEqual({ text: 'seq 257' });
    expect(by('MAP_REPORT_APP')).toMatchObject({ firmwareVersion: '2.3.0.5f47ca1', region: 3, modemPreset: 0 });
    const ni = by('NEIGHBORINFO_APP');
    expect(ni.nodeBroadcastIntervalSecs).toBe(900);
    expect(ni.neighbors).toHaveLength(3);
    const pos = by('POSITION_APP');
    expect(pos.latitude).toBe((pos.latitudeI as number) / 1e7);
    expect(pos.longitude).toBe((pos.longitudeI as number) / 1e7);
    const tr = decoded.find((d) => d.label === 'TRACEROUTE_APP')!.event;
    expect(tr.data?.wantResponse).toBe(true);
    expect(tr.packet.to).not.toBe(0xffffffff);
  });
});

describe('the firmware JSON uplink node (friendlydev): NUL-padded long name', () => {
  it('survives a round trip through a NODEINFO packet verbatim', () => {
    const json = JSON.parse(fixtureLines('friendlydev_mqtt_json_nodeinfo.json').join('\n')) as {
      from: number;
      id: number;
      payload: { id: string; longname: string; shortname: string; hardware: number };
    };
    const user = create(Mesh.UserSchema, {
      id: json.payload.id,
      longName: json.payload.longname,
      shortName: json.payload.shortname,
      hwModel: json.payload.hardware,
    });
    const packet = create(Mesh.MeshPacketSchema, {
      from: json.from,
      to: 0xffffffff,
      id: json.id,
      payloadVariant: { case: 'decoded', value: { portnum: 4, payload: toBinary(Mesh.UserSchema, user) } },
    });
    const r = decodeMeshPacketBytes(toBinary(Mesh.MeshPacketSchema, packet), ctx());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((r.value.payload as { longName: string }).longName).toBe(
      'P2000 Portal \u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000',
    );
    expect(JSON.parse(JSON.stringify(r.value)).payload.longName).toBe(json.payload.longname);
    expect(contractProblems(r.value)).toEqual([]);
  });
});
