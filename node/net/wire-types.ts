// Checks that a protobuf message's bytes give every known field the wire type its type has.
//
// protobuf-es reads a known field by its declared type whatever wire type the bytes give it, so
// `0a 05` (field 1 as 5 length-delimited bytes, none of them there) decodes as a uint64 field 1 of
// 5. Other implementations refuse such bytes, and docs/protocol.md §8 promises `decode/bad-protobuf`
// for them: this pass runs before the decoder and throws on a wrong wire type, on a field that
// runs past its message, on an invalid wire type and on a varint longer than 10 bytes or past
// 2^64 - 1, in nested messages and unknown fields too.

import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** Nesting deeper than this is refused (the API's messages nest three deep at most). */
const MAX_NESTING = 16;

/** The wire type a scalar's values have unpacked. */
function scalarWireType(s: ScalarType): WireType {
  switch (s) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    default:
      return WireType.Varint;
  }
}

/** Whether bytes may give `field` wire type `wt` (repeated numbers may come packed or not). */
function allowed(field: DescField, wt: WireType): boolean {
  switch (field.fieldKind) {
    case "scalar":
      return wt === scalarWireType(field.scalar);
    case "enum":
      return wt === WireType.Varint;
    case "message":
    case "map":
      return wt === WireType.LengthDelimited;
    case "list": {
      if (wt === WireType.LengthDelimited) return true;
      if (field.listKind === "message") return false;
      return wt === (field.listKind === "enum" ? WireType.Varint : scalarWireType(field.scalar));
    }
  }
}

/**
 * A varint value is at most 10 bytes and at most 2^64 − 1 (a 10th byte of 0 or 1): protobuf-es
 * skips longer ones in fields it does not know and reads some past the range, where other
 * implementations refuse them.
 */
function checkVarint(bytes: Uint8Array, at: number, no: number): void {
  for (let i = 0; i < 10 && at + i < bytes.length; i++) {
    const b = bytes[at + i]!;
    if (b < 0x80) {
      if (i === 9 && b > 1) throw new Error(`field ${no}: a varint past 2^64 - 1`);
      return;
    }
  }
  if (at + 10 <= bytes.length) throw new Error(`field ${no}: a varint longer than 10 bytes`);
  // Cut short: skip reports it.
}

/** Throws an Error naming the first field whose wire type or length is wrong. */
export function checkWireTypes(desc: DescMessage, bytes: Uint8Array, depth = 0): void {
  if (depth > MAX_NESTING) throw new Error(`messages nested deeper than ${MAX_NESTING}`);
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wt] = reader.tag();
    const field = desc.fields.find((f) => f.number === no);
    if (field && !allowed(field, wt))
      throw new Error(`field ${no} (${field.name}) of ${desc.typeName} has wire type ${wt}`);
    if (wt === WireType.Varint) checkVarint(bytes, reader.pos, no);
    // skip throws on an invalid wire type and on a value that runs past the bytes.
    const value = reader.skip(wt, no);
    if (field?.fieldKind === "message") {
      // The value of a length-delimited field is its varint length, then its bytes.
      const inner = new BinaryReader(value);
      checkWireTypes(field.message, inner.bytes(), depth + 1);
    }
  }
}
