import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Mesh } from '@meshtastic/protobufs';
import { describe, expect, it } from 'vitest';
import { fromBinaryLenient, repairUtf8 } from './utf8-repair.js';

// A User whose long_name was cut inside a 4-byte emoji, as firmware byte limits can do: 'Ab' + F0 9F 93 (no last byte).
const cutUser = Uint8Array.of(
  0x0a,
  0x02,
  0x21,
  0x61,
  0x12,
  0x05,
  0x41,
  0x62,
  0xf0,
  0x9f,
  0x93,
  0x1a,
  0x01,
  0x53,
  0x28,
  0x09,
);

describe('fromBinaryLenient', () => {
  it('keeps a message whose string was cut inside a multi-byte character', () => {
    expect(() => fromBinary(Mesh.UserSchema, cutUser)).toThrow(/utf-8/i);
    const u = fromBinaryLenient(Mesh.UserSchema, cutUser);
    expect(u).toMatchObject({ id: '!a', longName: 'Ab\ufffd', shortName: 'S', hwModel: 9 });
  });
  it('repairs strings inside nested messages and repeated fields, keeps unknown fields', () => {
    const info = toBinary(Mesh.NodeInfoSchema, create(Mesh.NodeInfoSchema, { num: 5, snr: 1.5 }));
    const userField = Uint8Array.of(0x12, cutUser.length, ...cutUser); // NodeInfo.user = 2
    const unknown = Uint8Array.of(0xf8, 0x07, 0x01); // field 127, varint 1
    const bytes = Uint8Array.from([...info, ...userField, ...unknown]);
    const n = fromBinaryLenient(Mesh.NodeInfoSchema, bytes);
    expect(n.num).toBe(5);
    expect(n.user?.longName).toBe('Ab\ufffd');
    expect(n.$unknown?.[0]?.no).toBe(127);
    const again = repairUtf8(Mesh.NodeInfoSchema, repairUtf8(Mesh.NodeInfoSchema, bytes));
    expect(fromBinary(Mesh.NodeInfoSchema, again).user?.longName).toBe('Ab\ufffd');
  });
  it('still throws for bytes that are broken in other ways', () => {
    expect(() => fromBinaryLenient(Mesh.UserSchema, Uint8Array.of(0xff, 0xff))).toThrow();
    expect(() => fromBinaryLenient(Mesh.UserSchema, Uint8Array.of(0x12, 0x05, 0xf0))).toThrow();
  });
});
