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

export interface DeframerOptions {
  /**
   * Accepts or rejects a complete candidate payload. Serial debug text or line noise can contain 0x94 0xC3 followed
   * by a plausible length; without a check, that false start would swallow the real frames inside its announced
   * length. A rejected candidate is treated as noise and the search resumes one byte after its first start byte,
   * so the real frames it covered are still found. `isFromRadio` from this package is the usual choice.
   */
  validate?: (payload: Uint8Array) => boolean;
}

const decoder = new TextDecoder();

/**
 * Strict length-based deframer. Unlike @meshtastic/core 2.6.7's, it never looks for the start bytes inside a
 * payload it has already framed, so payloads containing 0x94 0xC3 pass intact. Bytes between frames (serial debug
 * text, line noise) are returned as debug frames. An oversize length, or a payload the `validate` option rejects,
 * marks a false start: it skips one byte and searches again.
 */
export class Deframer {
  private buf: Uint8Array = new Uint8Array(0);
  private readonly validate: ((payload: Uint8Array) => boolean) | undefined;
  /** Bytes discarded as non-frame data since creation. */
  discarded = 0;
  /** Candidate frames the validator rejected since creation. */
  rejected = 0;

  constructor(options: DeframerOptions = {}) {
    this.validate = options.validate;
  }

  push(chunk: Uint8Array): Frame[] {
    this.append(chunk);
    const frames: Frame[] = [];
    const b = this.buf;
    let pos = 0;
    let noiseFrom = -1; // start of the run of non-frame bytes before `pos`, or -1
    while (pos < b.length) {
      const start = b.indexOf(FRAME_START1, pos);
      if (start < 0) {
        if (noiseFrom < 0) noiseFrom = pos;
        pos = b.length;
        break;
      }
      if (start > pos && noiseFrom < 0) noiseFrom = pos;
      pos = start;
      if (pos + 1 >= b.length) break; // the second start byte has not arrived
      const len = (b[pos + 2]! << 8) | b[pos + 3]!;
      if (b[pos + 1] !== FRAME_START2 || (pos + FRAME_HEADER_LEN <= b.length && len > MAX_FRAME_PAYLOAD)) {
        if (noiseFrom < 0) noiseFrom = pos;
        pos++;
        continue;
      }
      if (pos + FRAME_HEADER_LEN > b.length) break; // the length has not arrived
      const end = pos + FRAME_HEADER_LEN + len;
      if (end > b.length) break; // wait for the rest of the frame
      const payload = b.subarray(pos + FRAME_HEADER_LEN, end);
      if (this.validate && !this.isValid(payload)) {
        this.rejected++;
        if (noiseFrom < 0) noiseFrom = pos;
        pos++;
        continue;
      }
      if (noiseFrom >= 0) frames.push(this.noise(noiseFrom, pos));
      noiseFrom = -1;
      frames.push({ type: 'packet', payload: b.slice(pos + FRAME_HEADER_LEN, end) });
      pos = end;
    }
    // Noise before a possible (incomplete) frame start is final; the possible start is kept for the next chunk.
    if (noiseFrom >= 0 && pos > noiseFrom) frames.push(this.noise(noiseFrom, pos));
    this.buf = pos === 0 ? b : b.slice(pos);
    return frames;
  }

  /**
   * Gives up on the frame start being waited for (e.g. after the link was idle for a while: a real frame arrives in
   * one burst, a false start in debug text waits for bytes that never come) and returns what the bytes after it hold.
   */
  dropPending(): Frame[] {
    if (this.buf.length === 0) return [];
    const rest = this.buf.subarray(1);
    const first = this.buf.subarray(0, 1);
    this.buf = new Uint8Array(0);
    const frames: Frame[] = [this.noise(0, 1, first)];
    return frames.concat(this.push(rest));
  }

  /** Bytes held while waiting for the rest of a frame. */
  get buffered(): number {
    return this.buf.length;
  }

  private append(chunk: Uint8Array): void {
    if (this.buf.length === 0) {
      // Copy: the caller may reuse its buffer, and Buffer.slice would alias it.
      this.buf = new Uint8Array(chunk);
      return;
    }
    const merged = new Uint8Array(this.buf.length + chunk.length);
    merged.set(this.buf);
    merged.set(chunk, this.buf.length);
    this.buf = merged;
  }

  private isValid(payload: Uint8Array): boolean {
    try {
      return this.validate!(payload);
    } catch {
      return false;
    }
  }

  private noise(from: number, to: number, bytes: Uint8Array = this.buf): Frame {
    this.discarded += to - from;
    return { type: 'debug', text: decoder.decode(bytes.subarray(from, to)) };
  }
}
