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

/** An MQTT ServiceEnvelope (`msh/…/2/e/<channel>/<gateway>` payload): source `mqtt`, gatewayId from the envelope. */
export function decodeServiceEnvelope(
  bytes: Uint8Array,
  ctx: Omit<DecodeContext, 'source' | 'gatewayId'>,
): Result<Reception> {
  let env: Mqtt.ServiceEnvelope;
  try {
    env = fromBinaryLenient(Mqtt.ServiceEnvelopeSchema, bytes);
  } catch (err) {
    return { ok: false, error: `not a ServiceEnvelope: ${(err as Error).message}` };
  }
  if (!env.packet) return { ok: false, error: 'ServiceEnvelope carries no packet' };
  const raw = rawField(bytes, ENVELOPE_PACKET_FIELD) ?? new Uint8Array(0);
  const full: DecodeContext = { ...ctx, source: 'mqtt', ...(env.gatewayId ? { gatewayId: env.gatewayId } : {}) };
  return { ok: true, value: receptionFromPacket(env.packet, raw, full) };
}
