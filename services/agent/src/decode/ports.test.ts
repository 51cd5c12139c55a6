import {
  channelHash,
  create,
  type DescMessage,
  Mesh,
  Mqtt,
  PaxCount,
  StoreForward,
  Telemetry,
  toBinary,
  xcrypt,
} from '@mmm/meshtastic';
import type { Reception } from '@mmm/schemas';
import { describe, expect, it } from 'vitest';
import { decodeMeshPacketBytes } from './envelope.js';
import { ChannelKeyring } from './keyring.js';
import { receptionFromPacket } from './reception.js';
import { contractProblems, ctx } from './test-support.js';

type PacketInit = Parameters<typeof create<typeof Mesh.MeshPacketSchema>>[1];

function decoded(
  portnum: number,
  payload: Uint8Array,
  header: PacketInit = {},
  data: Record<string, unknown> = {},
): Uint8Array {
  return toBinary(
    Mesh.MeshPacketSchema,
    create(Mesh.MeshPacketSchema, {
      from: 0x1234abcd,
      to: 0xffffffff,
      id: 0x0badf00d,
      ...header,
      payloadVariant: { case: 'decoded', value: { portnum, payload, ...data } },
    }),
  );
}

function decode(bytes: Uint8Array, keys = new ChannelKeyring()): Reception {
  const r = decodeMeshPacketBytes(bytes, ctx({ keys }));
  if (!r.ok) throw new Error(r.error);
  expect(contractProblems(r.value)).toEqual([]);
  return r.value;
}

const msg = <D extends DescMessage>(schema: D, init: Parameters<typeof create<D>>[1]) =>
  toBinary(schema, create(schema, init));

/** Sets every scalar field of a message: the first to zero (zero must stay zero), the others to a distinct value. */
function everyField(schema: DescMessage): { init: Record<string, unknown>; expected: Record<string, unknown> } {
  const init: Record<string, unknown> = {};
  const expected: Record<string, unknown> = {};
  schema.fields.forEach((f, i) => {
    if (f.fieldKind !== 'scalar' && f.fieldKind !== 'enum') return;
    const zero = i === 0;
    if (f.fieldKind === 'enum') {
      init[f.localName] = zero ? 0 : 1;
      expected[f.jsonName] = zero ? 0 : 1;
      return;
    }
    switch (f.scalar) {
      case 1:
      case 2: // double, float: 1.5 is exact in both
        init[f.localName] = zero ? 0 : 1.5 + i;
        expected[f.jsonName] = zero ? 0 : 1.5 + i;
        break;
      case 3:
      case 4:
      case 6:
      case 16:
      case 18: // 64-bit ints: JSON strings
        init[f.localName] = BigInt(zero ? 0 : 1_000_000_000_000 + i);
        expected[f.jsonName] = String(zero ? 0 : 1_000_000_000_000 + i);
        break;
      case 8:
        init[f.localName] = !zero;
        expected[f.jsonName] = !zero;
        break;
      case 9:
        init[f.localName] = zero ? '' : `v${i}`;
        expected[f.jsonName] = zero ? '' : `v${i}`;
        break;
      case 12:
        init[f.localName] = zero ? new Uint8Array(0) : Uint8Array.of(i);
        expected[f.jsonName] = zero ? '' : Buffer.from([i]).toString('base64');
        break;
      default:
        init[f.localName] = zero ? 0 : 100 + i;
        expected[f.jsonName] = zero ? 0 : 100 + i;
    }
  });
  return { init, expected };
}

describe('packet header', () => {
  it('keeps every radio field, zero values as zero', () => {
    const e = decode(
      decoded(1, Buffer.from('hi'), {
        channel: 0,
        rxTime: 1_752_573_451,
        rxSnr: 6.25,
        rxRssi: -92,
        hopStart: 7,
        hopLimit: 3,
        relayNode: 0x2a,
        nextHop: 0x3b,
        wantAck: true,
        viaMqtt: true,
        priority: Mesh.MeshPacket_Priority.RELIABLE,
      }),
    );
    expect(e.packet).toEqual({
      from: 0x1234abcd,
      to: 0xffffffff,
      id: 0x0badf00d,
      channel: 0,
      rxTime: 1_752_573_451,
      rxSnr: 6.25,
      rxRssi: -92,
      hopStart: 7,
      hopLimit: 3,
      relayNode: 0x2a,
      nextHop: 0x3b,
      wantAck: true,
      viaMqtt: true,
      priority: 70,
      pkiEncrypted: false,
    });
    const zero = decode(decoded(1, Buffer.from('hi')));
    expect(zero.packet).toMatchObject({
      rxTime: 0,
      rxSnr: 0,
      rxRssi: 0,
      hopStart: 0,
      hopLimit: 0,
      relayNode: 0,
      nextHop: 0,
      priority: 0,
    });
    expect(zero.data).toEqual({
      portnum: 1,
      wantResponse: false,
      dest: 0,
      source: 0,
      requestId: 0,
      replyId: 0,
      emoji: 0,
    });
  });

  it('stamps site, agent, source and receivedAt from the context and carries the raw bytes', () => {
    const bytes = decoded(1, Buffer.from('hi'), {}, { requestId: 77, replyId: 5, emoji: 1, bitfield: 1 });
    const e = decode(bytes);
    expect(e).toMatchObject({
      v: 1,
      kind: 'reception',
      site: 'testsite',
      agent: 'testagent',
      source: 'radio',
      encryption: 'none',
    });
    expect(e.receivedAt).toBe(1_752_573_451_000);
    expect(e.raw).toBe(Buffer.from(bytes).toString('base64'));
    expect(e.data).toMatchObject({ requestId: 77, replyId: 5, emoji: 1, bitfield: 1 });
  });
});

