import { Mesh } from '@meshtastic/protobufs';
import { fromBinaryLenient } from './utf8-repair.js';

/** FromRadio variants newer firmware may add beyond the ones these protobufs know (17 today). */
const MAX_FUTURE_FIELD = 64;
const LAST_KNOWN_FIELD = 17;
/** Wire type of each FromRadio field: `id` (1), config_complete_id (7) and rebooted (8) are varints, the rest messages. */
const WIRE_TYPE = (no: number): number => (no === 1 || no === 7 || no === 8 ? 0 : 2);

/**
 * A cheap walk over the top-level fields, without allocating or throwing: every tag must be a FromRadio field with
 * its wire type (or a plausible future field), every length must fit, and at most one payload variant may appear.
 * Noise fails here almost always, so the full parse runs mostly on real frames.
 */
function plausibleShape(b: Uint8Array): boolean {
  let pos = 0;
  let variants = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= b.length) return -1;
      const byte = b[pos++]!;
      v += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return v;
    }
    return -1;
  };
  while (pos < b.length) {
    const tag = varint();
    if (tag < 0) return false;
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    if (no === 0 || no > MAX_FUTURE_FIELD) return false;
    if (no <= LAST_KNOWN_FIELD) {
      if (wt !== WIRE_TYPE(no)) return false;
      if (no > 1 && ++variants > 1) return false;
    }
    if (wt === 0) {
      let n = 0;
      while (pos < b.length && b[pos]! & 0x80 && n++ < 10) pos++;
      pos++;
    } else if (wt === 1) pos += 8;
    else if (wt === 5) pos += 4;
    else if (wt === 2) {
      const len = varint();
      if (len < 0) return false;
      pos += len;
    } else return false;
    if (pos > b.length) return false;
  }
  return true;
}

/**
 * Whether bytes are a FromRadio message: it parses and carries a payload variant, or only fields a newer firmware
 * may have added. Used as the deframer's `validate` so noise that happens to look like a frame header is skipped.
 */
export function isFromRadio(payload: Uint8Array): boolean {
  if (payload.length === 0 || !plausibleShape(payload)) return false;
  let msg: Mesh.FromRadio;
  try {
    msg = fromBinaryLenient(Mesh.FromRadioSchema, payload);
  } catch {
    return false;
  }
  if (msg.payloadVariant.case !== undefined) return true;
  const unknown = msg.$unknown ?? [];
  return (
    unknown.length > 0 && unknown.every((f: { no: number }) => f.no > LAST_KNOWN_FIELD && f.no <= MAX_FUTURE_FIELD)
  );
}
