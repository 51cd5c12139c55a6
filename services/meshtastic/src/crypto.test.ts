import { describe, expect, it } from 'vitest';
import { channelHash, DEFAULT_KEY, expandPsk, xcrypt } from './crypto.js';

describe('channel crypto', () => {
  it('computes the firmware channel hashes of the default channels', () => {
    expect(channelHash('LongFast', DEFAULT_KEY)).toBe(8);
    expect(channelHash('MediumFast', DEFAULT_KEY)).toBe(31);
  });
  it('expands the one-byte default PSK and round-trips AES-CTR', () => {
    expect(Buffer.from(expandPsk(Uint8Array.of(1))!)).toEqual(DEFAULT_KEY);
    const plain = new TextEncoder().encode('hello mesh');
    const enc = xcrypt(DEFAULT_KEY, 0x1234abcd, 0xdeadbeef, plain);
    expect(Buffer.from(enc)).not.toEqual(Buffer.from(plain));
    expect(xcrypt(DEFAULT_KEY, 0x1234abcd, 0xdeadbeef, enc)).toEqual(plain);
  });
});
