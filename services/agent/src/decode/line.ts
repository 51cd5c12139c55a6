import type { Reception } from '@mmm/schemas';
import type { DecodeContext } from './context.js';
import { decodeMeshPacketBytes, decodeServiceEnvelope } from './envelope.js';
import { parseFromRadio } from './fromradio.js';
import { receptionFromPacket } from './reception.js';

export const FORMATS = ['envelope', 'packet', 'fromradio'] as const;
export type InputFormat = (typeof FORMATS)[number];

/** Where the agent would say the packet came from, per input format. */
export const DEFAULT_SOURCE: Record<InputFormat, DecodeContext['source']> = {
  envelope: 'mqtt',
  packet: 'replay',
  fromradio: 'radio',
};

/** JSON-lines captures name their base64 field differently; these are the names tried, in order. */
export const JSON_B64_FIELDS = ['raw_b64', 'service_envelope_b64', 'b64', 'base64', 'raw'] as const;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export type LineOutcome =
  | { kind: 'event'; event: Reception }
  | { kind: 'skipped'; what: string }
  | { kind: 'error'; error: string };

function bytesOf(line: string): { ok: true; bytes: Uint8Array } | { ok: false; error: string } {
  let text = line;
  if (text.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      return { ok: false, error: `line starts with "{" but is not JSON: ${(err as Error).message}` };
    }
    const field = JSON_B64_FIELDS.find((f) => typeof (obj as Record<string, unknown>)?.[f] === 'string');
    if (!field) return { ok: false, error: `JSON line has none of the fields ${JSON_B64_FIELDS.join(', ')}` };
    text = ((obj as Record<string, string>)[field] ?? '').trim();
  }
  // URL-safe base64 (some MQTT tools print it) is accepted as well.
  const std = text.replace(/-/g, '+').replace(/_/g, '/');
  if (!BASE64.test(std) || std.replace(/=+$/, '').length % 4 === 1) return { ok: false, error: 'not valid base64' };
  const bytes = new Uint8Array(Buffer.from(std, 'base64'));
  if (bytes.length === 0) return { ok: false, error: 'empty input' };
  return { ok: true, bytes };
}

/** A captured stream frame may still carry its 0x94 0xC3 <len> header; a header whose length fits is dropped. */
function withoutFrameHeader(b: Uint8Array): Uint8Array {
  const framed = b.length >= 4 && b[0] === 0x94 && b[1] === 0xc3 && ((b[2]! << 8) | b[3]!) === b.length - 4;
  return framed ? b.subarray(4) : b;
}

/** Decodes one input line (already trimmed, not empty) in the given format. Never throws. */
export function decodeLine(line: string, format: InputFormat, ctx: DecodeContext): LineOutcome {
  const input = bytesOf(line);
  if (!input.ok) return { kind: 'error', error: input.error };
  try {
    if (format === 'envelope') {
      const { source: _s, gatewayId: _g, ...rest } = ctx;
      const r = decodeServiceEnvelope(input.bytes, rest);
      return r.ok
        ? { kind: 'event', event: ctx.source === 'mqtt' ? r.value : { ...r.value, source: ctx.source } }
        : { kind: 'error', error: r.error };
    }
    if (format === 'packet') {
      const r = decodeMeshPacketBytes(input.bytes, ctx);
      return r.ok ? { kind: 'event', event: r.value } : { kind: 'error', error: r.error };
    }
    const r = parseFromRadio(withoutFrameHeader(input.bytes));
    if (!r.ok) return { kind: 'error', error: r.error };
    const item = r.value;
    if (item.kind !== 'packet') return { kind: 'skipped', what: item.kind === 'other' ? item.case : item.kind };
    return { kind: 'event', event: receptionFromPacket(item.packet, item.raw, ctx) };
  } catch (err) {
    return { kind: 'error', error: `decoder failure: ${(err as Error).message}` };
  }
}