describe('telemetry', () => {
  const variants = Telemetry.TelemetrySchema.oneofs.find((o: { name: string }) => o.name === 'variant')!.fields;
  it('covers device, environment, air quality, power, local stats, health and host metrics', () => {
    const names = variants.map((f: { jsonName: string }) => f.jsonName);
    for (const n of [
      'deviceMetrics',
      'environmentMetrics',
      'airQualityMetrics',
      'powerMetrics',
      'localStats',
      'healthMetrics',
      'hostMetrics',
    ]) {
      expect(names).toContain(n);
    }
  });
  for (const v of variants) {
    it(`${v.jsonName}: every field comes through, zeros stay zero`, () => {
      const schema = v.message!;
      const { init, expected } = everyField(schema);
      const payload = msg(Telemetry.TelemetrySchema, {
        time: 1_752_573_451,
        variant: { case: v.localName, value: create(schema, init) },
      } as never);
      const e = decode(decoded(67, payload));
      expect(e.port).toBe('telemetry');
      expect((e.payload as Record<string, unknown>).time).toBe(1_752_573_451);
      expect((e.payload as Record<string, unknown>)[v.jsonName]).toEqual(expected);
    });
  }
  it('a battery of 0 and 0 % channel utilisation stay 0', () => {
    const payload = msg(Telemetry.TelemetrySchema, {
      variant: {
        case: 'deviceMetrics',
        value: { batteryLevel: 0, voltage: 0, channelUtilization: 0, airUtilTx: 0, uptimeSeconds: 0 },
      },
    });
    expect(decode(decoded(67, payload)).payload).toEqual({
      time: 0,
      deviceMetrics: { batteryLevel: 0, voltage: 0, channelUtilization: 0, airUtilTx: 0, uptimeSeconds: 0 },
    });
  });
});

describe('node info', () => {
  it('keeps hostile names verbatim as data: markup, emoji, NUL padding', () => {
    const longName = '<img src=x onerror=alert(1)>';
    const shortName = '\u{1F984}\u{1F4E1}';
    const padded = 'Portal \u0000\u0000\u0000';
    for (const name of [longName, shortName, padded, '"; DROP TABLE nodes; --', 'Zoë Ünïcødé ☃']) {
      const e = decode(decoded(4, msg(Mesh.UserSchema, { id: '!1234abcd', longName: name, shortName, hwModel: 9 })));
      expect(e.payload).toMatchObject({ longName: name, shortName });
      const line = JSON.stringify(e);
      expect(JSON.parse(line).payload.longName).toBe(name);
    }
  });
  it('a name cut inside a multi-byte character (firmware byte limit) keeps the node: U+FFFD in its place', () => {
    const cut = Uint8Array.of(0x0a, 0x02, 0x21, 0x61, 0x12, 0x05, 0x41, 0x62, 0xf0, 0x9f, 0x93, 0x28, 0x09);
    const e = decode(decoded(4, cut));
    expect(e.port).toBe('nodeinfo');
    expect(e.payload).toMatchObject({ id: '!a', longName: 'Ab\ufffd', hwModel: 9 });
  });
  it('roles 0 to 12 come through; CLIENT (0, absent on the wire) stays 0', () => {
    for (let role = 0; role <= 12; role++) {
      const e = decode(
        decoded(4, msg(Mesh.UserSchema, { id: '!1234abcd', longName: 'n', shortName: 's', hwModel: 43, role })),
      );
      expect(e.payload).toMatchObject({ role, hwModel: 43, isLicensed: false });
    }
  });
});

