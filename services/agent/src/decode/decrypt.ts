import { fromBinary, Mesh, Portnums, xcrypt } from '@mmm/meshtastic';
import type { ChannelKeyring } from './keyring.js';

export type DecryptOutcome =
  | { ok: true; data: Mesh.Data; channelName: string }
  | { ok: false; channelHash: number; reason: string };

/** A wrong key yields bytes that rarely parse as Data, and when they do, the port number is nonsense. */
function plausibleData(plain: Uint8Array): Mesh.Data | undefined {
  try {
    const data = fromBinary(Mesh.DataSchema, plain);
    if (data.portnum === 0 || Portnums.PortNum[data.portnum] === undefined) return undefined;
    return data;
  } catch {
    return undefined;
  }
}

/**
 * Decrypts a channel-encrypted packet with the keys whose channel hash matches MeshPacket.channel. Packets
 * encrypted to one node's public key (PKI direct messages) cannot be decrypted by a monitor.
 */
export function decryptPacket(packet: Mesh.MeshPacket, ciphertext: Uint8Array, keys: ChannelKeyring): DecryptOutcome {
  const channelHash = packet.channel >>> 0;
  if (packet.pkiEncrypted) return { ok: false, channelHash, reason: 'PKI-encrypted direct message' };
  const candidates = keys.candidates(channelHash);
  if (candidates.length === 0) return { ok: false, channelHash, reason: `no key for channel hash ${channelHash}` };
  for (const k of candidates) {
    const data = plausibleData(xcrypt(k.key, packet.id, packet.from, ciphertext));
    if (data) return { ok: true, data, channelName: k.name };
  }
  const names = candidates.map((k) => k.name).join(', ');
  return {
    ok: false,
    channelHash,
    reason: `no key for channel hash ${channelHash} yields valid Data (tried ${names})`,
  };
}
