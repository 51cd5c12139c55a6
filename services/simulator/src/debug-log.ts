import type { Mesh } from '@mmm/meshtastic';

const utf8 = new TextEncoder();

/** A line as the firmware's serial console logs a received packet. */
export function debugLine(pkt: Mesh.MeshPacket, name: string | undefined, nowMs: number): Uint8Array {
  const t = new Date(nowMs).toISOString().slice(11, 19);
  const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
  return utf8.encode(
    `DEBUG | ${t} [Router] Received from=${hex(pkt.from)} (${name ?? '?'}) id=${hex(pkt.id)} hopLim=${pkt.hopLimit} rxSNR=${pkt.rxSnr} rxRSSI=${pkt.rxRssi}\r\n`,
  );
}
