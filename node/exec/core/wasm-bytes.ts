// Bounded reader and writer for the WebAssembly binary format (LEB128 integers, names, raw bytes).
// The reader never reads past its end and reports every problem as an InvalidModuleError, so a
// hostile module can only ever produce a typed rejection.

import { Writer } from "../../common/codec.js";
import { invalid } from "./errors.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class WasmReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) invalid("malformed", `unexpected end at byte ${this.pos}`);
    return this.buf[this.pos++]!;
  }

  /** Unsigned LEB128 of at most 32 bits (padding allowed, as the spec allows). */
  u32(): number {
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4 && (b & 0xf0) !== 0)
        invalid("malformed", `u32 LEB128 out of range at byte ${this.pos - 1}`);
      result += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return result;
    }
    return invalid("malformed", `u32 LEB128 too long at byte ${this.pos}`);
  }

  /** Signed LEB128 of `bits` bits; skipped, validated, and returned as a bigint. */
  sleb(bits: 32 | 33 | 64): bigint {
    const maxBytes = Math.ceil(bits / 7);
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < maxBytes; i++) {
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) {
        if (i === maxBytes - 1) {
          // The unused high bits of the last byte must all equal the sign bit.
          const used = bits - 7 * (maxBytes - 1);
          const rest = b >> (used - 1);
          if (rest !== 0 && rest !== 0x7f >> (used - 1)) invalid("malformed", `s${bits} LEB128 out of range`);
        }
        if (b & 0x40) result -= 1n << shift;
        return result;
      }
    }
    return invalid("malformed", `s${bits} LEB128 too long at byte ${this.pos}`);
  }

  bytes(n: number): Uint8Array {
    if (n > this.end - this.pos) invalid("malformed", `${n} bytes run past the end at byte ${this.pos}`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(n: number): void {
    if (n > this.end - this.pos) invalid("malformed", `${n} bytes run past the end at byte ${this.pos}`);
    this.pos += n;
  }

  name(maxBytes: number): string {
    const n = this.u32();
    if (n > maxBytes) invalid("bounds", `name of ${n} bytes exceeds ${maxBytes}`);
    try {
      return utf8.decode(this.bytes(n));
    } catch {
      return invalid("malformed", "name is not valid UTF-8");
    }
  }
}

/**
 * The canonical byte writer (node/common/codec.ts) with what only Wasm adds: its unsigned LEB128 is
 * the codec's varint; signed LEB128, names and sections are Wasm's own.
 */
export class WasmWriter extends Writer {
  constructor() {
    super(1024);
  }

  u32(v: number): this {
    return this.varint(v);
  }

  sleb(v: bigint): this {
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) return this.u8(b);
      this.u8(b | 0x80);
    }
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).raw(b);
  }

  /** A section: id, size, contents. */
  section(id: number, contents: Uint8Array): this {
    return this.u8(id).u32(contents.length).raw(contents);
  }
}
