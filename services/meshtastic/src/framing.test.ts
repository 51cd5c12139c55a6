import { create, toBinary } from '@bufbuild/protobuf';
import { Mesh } from '@meshtastic/protobufs';
import { describe, expect, it } from 'vitest';
import { Deframer, encodeFrame, type Frame, FrameTooLargeError } from './framing.js';
import { isFromRadio } from './validate.js';

const packets = (frames: Frame[]) =>
  frames.filter((f) => f.type === 'packet').map((f) => Buffer.from((f as { payload: Uint8Array }).payload));
const debugText = (frames: Frame[]) =>
  frames
    .filter((f) => f.type === 'debug')
    .map((f) => (f as { text: string }).text)
    .join('');

function fromRadioText(id: number, text: string): Uint8Array {
  return toBinary(
    Mesh.FromRadioSchema,
    create(Mesh.FromRadioSchema, {
      id,
      payloadVariant: {
        case: 'packet',
        value: {
          from: 0xbeef,
          to: 0xffffffff,
          id,
          payloadVariant: { case: 'decoded', value: { portnum: 1, payload: new TextEncoder().encode(text) } },
        },
      },
    }),
  );
}

describe('Deframer', () => {
  it('keeps payloads that contain the start bytes 0x94 0xC3', () => {
    const payload = new TextEncoder().encode('caf\u00e9 \u2014\u00e9t\u00e9'); // e2 80 94 c3 a9 ...
    const d = new Deframer();
    const frames = d.push(Buffer.concat([encodeFrame(payload), encodeFrame(Uint8Array.of(1, 2, 3))]));
    expect(frames).toEqual([
      { type: 'packet', payload },
      { type: 'packet', payload: Uint8Array.of(1, 2, 3) },
    ]);
  });

  it('returns text between frames as debug and reassembles split frames', () => {
    const d = new Deframer();
    const wire = Buffer.concat([Buffer.from('DEBUG | boot\r\n'), encodeFrame(Uint8Array.of(9, 8, 7, 6))]);
    const out = [...d.push(wire.subarray(0, 16)), ...d.push(wire.subarray(16))];
    expect(out).toEqual([
      { type: 'debug', text: 'DEBUG | boot\r\n' },
      { type: 'packet', payload: Uint8Array.of(9, 8, 7, 6) },
    ]);
    expect(d.buffered).toBe(0);
  });

  it('gives the same frames for every split point and for one byte at a time', () => {
    const payloads = [
      fromRadioText(1, 'a\u2014\u00e9b'),
      Uint8Array.of(0x94, 0xc3, 0x00, 0x01),
      new Uint8Array(0),
      fromRadioText(2, 'x'.repeat(200)),
    ];
    const wire = Buffer.concat([
      Buffer.from('noise \x94 \x94\xc3\x7f\xff ', 'latin1'),
      ...payloads.flatMap((p) => [encodeFrame(p), Buffer.from('INFO | x\r\n')]),
    ]);
    const expected = payloads.map((p) => Buffer.from(p));
    for (let i = 0; i <= wire.length; i++) {
      const d = new Deframer();
      expect(packets([...d.push(wire.subarray(0, i)), ...d.push(wire.subarray(i))]), `split at ${i}`).toEqual(expected);
    }
    const d = new Deframer();
    const out: Frame[] = [];
    for (const b of wire) out.push(...d.push(Uint8Array.of(b)));
    expect(packets(out)).toEqual(expected);
    expect(debugText(out)).toContain('INFO | x');
  });

  it('skips headers announcing more than 512 bytes', () => {
    const d = new Deframer();
    const good = fromRadioText(3, 'after');
    const out = d.push(Buffer.concat([Uint8Array.of(0x94, 0xc3, 0x02, 0x01), Buffer.from('junk'), encodeFrame(good)]));
    expect(packets(out)).toEqual([Buffer.from(good)]);
    expect(d.discarded).toBe(8);
  });

  it('a plausible false header in debug text swallows real frames without a validator, not with isFromRadio', () => {
    const real = [fromRadioText(10, 'one'), fromRadioText(11, 'two'), fromRadioText(12, 'three')];
    // "\x94\xc3\x00\x60" inside a log line announces 96 bytes: the real frames that follow fit in it.
    const wire = Buffer.concat([
      Buffer.from('WARN | bad byte \x94\xc3\x00\x60 in line\r\n', 'latin1'),
      ...real.map((p) => encodeFrame(p)),
      Buffer.alloc(120, 0x2e),
    ]);
    const naive = packets(new Deframer().push(wire));
    expect(naive).not.toEqual(real.map((p) => Buffer.from(p)));
    const d = new Deframer({ validate: isFromRadio });
    expect(packets(d.push(wire))).toEqual(real.map((p) => Buffer.from(p)));
    expect(d.rejected).toBeGreaterThan(0);
  });

  it('with isFromRadio, line noise full of plausible headers costs no real frame (seeded, 3,000 frames)', () => {
    let seed = 0x1234567;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const real = Array.from({ length: 3000 }, (_, i) =>
      fromRadioText(i + 1, `msg ${i} caf\u00e9 \u2014\u00e9t\u00e9`.repeat(1 + (i % 4))),
    );
    const parts: Uint8Array[] = [];
    for (const p of real) {
      if (rand() < 0.5) {
        const noise = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => Math.floor(rand() * 256));
        noise.push(0x94, 0xc3, Math.floor(rand() * 2), Math.floor(rand() * 256)); // a plausible header
        parts.push(Uint8Array.from(noise));
      }
      parts.push(encodeFrame(p));
    }
    const wire = Buffer.concat(parts);
    const d = new Deframer({ validate: isFromRadio });
    const out: Frame[] = [];
    for (let at = 0; at < wire.length; ) {
      const n = 1 + Math.floor(rand() * 700);
      out.push(...d.push(wire.subarray(at, at + n)));
      at += n;
    }
    while (d.buffered > 0) out.push(...d.dropPending());
    expect(packets(out)).toEqual(real.map((p) => Buffer.from(p)));
    expect(d.rejected).toBeGreaterThan(1200);
  });

  it('dropPending gives up on a false start that never completes and returns the frames behind it', () => {
    const real = fromRadioText(20, 'quiet link');
    const d = new Deframer({ validate: isFromRadio });
    const first = d.push(Buffer.concat([Buffer.from('log \x94\xc3\x01\xf0 ', 'latin1'), encodeFrame(real)]));
    expect(packets(first)).toEqual([]); // waiting for 496 bytes that will not come
    expect(packets(d.dropPending())).toEqual([Buffer.from(real)]);
    expect(d.buffered).toBe(0);
    expect(d.dropPending()).toEqual([]);
  });

  it('treats a validator that throws as a rejection', () => {
    const d = new Deframer({
      validate: () => {
        throw new Error('boom');
      },
    });
    expect(packets(d.push(encodeFrame(Uint8Array.of(1, 2))))).toEqual([]);
    expect(d.rejected).toBe(1);
  });

  it('refuses to encode more than 512 bytes', () => {
    expect(() => encodeFrame(new Uint8Array(513))).toThrow(FrameTooLargeError);
    expect(encodeFrame(new Uint8Array(512))).toHaveLength(516);
  });
});

