import { describe, expect, it } from 'vitest';
import { Deframer, encodeFrame } from './framing.js';

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
});
