// Operation arguments from the command line, encoded with the canonical codec the operations
// decode: u64:N and varint:N → varint (u64), str:S → length-prefixed UTF-8, hex:H → length-prefixed
// bytes, bytes-file:PATH → length-prefixed bytes of a file. Arguments are concatenated in order.
import { readFileSync } from "node:fs";
import { Writer } from "../common/codec.js";
import { fromHex } from "../common/bytes.js";
import { UsageError } from "./args.js";

const U64_MAX = (1n << 64n) - 1n;

export function encodeArgs(specs: readonly string[]): Uint8Array {
  const w = new Writer();
  for (const spec of specs) {
    const i = spec.indexOf(":");
    if (i < 0) throw new UsageError(`--arg ${spec}: want TYPE:VALUE (u64, str, hex or bytes-file)`);
    const type = spec.slice(0, i);
    const value = spec.slice(i + 1);
    switch (type) {
      case "u64":
      case "varint": {
        if (!/^\d+$/.test(value)) throw new UsageError(`--arg ${spec}: not a whole number`);
        const n = BigInt(value);
        if (n > U64_MAX) throw new UsageError(`--arg ${spec}: larger than 2^64-1`);
        w.varint64(n);
        break;
      }
      case "str":
        w.string(value);
        break;
      case "hex": {
        const h = value.startsWith("0x") ? value.slice(2) : value;
        if (!/^([0-9a-fA-F]{2})*$/.test(h))
          throw new UsageError(`--arg ${spec}: not an even number of hex digits`);
        w.bytes(fromHex(h.toLowerCase()));
        break;
      }
      case "bytes-file": {
        let b: Uint8Array;
        try {
          b = new Uint8Array(readFileSync(value));
        } catch (e) {
          throw new UsageError(`--arg ${spec}: ${(e as Error).message}`);
        }
        w.bytes(b);
        break;
      }
      default:
        throw new UsageError(`--arg ${spec}: unknown type "${type}" (u64, varint, str, hex, bytes-file)`);
    }
  }
  return w.finish();
}
