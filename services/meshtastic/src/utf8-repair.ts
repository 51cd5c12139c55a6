import { type DescField, type DescMessage, fromBinary, type MessageShape, ScalarType } from '@bufbuild/protobuf';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

const lossy = new TextDecoder('utf-8', { fatal: false });
const MAX_DEPTH = 32;

const isString = (f: DescField): boolean =>
  (f.fieldKind === 'scalar' || (f.fieldKind === 'list' && f.listKind === 'scalar')) && f.scalar === ScalarType.STRING;
const messageOf = (f: DescField): DescMessage | undefined =>
  f.fieldKind === 'message' || (f.fieldKind === 'list' && f.listKind === 'message') ? f.message : undefined;

/**
 * Re-encodes a message with every invalid UTF-8 sequence in its string fields (nested messages included) replaced by
 * U+FFFD. Firmware cuts names at a byte limit, which can split a multi-byte character, and the protobuf runtime
 * rejects the whole message for it; a node's name is worth keeping with one replacement character.
 */
export function repairUtf8(schema: DescMessage, bytes: Uint8Array, depth = 0): Uint8Array {
  const r = new BinaryReader(bytes);
  const w = new BinaryWriter();
  while (r.pos < r.len) {
    const [no, wireType] = r.tag();
    const field = wireType === WireType.LengthDelimited ? schema.fields.find((f) => f.number === no) : undefined;
    if (field && isString(field)) {
      w.tag(no, wireType).string(lossy.decode(r.bytes()));
      continue;
    }
    const nested = field && depth < MAX_DEPTH ? messageOf(field) : undefined;
    if (nested) {
      w.tag(no, wireType).bytes(repairUtf8(nested, r.bytes(), depth + 1));
      continue;
    }
    w.tag(no, wireType).raw(r.skip(wireType, no));
  }
  return w.finish();
}

/** fromBinary that keeps a message whose strings are not valid UTF-8 (see repairUtf8); other errors still throw. */
export function fromBinaryLenient<D extends DescMessage>(schema: D, bytes: Uint8Array): MessageShape<D> {
  try {
    return fromBinary(schema, bytes);
  } catch (err) {
    if (!/utf-?8/i.test((err as Error).message)) throw err;
    let repaired: Uint8Array;
    try {
      repaired = repairUtf8(schema, bytes);
    } catch {
      throw err;
    }
    return fromBinary(schema, repaired);
  }
}