describe('every other port', () => {
  it('position: degrees derived, zero altitude kept', () => {
    const e = decode(
      decoded(
        3,
        msg(Mesh.PositionSchema, { latitudeI: 525_200_000, longitudeI: -134_050_000, altitude: 0, precisionBits: 32 }),
      ),
    );
    expect(e.payload).toMatchObject({
      latitudeI: 525_200_000,
      longitudeI: -134_050_000,
      altitude: 0,
      latitude: 52.52,
      longitude: -13.405,
      precisionBits: 32,
    });
  });
  it('position without a fix has no degrees', () => {
    const p = decode(decoded(3, msg(Mesh.PositionSchema, { time: 5 }))).payload as Record<string, unknown>;
    expect(p.latitude).toBeUndefined();
    expect(p.time).toBe(5);
  });
  it('routing error reason, 0 (NONE) included', () => {
    for (const reason of [0, 5, 8]) {
      const e = decode(decoded(5, msg(Mesh.RoutingSchema, { variant: { case: 'errorReason', value: reason } })));
      expect(e.port).toBe('routing');
      expect((e.payload as { errorReason: number }).errorReason).toBe(reason);
    }
  });
  it('traceroute keeps dB x 4 and -128 (unknown) as the wire gives them', () => {
    const e = decode(
      decoded(
        70,
        msg(Mesh.RouteDiscoverySchema, {
          route: [1, 2],
          snrTowards: [24, -128, 18],
          routeBack: [2],
          snrBack: [20, -128],
        }),
        {},
        { requestId: 9 },
      ),
    );
    expect(e.payload).toEqual({ route: [1, 2], snrTowards: [24, -128, 18], routeBack: [2], snrBack: [20, -128] });
    expect(e.data?.requestId).toBe(9);
  });
  it('neighborinfo', () => {
    const e = decode(
      decoded(
        71,
        msg(Mesh.NeighborInfoSchema, {
          nodeId: 7,
          lastSentById: 7,
          nodeBroadcastIntervalSecs: 900,
          neighbors: [
            { nodeId: 8, snr: 7.5 },
            { nodeId: 9, snr: 0 },
          ],
        }),
      ),
    );
    expect(e.payload).toMatchObject({
      nodeId: 7,
      nodeBroadcastIntervalSecs: 900,
      neighbors: [
        { nodeId: 8, snr: 7.5 },
        { nodeId: 9, snr: 0 },
      ],
    });
  });
  it('waypoint', () => {
    const e = decode(
      decoded(
        8,
        msg(Mesh.WaypointSchema, {
          id: 42,
          latitudeI: 10_000_000,
          longitudeI: 20_000_000,
          name: 'Camp <b>',
          description: 'tents',
          icon: 0x1f3d5,
          expire: 0,
        }),
      ),
    );
    expect(e.port).toBe('waypoint');
    expect(e.payload).toMatchObject({
      id: 42,
      name: 'Camp <b>',
      description: 'tents',
      icon: 0x1f3d5,
      expire: 0,
      latitude: 1,
      longitude: 2,
    });
  });
  it('map report', () => {
    const e = decode(
      decoded(
        73,
        msg(Mqtt.MapReportSchema, {
          longName: 'Tom',
          shortName: 'T',
          role: 0,
          hwModel: 9,
          firmwareVersion: '2.7.15',
          region: 3,
          modemPreset: 4,
          latitudeI: 1,
          longitudeI: 2,
          numOnlineLocalNodes: 0,
        }),
      ),
    );
    expect(e.payload).toMatchObject({
      longName: 'Tom',
      role: 0,
      region: 3,
      modemPreset: 4,
      numOnlineLocalNodes: 0,
      hasDefaultChannel: false,
    });
  });
  it('range test, store-forward and paxcounter', () => {
    expect(decode(decoded(66, Buffer.from('seq 12'))).payload).toEqual({ text: 'seq 12' });
    const sf = decode(
      decoded(
        65,
        msg(StoreForward.StoreAndForwardSchema, {
          rr: 2,
          variant: { case: 'history', value: { historyMessages: 3, window: 0 } },
        }),
      ),
    );
    expect(sf.port).toBe('storeforward');
    expect(sf.payload).toMatchObject({ rr: 2, history: { historyMessages: 3, window: 0 } });
    const pax = decode(decoded(34, msg(PaxCount.PaxcountSchema, { wifi: 0, ble: 17, uptime: 3600 })));
    expect(pax.payload).toEqual({ wifi: 0, ble: 17, uptime: 3600 });
  });
  it('text keeps non-ASCII and the 0x94 0xC3 bytes', () => {
    expect(decode(decoded(1, Buffer.from('caf\u00e9 \u2014\u00e9t\u00e9 \u{1F600}'))).payload).toEqual({
      text: 'caf\u00e9 \u2014\u00e9t\u00e9 \u{1F600}',
    });
  });
  it('unknown and uninterpreted ports become other with their bytes; detection sensor keeps its text', () => {
    const priv = decode(decoded(256, Uint8Array.of(1, 2, 3)));
    expect(priv.port).toBe('other');
    expect(priv.payload).toEqual({ portnum: 256, bytes: 'AQID' });
    const future = decode(decoded(999, Uint8Array.of(9)));
    expect(future.payload).toEqual({ portnum: 999, bytes: 'CQ==' });
    expect(decode(decoded(10, Buffer.from('motion'))).payload).toEqual({
      portnum: 10,
      bytes: Buffer.from('motion').toString('base64'),
      text: 'motion',
    });
  });
  it('a payload that does not parse is never lost: port other with the error and the bytes', () => {
    const e = decode(decoded(3, Uint8Array.of(0xff, 0xff, 0xff)));
    expect(e.port).toBe('other');
    expect(e.data?.portnum).toBe(3);
    expect(e.payload).toMatchObject({ portnum: 3, bytes: '////' });
    expect((e.payload as { error: string }).error).toMatch(/^position payload does not parse/);
  });
  it('a payload that parses but breaks the contract (NaN neighbour SNR) becomes other with the reason', () => {
    const nb = Uint8Array.of(0x08, 0x07, 0x22, 0x05, 0x08, 0x09, 0x15, 0x00, 0x00, 0xc0, 0x7f); // snr = NaN
    const e = decode(decoded(71, nb));
    expect(e.port).toBe('other');
    expect(e.payload).toMatchObject({ portnum: 71, bytes: Buffer.from(nb).toString('base64') });
    expect((e.payload as { error: string }).error).toMatch(
      /^neighborinfo payload breaks the contract: \/payload\/neighbors\/0\/snr/,
    );
  });
  it('a packet with neither decoded nor encrypted payload becomes other', () => {
    const e = decode(toBinary(Mesh.MeshPacketSchema, create(Mesh.MeshPacketSchema, { from: 1, id: 2 })));
    expect(e.port).toBe('other');
    expect((e.payload as { error: string }).error).toMatch(/neither/);
  });
  it('bytes that are not a MeshPacket are an error, not an event', () => {
    const r = decodeMeshPacketBytes(Uint8Array.of(0xff, 0xff, 0xff, 0xff), ctx());
    expect(r.ok).toBe(false);
  });
});

