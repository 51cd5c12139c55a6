import type { Mesh } from '@mmm/meshtastic';
import type { DataHeader, PacketHeader } from '@mmm/schemas';

const finite = (n: number): number => (Number.isFinite(n) ? n : 0);
const u32 = (n: number): number => n >>> 0;

/** MeshPacket header, wire names, every field present: zero stays zero (the radio leaves unset fields at zero). */
export function packetHeader(p: Mesh.MeshPacket): PacketHeader {
  return {
    from: u32(p.from),
    to: u32(p.to),
    id: u32(p.id),
    channel: u32(p.channel),
    rxTime: u32(p.rxTime),
    rxSnr: finite(p.rxSnr),
    rxRssi: p.rxRssi | 0,
    hopStart: u32(p.hopStart),
    hopLimit: u32(p.hopLimit),
    relayNode: u32(p.relayNode),
    nextHop: u32(p.nextHop),
    wantAck: p.wantAck,
    viaMqtt: p.viaMqtt,
    priority: p.priority | 0,
    pkiEncrypted: p.pkiEncrypted,
  };
}

/** meshtastic.Data minus its payload. */
export function dataHeader(d: Mesh.Data): DataHeader {
  const h: DataHeader = {
    portnum: d.portnum | 0,
    wantResponse: d.wantResponse,
    dest: u32(d.dest),
    source: u32(d.source),
    requestId: u32(d.requestId),
    replyId: u32(d.replyId),
    emoji: u32(d.emoji),
  };
  if (d.bitfield !== undefined) h.bitfield = u32(d.bitfield);
  return h;
}