describe('isFromRadio', () => {
  it('accepts FromRadio messages, including variants newer firmware may add', () => {
    expect(isFromRadio(fromRadioText(1, 'x'))).toBe(true);
    expect(isFromRadio(Uint8Array.of(0x38, 0x01))).toBe(true); // config_complete_id = 1
    expect(isFromRadio(Uint8Array.of(0xa0, 0x01, 0x05))).toBe(true); // field 20, varint: a future variant
  });
  it('rejects debug text, empty frames and garbage', () => {
    expect(isFromRadio(new Uint8Array(0))).toBe(false);
    expect(isFromRadio(Buffer.from('INFO  | 12:00:01 123 [Router] Lora RX (id=0x1234 fr=0xbeef)\r\n'))).toBe(false);
    expect(isFromRadio(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toBe(false);
    expect(isFromRadio(Uint8Array.of(0x08, 0x05))).toBe(false); // only an id, no variant
    expect(isFromRadio(Uint8Array.of(0x38, 0x01, 0x40, 0x01))).toBe(false); // two variants: never sent by firmware
    expect(isFromRadio(Uint8Array.of(0x3a, 0x00))).toBe(false); // config_complete_id with the wrong wire type
    expect(isFromRadio(Uint8Array.of(0x12, 0x7f, 0x08))).toBe(false); // a length running past the end
  });
});
