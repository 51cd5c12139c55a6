/**
 * Meshtastic stream framing (serial and TCP alike): 0x94 0xC3 <len hi> <len lo> <protobuf>.
 * FromRadio flows from the radio, ToRadio to it.
 */
export const FRAME_START1 = 0x94;
export const FRAME_START2 = 0xc3;
export const FRAME_HEADER_LEN = 4;
/** Firmware's MAX_TO_FROM_RADIO_SIZE: a header announcing more than this is noise, not a frame. */
export const MAX_FRAME_PAYLOAD = 512;

export class FrameTooLargeError extends RangeError {
  override readonly name = 'FrameTooLargeError';
}

export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_FRAME_PAYLOAD) {
    throw new FrameTooLargeError(`frame payload of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD}`);
  }
  const out = new Uint8Array(FRAME_HEADER_LEN + payload.length);
  out[0] = FRAME_START1;
  out[1] = FRAME_START2;
  out[2] = payload.length >> 8;
  out[3] = payload.length & 0xff;
  out.set(payload, FRAME_HEADER_LEN);
  return out;
}

export type Frame = { type: 'packet'; payload: Uint8Array } | { type: 'debug'; text: string };

/**
 * Strict length-based deframer. Unlike @meshtastic/core 2.6.7's, it never looks for the start bytes inside a
 * payload it has already framed, so payloads containing 0x94 0xC3 pass intact. Bytes between frames (serial debug
 * text, line noise) are returned as debug frames; an oversize length means a false start, so it skips one byte and
 * searches again.
 */
export class Deframer {
  private buf = new Uint8Array(0);
  /** Bytes discarded as non-frame data since creation. */
  discarded = 0;

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    // Copy into a plain Uint8Array: Buffer.slice would alias the caller's memory.
    if (this.buf.length === 0) this.buf = new Uint8Array(chunk);
    else {
      const merged = new Uint8Array(this.buf.length + chunk.length);
      merged.set(this.buf);
      merged.set(chunk, this.buf.length);
      this.buf = merged;
    }
    let pos = 0;
    let debugStart = -1;
    const flushDebug = (end: number) => {
      if (debugStart >= 0 && end > debugStart) {
        this.discarded += end - debugStart;
        frames.push({ type: 'debug', text: new TextDecoder().decode(this.buf.subarray(debugStart, end)) });
      }
      debugStart = -1;
    };
    for (;;) {
      const b = this.buf;
      if (pos >= b.length) break;
      if (b[pos] !== FRAME_START1) {
        if (debugStart < 0) debugStart = pos;
        pos++;
        continue;
      }
      if (pos + 1 >= b.length) break; // need the second start byte
      if (b[pos + 1] !== FRAME_START2) {
        if (debugStart < 0) debugStart = pos;
        pos++;
        continue;
      }
      if (pos + FRAME_HEADER_LEN > b.length) break; // need the length
      const len = (b[pos + 2]! << 8) | b[pos + 3]!;
      if (len > MAX_FRAME_PAYLOAD) {
        if (debugStart < 0) debugStart = pos;
        pos++;
        continue;
      }
      if (pos + FRAME_HEADER_LEN + len > b.length) break; // wait for the rest of the frame
      flushDebug(pos);
      frames.push({ type: 'packet', payload: b.slice(pos + FRAME_HEADER_LEN, pos + FRAME_HEADER_LEN + len) });
      pos += FRAME_HEADER_LEN + len;
    }
    // Debug text before an incomplete frame start is complete; keep only the possible frame start.
    const keepFrom = debugStart >= 0 && debugStart < pos ? pos : pos;
    flushDebug(keepFrom);
    this.buf = this.buf.slice(keepFrom);
    return frames;
  }

  /** Bytes held while waiting for the rest of a frame. */
  get buffered(): number {
    return this.buf.length;
  }
}
