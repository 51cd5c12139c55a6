import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/**
 * The bytes of the first length-delimited field `fieldNo` of a protobuf message, exactly as they are on the wire
 * (re-encoding a parsed message may reorder or drop fields). Undefined when absent or the bytes do not parse.
 * Used to keep a MeshPacket's original bytes out of a FromRadio or ServiceEnvelope.
 */
export function rawField(message: Uint8Array, fieldNo: number): Uint8Array | undefined {
  try {
    const r = new BinaryReader(message);
    while (r.pos < r.len) {
      const [no, wireType] = r.tag();
      if (no === fieldNo && wireType === WireType.LengthDelimited) return r.bytes();
      r.skip(wireType, no);
    }
  } catch {
    return undefined;
  }
  return undefined;
}