describe('decryption', () => {
  const data = msg(Mesh.DataSchema, { portnum: 1, payload: Buffer.from('secret hello') });
  const encrypted = (key: Uint8Array, name: string, extra: PacketInit = {}) =>
    create(Mesh.MeshPacketSchema, {
      from: 0xdeadbeef,
      to: 0xffffffff,
      id: 0x01020304,
      channel: channelHash(name, key),
      ...extra,
      payloadVariant: { case: 'encrypted', value: xcrypt(key, 0x01020304, 0xdeadbeef, data) },
    });

  for (const size of [16, 32]) {
    it(`an AES-${size * 8} channel decrypts only with its key`, () => {
      const key = Uint8Array.from({ length: size }, (_, i) => (i * 37 + size) & 0xff);
      const p = encrypted(key, 'Secret');
      const raw = toBinary(Mesh.MeshPacketSchema, p);
      const without = decode(raw);
      expect(without).toMatchObject({
        port: 'encrypted',
        encryption: 'undecryptable',
        payload: { channelHash: p.channel },
      });
      expect(without.data).toBeUndefined();
      expect(without.raw).toBe(Buffer.from(raw).toString('base64'));
      const keys = new ChannelKeyring([{ name: 'Secret', psk: Buffer.from(key).toString('base64') }]);
      const withKey = decode(raw, keys);
      expect(withKey).toMatchObject({
        port: 'text',
        encryption: 'decrypted',
        channelName: 'Secret',
        payload: { text: 'secret hello' },
      });
    });
  }

  it('a key with the right hash but the wrong bytes does not "decrypt" to garbage', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const wrong = Uint8Array.from(key);
    wrong[0]! ^= 0x01;
    wrong[1]! ^= 0x01; // same XOR, so the same channel hash
    const p = encrypted(key, 'Ops');
    const keys = new ChannelKeyring();
    keys.add('Ops', wrong);
    const e = decode(toBinary(Mesh.MeshPacketSchema, p), keys);
    expect(e.port).toBe('encrypted');
    expect((e.payload as { reason: string }).reason).toMatch(/yields valid Data/);
  });

  it('PKI-encrypted direct messages are reported as such', () => {
    const p = encrypted(
      Uint8Array.from({ length: 16 }, () => 7),
      'x',
      { pkiEncrypted: true, to: 5 },
    );
    const e = receptionFromPacket(p, new Uint8Array(0), ctx());
    expect(e).toMatchObject({ port: 'encrypted', payload: { reason: 'PKI-encrypted direct message' } });
    expect(contractProblems(e)).toEqual([]);
  });
});
