import { describe, expect, it } from 'vitest';
import { Deframer, encodeFrame, type Frame, MAX_FRAME_PAYLOAD } from './framing.js';

/** mulberry32: small, fast, seeded, so a failure replays exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the body; the last 4 bytes of a fuzz payload carry it, standing in for "parses as FromRadio". */
function fnv(b: Uint8Array, end: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}
const valid = (p: Uint8Array): boolean => {
  if (p.length < 4) return false;
  const n = p.length - 4;
  return ((p[n]! << 24) | (p[n + 1]! << 16) | (p[n + 2]! << 8) | p[n + 3]!) >>> 0 === fnv(p, n);
};

const DEBUG_LINES = [
  'INFO  | 12:00:01 4242 [Router] Received routing from=0xbeef, id=0x1234\r\n',
  'DEBUG | ??:??:?? 7 [RadioIf] Lora RX (id=0x5678 fr=0x94c3 to=0xffffffff)\r\n',
  'WARN  | 12:00:02 4243 [Power] Battery low \u2014 3.3 V\r\n',
];

describe('Deframer fuzz', () => {
  it('1,000,000 random frames with noise between them, in random chunks: no crash, no lost or invented frame', () => {
    const rand = prng(0x5eed_94c3);
    const int = (n: number) => Math.floor(rand() * n);
    const d = new Deframer({ validate: valid });
    const TOTAL = 1_000_000;
    const BATCH = 20_000;
    let received = 0;
    let mismatches = 0;
    let noiseBytes = 0;
    let fakeHeaders = 0;
    let expected: Buffer[] = [];
    let next = 0;
    const take = (frames: Frame[]) => {
      for (const f of frames) {
        if (f.type !== 'packet') continue;
        if (next >= expected.length || !expected[next]!.equals(f.payload)) mismatches++;
        next++;
        received++;
      }
    };
    const noise = (): Buffer => {
      const kind = int(6);
      if (kind === 0) return Buffer.from(DEBUG_LINES[int(DEBUG_LINES.length)]!, 'latin1');
      if (kind === 1) {
        fakeHeaders++; // a plausible header in the noise: its announced bytes cover the real frames that follow
        return Buffer.from([0x94, 0xc3, int(2), int(256)]);
      }
      if (kind === 2) return Buffer.from([0x94, 0xc3, 0x02 + int(0xfd), int(256)]); // oversize length
      if (kind === 3) return Buffer.from([0x94]);
      return Buffer.from(Array.from({ length: 1 + int(40) }, () => (rand() < 0.2 ? 0x94 : int(256))));
    };
    for (let made = 0; made < TOTAL; made += BATCH) {
      const parts: Buffer[] = [];
      const batch: Buffer[] = [];
      for (let i = 0; i < BATCH; i++) {
        const len = rand() < 0.02 ? 4 + int(MAX_FRAME_PAYLOAD - 3) : 4 + int(60);
        const p = Buffer.allocUnsafe(len);
        for (let j = 0; j < len - 4; j++) p[j] = rand() < 0.05 ? (j % 2 ? 0xc3 : 0x94) : int(256);
        p.writeUInt32BE(fnv(p, len - 4), len - 4);
        batch.push(p);
        if (rand() < 0.3) {
          const n = noise();
          noiseBytes += n.length;
          parts.push(n);
        }
        parts.push(Buffer.from(encodeFrame(p)));
      }
      // Frames not yet delivered from the previous batch stay expected.
      expected = [...expected.slice(next), ...batch];
      next = 0;
      const wire = Buffer.concat(parts);
      for (let at = 0; at < wire.length; ) {
        const size = 1 + int(rand() < 0.1 ? 4096 : 300);
        take(d.push(wire.subarray(at, at + size)));
        at += size;
      }
    }
    while (d.buffered > 0) take(d.dropPending());
    expect(mismatches).toBe(0);
    expect(received).toBe(TOTAL);
    expect(fakeHeaders).toBeGreaterThan(10_000);
    expect(d.discarded).toBe(noiseBytes);
  }, 120_000);
});
