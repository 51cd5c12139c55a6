import { ChannelKeyError, channelHash, DEFAULT_KEY, expandPsk, PRESET_CHANNEL_NAMES } from '@mmm/meshtastic';

/** One channel key, expanded to its AES key, with the hash the firmware puts in MeshPacket.channel. */
export interface ChannelKey {
  readonly name: string;
  readonly key: Uint8Array;
  readonly hash: number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function pskBytes(psk: Uint8Array | string): Uint8Array {
  if (typeof psk !== 'string') return psk;
  const s = psk.trim();
  if (!BASE64.test(s) || s.replace(/=+$/, '').length % 4 === 1) {
    throw new ChannelKeyError(`channel key ${JSON.stringify(psk)} is not valid base64`);
  }
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/**
 * The channel keys a decoder tries. The firmware's default key is always present under every preset channel name
 * (LongFast, MediumFast, …), because an unnamed primary channel goes by its preset's name on the air. Keys are
 * looked up by channel hash; several keys may share a hash, and the decoder tries each until one yields valid Data.
 */
export class ChannelKeyring {
  private readonly byHash = new Map<number, ChannelKey[]>();
  private readonly defaults: ChannelKey[] = [];

  constructor(keys: readonly { name: string; psk: Uint8Array | string }[] = []) {
    for (const name of Object.values(PRESET_CHANNEL_NAMES)) this.insert(name, DEFAULT_KEY, this.defaults);
    for (const k of keys) this.add(k.name, k.psk);
  }

  /**
   * Adds a channel key (raw PSK bytes or base64, as the apps show it: 1, 16 or 32 bytes). A PSK of zero length or
   * the byte 0 means "no encryption" and adds nothing. An empty name stands for the preset name of an unnamed channel.
   * Throws ChannelKeyError for any other length or bad base64.
   */
  add(name: string, psk: Uint8Array | string): void {
    const key = expandPsk(pskBytes(psk));
    if (!key) return;
    if (name !== '') {
      this.insert(name, key);
      return;
    }
    // An unnamed channel (the radio's primary, as it reports it) goes by its modem preset's name on the air, so the
    // key is filed under each preset name; only the preset in use can match a packet's hash and yield valid Data.
    for (const preset of Object.values(PRESET_CHANNEL_NAMES)) this.insert(preset, key);
  }

  /** Keys whose hash matches, channels added by the user first, then the built-in default channels. */
  candidates(hash: number): readonly ChannelKey[] {
    return this.byHash.get(hash & 0xff) ?? [];
  }

  /** Every key, for diagnostics. */
  all(): ChannelKey[] {
    return [...this.byHash.values()].flat();
  }

  private insert(name: string, key: Uint8Array, defaults?: ChannelKey[]): void {
    const hash = channelHash(name, key);
    const list = this.byHash.get(hash) ?? [];
    const same = list.findIndex((k) => k.name === name && Buffer.compare(Buffer.from(k.key), Buffer.from(key)) === 0);
    if (same >= 0) return;
    const entry: ChannelKey = { name, key: Uint8Array.from(key), hash };
    if (defaults) {
      defaults.push(entry);
      list.push(entry);
    } else {
      // User channels go before the built-in defaults sharing their hash.
      const firstDefault = list.findIndex((k) => this.defaults.includes(k));
      list.splice(firstDefault < 0 ? list.length : firstDefault, 0, entry);
    }
    this.byHash.set(hash, list);
  }
}
