import { create, Mesh, toBinary } from '@mmm/meshtastic';
import { type Reception, SCHEMA_VERSION, validateEvent } from '@mmm/schemas';
import type { DecodeContext } from './context.js';
import { decryptPacket } from './decrypt.js';
import { dataHeader, packetHeader } from './header.js';
import { decodePayload, type JsonObject, otherPayload } from './payload.js';

type Body = Pick<Reception, 'encryption'> & {
  port: Reception['port'];
  payload: JsonObject;
  data?: ReturnType<typeof dataHeader>;
  channelName?: string;
  /** The Data payload bytes (decrypted if need be), for the `other` fallback. */
  bytes: Uint8Array;
};

function body(packet: Mesh.MeshPacket, ctx: DecodeContext): Body {
  const v = packet.payloadVariant;
  if (v.case === 'decoded') {
    const d = v.value;
    return { encryption: 'none', data: dataHeader(d), bytes: d.payload, ...decodePayload(d.portnum, d.payload) };
  }
  if (v.case === 'encrypted') {
    const res = decryptPacket(packet, v.value, ctx.keys);
    if (!res.ok) {
      const payload = { channelHash: res.channelHash, reason: res.reason };
      return { encryption: 'undecryptable', port: 'encrypted', payload, bytes: new Uint8Array(0) };
    }
    return {
      encryption: 'decrypted',
      channelName: res.channelName,
      data: dataHeader(res.data),
      bytes: res.data.payload,
      ...decodePayload(res.data.portnum, res.data.payload),
    };
  }
  const payload = otherPayload(0, new Uint8Array(0), 'packet has neither a decoded nor an encrypted payload');
  return { encryption: 'none', port: 'other', payload, bytes: new Uint8Array(0) };
}

/**
 * Turns one received MeshPacket into a contract Reception. Never throws: a payload that does not parse, or an event
 * that would not validate (e.g. a newer firmware's surprise), becomes port `other` with `payload.error`, and the
 * raw bytes always ride along so nothing is lost.
 */
export function receptionFromPacket(packet: Mesh.MeshPacket, raw: Uint8Array, ctx: DecodeContext): Reception {
  const bytes = raw.length > 0 ? raw : safeEncode(packet);
  const b = safeBody(packet, ctx);
  const event: Record<string, unknown> = {
    v: SCHEMA_VERSION,
    kind: 'reception',
    site: ctx.site,
    agent: ctx.agent,
    receivedAt: Math.max(0, Math.trunc(ctx.receivedAt)),
    source: ctx.source,
    port: b.port,
    packet: packetHeader(packet),
    encryption: b.encryption,
    ...(b.data ? { data: b.data } : {}),
    payload: b.payload,
    ...(b.channelName !== undefined ? { channelName: b.channelName } : {}),
    ...(ctx.gatewayId ? { gatewayId: ctx.gatewayId } : {}),
    raw: Buffer.from(bytes).toString('base64'),
  };
  const check = validateEvent(event);
  // Only a payload can surprise us; an envelope error (a bad site id) is the caller's and is left for it to see.
  if (check.ok || event.port === 'other' || !check.error.startsWith('/payload')) return event as Reception;
  // The payload broke the contract: keep the packet, explain why, and let the bytes carry the content.
  const portnum = b.data?.portnum ?? 0;
  event.port = 'other';
  event.payload = otherPayload(portnum, b.bytes, `${b.port} payload breaks the contract: ${check.error}`);
  return event as Reception;
}

function safeBody(packet: Mesh.MeshPacket, ctx: DecodeContext): Body {
  try {
    return body(packet, ctx);
  } catch (err) {
    const payload = otherPayload(0, new Uint8Array(0), `packet could not be decoded: ${(err as Error).message}`);
    return { encryption: 'none', port: 'other', payload, bytes: new Uint8Array(0) };
  }
}

function safeEncode(packet: Mesh.MeshPacket): Uint8Array {
  try {
    return toBinary(Mesh.MeshPacketSchema, create(Mesh.MeshPacketSchema, packet));
  } catch {
    return new Uint8Array(0);
  }
}
