import { create, Mesh, toBinary } from '@mmm/meshtastic';
import { validateEvent } from '@mmm/schemas';
import { describe, expect, it } from 'vitest';
import { parseFromRadio } from './fromradio.js';
import { receptionFromPacket } from './reception.js';
import { ctx } from './test-support.js';

type FromRadioInit = Parameters<typeof create<typeof Mesh.FromRadioSchema>>[1];
const fr = (init: FromRadioInit) => toBinary(Mesh.FromRadioSchema, create(Mesh.FromRadioSchema, init));

describe('parseFromRadio', () => {
  it('a packet keeps its MeshPacket bytes exactly as they were inside the FromRadio', () => {
    const packet = create(Mesh.MeshPacketSchema, {
      from: 0xbeef,
      to: 0xffffffff,
      id: 77,
      rxSnr: -3.5,
      rxRssi: -110,
      hopStart: 3,
      hopLimit: 1,
      payloadVariant: { case: 'decoded', value: { portnum: 1, payload: Buffer.from('x\u0094\u00c3y') } },
    });
    const packetBytes = toBinary(Mesh.MeshPacketSchema, packet);
    const r = parseFromRadio(fr({ id: 5, payloadVariant: { case: 'packet', value: packet } }));
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.kind !== 'packet') throw new Error('not a packet');
    expect(Buffer.from(r.value.raw)).toEqual(Buffer.from(packetBytes));
    const e = receptionFromPacket(r.value.packet, r.value.raw, ctx());
    expect(validateEvent(e).ok).toBe(true);
    expect(e.packet).toMatchObject({ rxSnr: -3.5, rxRssi: -110, hopStart: 3, hopLimit: 1 });
  });

  it('my_info, metadata, channel, lora config, config_complete', () => {
    expect(parseFromRadio(fr({ payloadVariant: { case: 'myInfo', value: { myNodeNum: 0xa1b2c3d4 } } }))).toEqual({
      ok: true,
      value: { kind: 'myInfo', myNodeNum: 0xa1b2c3d4 },
    });
    expect(
      parseFromRadio(fr({ payloadVariant: { case: 'metadata', value: { firmwareVersion: '2.7.15', hwModel: 4 } } })),
    ).toEqual({
      ok: true,
      value: { kind: 'metadata', firmwareVersion: '2.7.15', hwModel: 4 },
    });
    const ch = parseFromRadio(
      fr({
        payloadVariant: {
          case: 'channel',
          value: { index: 1, role: 2, settings: { name: 'Ops', psk: Uint8Array.of(1) } },
        },
      }),
    );
    expect(ch).toEqual({ ok: true, value: { kind: 'channel', index: 1, name: 'Ops', psk: Uint8Array.of(1), role: 2 } });
    const lora = parseFromRadio(
      fr({
        payloadVariant: {
          case: 'config',
          value: {
            payloadVariant: { case: 'lora', value: { region: 3, modemPreset: 4, hopLimit: 5, usePreset: true } },
          },
        },
      }),
    );
    expect(lora).toEqual({
      ok: true,
      value: { kind: 'config', lora: { region: 3, modemPreset: 4, hopLimit: 5, usePreset: true } },
    });
    const device = parseFromRadio(
      fr({ payloadVariant: { case: 'config', value: { payloadVariant: { case: 'device', value: { role: 2 } } } } }),
    );
    expect(device).toEqual({ ok: true, value: { kind: 'config' } });
    expect(parseFromRadio(fr({ payloadVariant: { case: 'configCompleteId', value: 4242 } }))).toEqual({
      ok: true,
      value: { kind: 'configComplete', id: 4242 },
    });
    expect(parseFromRadio(fr({ payloadVariant: { case: 'rebooted', value: true } }))).toEqual({
      ok: true,
      value: { kind: 'other', case: 'rebooted' },
    });
    expect(parseFromRadio(fr({ payloadVariant: { case: 'logRecord', value: { message: 'hi' } } }))).toEqual({
      ok: true,
      value: { kind: 'other', case: 'logRecord' },
    });
  });

  it('node_info becomes a contract NodeDbEntry: names, role 0, zero battery, degrees', () => {
    const r = parseFromRadio(
      fr({
        payloadVariant: {
          case: 'nodeInfo',
          value: {
            num: 0xfa68b678,
            snr: 0,
            lastHeard: 1_752_573_451,
            hopsAway: 0,
            viaMqtt: false,
            user: {
              id: '!fa68b678',
              longName: '<script>x</script> \u{1F4E1}',
              shortName: 'P2\u0000\u0000',
              hwModel: 44,
              role: 0,
            },
            position: { latitudeI: 525_000_000, longitudeI: 134_000_000, altitude: 0 },
            deviceMetrics: { batteryLevel: 0, voltage: 3.7, channelUtilization: 0, airUtilTx: 0, uptimeSeconds: 10 },
          },
        },
      }),
    );
    if (!r.ok || r.value.kind !== 'nodeInfo') throw new Error('no nodeInfo');
    const e = r.value.entry;
    expect(e.num).toBe(0xfa68b678);
    expect(e.user).toMatchObject({
      longName: '<script>x</script> \u{1F4E1}',
      shortName: 'P2\u0000\u0000',
      hwModel: 44,
      role: 0,
    });
    expect(e.position).toMatchObject({ latitude: 52.5, longitude: 13.4, altitude: 0 });
    expect(e.deviceMetrics).toMatchObject({ batteryLevel: 0, channelUtilization: 0, uptimeSeconds: 10 });
    expect(e.snr).toBe(0);
    expect(e.hopsAway).toBe(0);
    const snapshot = { v: 1, kind: 'nodedb', site: 's', agent: 'a', takenAt: 1, reason: 'connect', nodes: [e] };
    expect(validateEvent(snapshot)).toMatchObject({ ok: true });
  });

  it('a node_info whose name was cut inside a character still parses (and passes the deframer check)', async () => {
    const { isFromRadio } = await import('@mmm/meshtastic');
    const user = Uint8Array.of(0x12, 0x03, 0x41, 0xe2, 0x80); // long_name "A" + a cut 3-byte char
    const info = Uint8Array.of(0x08, 0x07, 0x12, user.length, ...user);
    const bytes = Uint8Array.of(0x22, info.length, ...info); // FromRadio.node_info = 4
    expect(isFromRadio(bytes)).toBe(true);
    const r = parseFromRadio(bytes);
    if (!r.ok || r.value.kind !== 'nodeInfo') throw new Error(JSON.stringify(r));
    expect(r.value.entry.user?.longName).toBe('A\ufffd');
  });

  it('a node_info with NaN floats still makes a valid node DB entry', () => {
    const r = parseFromRadio(
      fr({
        payloadVariant: {
          case: 'nodeInfo',
          value: { num: 3, snr: Number.NaN, deviceMetrics: { voltage: Number.POSITIVE_INFINITY, batteryLevel: 0 } },
        },
      }),
    );
    if (!r.ok || r.value.kind !== 'nodeInfo') throw new Error('no nodeInfo');
    expect(r.value.entry.snr).toBeUndefined();
    expect(r.value.entry.deviceMetrics).toMatchObject({ voltage: null, batteryLevel: 0 });
    const snapshot = {
      v: 1,
      kind: 'nodedb',
      site: 's',
      agent: 'a',
      takenAt: 1,
      reason: 'connect',
      nodes: [r.value.entry],
    };
    expect(validateEvent(snapshot)).toMatchObject({ ok: true });
  });

  it('garbage and empty frames are errors, never throws', () => {
    expect(parseFromRadio(Uint8Array.of(0xff, 0xff, 0xff)).ok).toBe(false);
    expect(parseFromRadio(new Uint8Array(0))).toEqual({ ok: false, error: 'FromRadio carries no payload variant' });
    expect(parseFromRadio(Buffer.from('DEBUG | ??:??:?? 3 [Router] Received text msg')).ok).toBe(false);
  });
});
