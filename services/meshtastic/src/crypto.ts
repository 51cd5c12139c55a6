import { createCipheriv } from 'node:crypto';

/** The firmware's default channel key; a PSK of the single byte 0x01 ("AQ==") expands to it. */
export const DEFAULT_KEY = Buffer.from('1PG7OiApB1nwvP+rz05pAQ==', 'base64');

export class ChannelKeyError extends Error {
  override readonly name = 'ChannelKeyError';
}

/**
 * Expands a channel PSK as the firmware does: empty = no encryption, one byte N (1..10) = the default key with its
 * last byte increased by N-1, 16 or 32 bytes = AES-128/256 key.
 */
export function expandPsk(psk: Uint8Array): Uint8Array | undefined {
  if (psk.length === 0) return undefined;
  if (psk.length === 1) {
    const idx = psk[0]!;
    if (idx === 0) return undefined;
    const key = Uint8Array.from(DEFAULT_KEY);
    key[15] = (key[15]! + idx - 1) & 0xff;
    return key;
  }
  if (psk.length === 16 || psk.length === 32) return psk;
  throw new ChannelKeyError(`channel key must be 0, 1, 16 or 32 bytes, got ${psk.length}`);
}

/** Parses a base64 PSK (as the Meshtastic apps show it) into an AES key. */
export function keyFromBase64(b64: string): Uint8Array {
  const raw = Buffer.from(b64, 'base64');
  if (raw.toString('base64').replace(/=+$/, '') !== b64.trim().replace(/=+$/, '')) {
    throw new ChannelKeyError(`channel key ${JSON.stringify(b64)} is not valid base64`);
  }
  const key = expandPsk(raw);
  if (!key) throw new ChannelKeyError('channel key is empty (no encryption)');
  return key;
}

/** AES-CTR with the firmware's nonce: packet id (8 bytes LE), sender (4 bytes LE), 4 zero bytes. Symmetric. */
export function xcrypt(key: Uint8Array, packetId: number, from: number, data: Uint8Array): Uint8Array {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64LE(BigInt(packetId >>> 0), 0);
  iv.writeUInt32LE(from >>> 0, 8);
  const algo = key.length === 32 ? 'aes-256-ctr' : 'aes-128-ctr';
  const c = createCipheriv(algo, key, iv);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

/** Channel hash carried in MeshPacket.channel of encrypted packets: XOR of the name's bytes and the key's bytes. */
export function channelHash(name: string, key: Uint8Array): number {
  let h = 0;
  for (const b of Buffer.from(name, 'utf8')) h ^= b;
  for (const b of key) h ^= b;
  return h & 0xff;
}
