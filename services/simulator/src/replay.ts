import { readFileSync } from 'node:fs';
import { create, DEFAULT_KEY, fromBinary, Mesh, Mqtt, Portnums, xcrypt } from '@mmm/meshtastic';

/** Capture formats the simulator can replay (the ones under shared/fixtures/real). */
export type CaptureFormat = 'meshpacket-jsonl' | 'serviceenvelope-b64' | 'serviceenvelope-jsonl';

export interface Capture {
  readonly format: CaptureFormat;
  readonly packets: readonly Mesh.MeshPacket[];
  /** Lines that are not a packet (malformed envelopes, blank lines are not counted). */
  readonly skipped: number;
}

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
}

/**
 * Reads a capture: JSON lines with a base64 MeshPacket in `raw_b64` (Mesh-via-UDP), JSON lines with
 * `service_envelope_b64`, or one base64 ServiceEnvelope per line (MQTT). Lines that do not parse are counted, not fatal:
 * real captures hold malformed envelopes.
 */
export function loadCapture(file: string): Capture {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new CaptureError(`cannot read capture ${file}`, { cause });
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new CaptureError(`capture ${file} is empty`);
  const json = lines[0]!.trim().startsWith('{');
  let format: CaptureFormat = json ? 'meshpacket-jsonl' : 'serviceenvelope-b64';
  const packets: Mesh.MeshPacket[] = [];
  let skipped = 0;
  for (const line of lines) {
    try {
      if (json) {
        const rec = JSON.parse(line) as { raw_b64?: string; service_envelope_b64?: string };
        if (typeof rec.raw_b64 === 'string')
          packets.push(fromBinary(Mesh.MeshPacketSchema, Buffer.from(rec.raw_b64, 'base64')));
        else if (typeof rec.service_envelope_b64 === 'string') {
          format = 'serviceenvelope-jsonl';
          packets.push(envelopePacket(Buffer.from(rec.service_envelope_b64, 'base64')));
        } else skipped++;
      } else packets.push(envelopePacket(Buffer.from(line.trim(), 'base64')));
    } catch {
      skipped++;
    }
  }
  if (packets.length === 0)
    throw new CaptureError(`capture ${file} holds no packet that parses (${skipped} lines skipped)`);
  return { format, packets, skipped };
}

function envelopePacket(bytes: Uint8Array): Mesh.MeshPacket {
  const env = fromBinary(Mqtt.ServiceEnvelopeSchema, bytes);
  if (!env.packet) throw new CaptureError('service envelope without a packet');
  return env.packet;
}

/** The Data inside a packet: decoded as is, or decrypted with the default key when that yields a known port. */
export function openPacket(pkt: Mesh.MeshPacket): Mesh.Data | undefined {
  if (pkt.payloadVariant.case === 'decoded') return pkt.payloadVariant.value;
  if (pkt.payloadVariant.case !== 'encrypted') return undefined;
  try {
    const data = fromBinary(Mesh.DataSchema, xcrypt(DEFAULT_KEY, pkt.id, pkt.from, pkt.payloadVariant.value));
    return data.portnum !== Portnums.PortNum.UNKNOWN_APP && Portnums.PortNum[data.portnum] !== undefined
      ? data
      : undefined;
  } catch {
    return undefined;
  }
}

/** A node-DB entry for every sender in the capture, with its user when a NODEINFO packet of it can be read. */
export function captureNodes(packets: readonly Mesh.MeshPacket[]): Mesh.NodeInfo[] {
  const nodes = new Map<number, Mesh.NodeInfo>();
  for (const pkt of packets) {
    const info =
      nodes.get(pkt.from) ?? create(Mesh.NodeInfoSchema, { num: pkt.from, lastHeard: pkt.rxTime, snr: pkt.rxSnr });
    nodes.set(pkt.from, info);
    const data = openPacket(pkt);
    if (data?.portnum === Portnums.PortNum.NODEINFO_APP) {
      try {
        info.user = fromBinary(Mesh.UserSchema, data.payload);
      } catch {
        // a broken NODEINFO payload leaves the entry without a user
      }
    }
  }
  return [...nodes.values()];
}
