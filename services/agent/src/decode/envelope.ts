import { fromBinary, fromBinaryLenient, Mesh, Mqtt, rawField } from '@mmm/meshtastic';
import type { Reception, Result } from '@mmm/schemas';
import type { DecodeContext } from './context.js';
import { receptionFromPacket } from './reception.js';

const ENVELOPE_PACKET_FIELD = 1;

/** A MeshPacket protobuf (radio, UDP multicast, replay). */
export function decodeMeshPacketBytes(bytes: Uint8Array, ctx: DecodeContext): Result<Reception> {
  let packet: Mesh.MeshPacket;
  try {
    packet = fromBinary(Mesh.MeshPacketSchema, bytes);
  } catch (err) {
    return { ok: false, error: `not a MeshPacket: ${(err as Error).message}` };
  }
  return { ok: true, value: receptionFromPacket(packet, bytes, ctx) };
}

/** A parsed ServiceEnvelope: its packet, the packet's bytes as received, and the names the gateway put beside it. */
export interface ServiceEnvelopeParts {
  packet: Mesh.MeshPacket;
  /** The MeshPacket bytes exactly as inside the envelope. */
  raw: Uint8Array;
  channelId: string;
  gatewayId: string;
}

/** Parses an MQTT ServiceEnvelope without decoding its packet (the MQTT bridge checks channel and gateway first). */
export function readServiceEnvelope(bytes: Uint8Array): Result<ServiceEnvelopeParts> {
  let env: Mqtt.ServiceEnvelope;
  try {
    env = fromBinaryLenient(Mqtt.ServiceEnvelopeSchema, bytes);
  } catch (err) {
    return { ok: false, error: `not a ServiceEnvelope: ${(err as Error).message}` };
  }
  if (!env.packet) return { ok: false, error: 'ServiceEnvelope carries no packet' };
  const raw = rawField(bytes, ENVELOPE_PACKET_FIELD) ?? new Uint8Array(0);
  return { ok: true, value: { packet: env.packet, raw, channelId: env.channelId, gatewayId: env.gatewayId } };
}

/** An MQTT ServiceEnvelope (`msh/…/2/e/<channel>/<gateway>` payload): source `mqtt`, gatewayId from the envelope. */
export function decodeServiceEnvelope(
  bytes: Uint8Array,
  ctx: Omit<DecodeContext, 'source' | 'gatewayId'>,
): Result<Reception> {
  const env = readServiceEnvelope(bytes);
  if (!env.ok) return env;
  const { packet, raw, gatewayId } = env.value;
  const full: DecodeContext = { ...ctx, source: 'mqtt', ...(gatewayId ? { gatewayId } : {}) };
  return { ok: true, value: receptionFromPacket(packet, raw, full) };
}
