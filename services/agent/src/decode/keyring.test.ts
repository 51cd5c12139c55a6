import { ChannelKeyError, channelHash, DEFAULT_KEY } from '@mmm/meshtastic';
import { describe, expect, it } from 'vitest';
import { ChannelKeyring } from './keyring.js';

describe('ChannelKeyring', () => {
  it('holds the default key under every preset channel name, so LongFast (8) and MediumFast (31) match', () => {
    const k = new ChannelKeyring();
    expect(k.candidates(8).map((c) => c.name)).toContain('LongFast');
    expect(k.candidates(31).map((c) => c.name)).toContain('MediumFast');
    expect(k.candidates(channelHash('ShortTurbo', DEFAULT_KEY)).map((c) => c.name)).toContain('ShortTurbo');
  });
  it('accepts base64 or bytes, 1/16/32-byte PSKs, and tries user channels before the defaults', () => {
    const k = new ChannelKeyring([{ name: 'LongFast', psk: 'AQ==' }]);
    expect(k.candidates(8).filter((c) => c.name === 'LongFast')).toHaveLength(1); // same key: not added twice
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    k.add('Big', Buffer.from(key).toString('base64'));
    const h = channelHash('Big', key);
    expect(k.candidates(h)[0]).toMatchObject({ name: 'Big', hash: h });
    // "AQ==" index 2 = default key with the last byte + 1: a different key, a different hash.
    k.add('LongFast', Uint8Array.of(2));
    const two = Uint8Array.from(DEFAULT_KEY);
    two[15]! += 1;
    expect(k.candidates(channelHash('LongFast', two))[0]?.name).toBe('LongFast');
  });
  it('ignores "no encryption" PSKs and rejects bad ones with a named error', () => {
    const k = new ChannelKeyring();
    const before = k.all().length;
    k.add('Open', new Uint8Array(0));
    k.add('Open', 'AA==');
    expect(k.all()).toHaveLength(before);
    expect(() => k.add('Bad', 'abc')).toThrow(ChannelKeyError);
    expect(() => k.add('Bad', 'not base64!')).toThrow(/not valid base64/);
    expect(() => k.add('Bad', Uint8Array.of(1, 2, 3))).toThrow(/0, 1, 16 or 32 bytes/);
  });
  it('files an unnamed channel (the radio reports its primary without a name) under the preset names', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => 200 - i);
    const k = new ChannelKeyring();
    k.add('', key);
    expect(k.candidates(channelHash('MediumFast', key)).map((c) => c.name)).toContain('MediumFast');
    expect(k.candidates(channelHash('LongFast', key)).map((c) => c.name)).toContain('LongFast');
    expect(k.all().some((c) => c.name === '')).toBe(false);
  });
});
