import { Mesh } from '@meshtastic/protobufs';
import { fromBinaryLenient } from './utf8-repair.js';

/** FromRadio variants newer firmware may add beyond the ones these protobufs know (17 today). */
const MAX_FUTURE_FIELD = 64;

/**
 * Whether bytes are a FromRadio message: it parses and carries a payload variant, or only fields a newer firmware
 * may have added. Used as the deframer's `validate` so noise that happens to look like a frame header is skipped.
 */
export function isFromRadio(payload: Uint8Array): boolean {
  if (payload.length === 0) return false;
  let msg: Mesh.FromRadio;
  try {
    msg = fromBinaryLenient(Mesh.FromRadioSchema, payload);
  } catch {
    return false;
  }
  if (msg.payloadVariant.case !== undefined) return true;
  const unknown = msg.$unknown ?? [];
  return unknown.length > 0 && unknown.every((f: { no: number }) => f.no > 17 && f.no <= MAX_FUTURE_FIELD);
}
