// The canonical binary codec: the only encoding used for anything Arbor hashes or signs.
// Unsigned LEB128 varints (minimal form only), fixed-width big-endian u64, length-prefixed bytes
// and UTF-8 strings. Every decode is bounded, rejects non-canonical forms and trailing bytes, and
// fails with a DecodeError — never another exception.

import { DecodeError } from "./errors.js";
import { MAX_VARINT_BYTES } from "./limits.js";
import { isWellFormedString, plainView, utf8 } from "./bytes.js";

const U64_MAX = (1n << 64n) - 1n;

export class Writer {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  /** Unsigned varint of a non-negative safe integer. */
  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
    this.reserve(MAX_VARINT_BYTES);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** Unsigned varint of a u64 bigint. */
  varint64(v: bigint): this {
    if (v < 0n || v > U64_MAX) throw new RangeError(`u64 out of range: ${v}`);
    this.reserve(MAX_VARINT_BYTES);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
    return this;
  }

  /** Fixed 8-byte big-endian u64 (sorts bytewise in numeric order: used in storage keys). */
  u64(v: bigint): this {
    if (v < 0n || v > U64_MAX) throw new RangeError(`u64 out of range: ${v}`);
    this.reserve(8);
    for (let i = 7; i >= 0; i--) {
      this.buf[this.pos + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.pos += 8;
    return this;
  }

  /** Raw bytes with no length prefix (the reader must know the length). */
  raw(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): this {
    return this.varint(b.length).raw(b);
  }

  /** Length-prefixed UTF-8 string. */
  string(s: string): this {
    if (!isWellFormedString(s)) throw new RangeError("string is not well-formed UTF-16");
    return this.bytes(utf8(s));
  }

  /** Reserves one byte to be filled later with `patch` (e.g. packed tags); returns its offset. */
  placeholder(): number {
    this.reserve(1);
    this.buf[this.pos] = 0;
    return this.pos++;
  }

  patch(offset: number, v: number): void {
    this.buf[offset] = v & 0xff;
  }

  get length(): number {
    return this.pos;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export class Reader {
  private pos = 0;
  private readonly buf: Uint8Array;
  constructor(buf: Uint8Array) {
    this.buf = plainView(buf);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.buf.length - this.pos)
      throw new DecodeError("decode/truncated", `${what} runs past the end`);
  }

  u8(): number {
    this.need(1, "byte");
    return this.buf[this.pos++]!;
  }

  /** Minimal-form varint not above `max` (a safe integer). */
  varint(max: number = Number.MAX_SAFE_INTEGER, what = "varint"): number {
    const v = this.varint64(what);
    if (v > BigInt(max)) throw new DecodeError("decode/out-of-range", `${what} ${v} exceeds ${max}`);
    return Number(v);
  }

  varint64(what = "varint"): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      this.need(1, what);
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0)
          throw new DecodeError("decode/non-canonical", `${what} has a redundant zero byte`);
        if (result > U64_MAX) throw new DecodeError("decode/out-of-range", `${what} exceeds u64`);
        return result;
      }
      shift += 7n;
    }
    throw new DecodeError("decode/out-of-range", `${what} longer than ${MAX_VARINT_BYTES} bytes`);
  }

  u64(): bigint {
    this.need(8, "u64");
    let v = 0n;
    for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(this.buf[this.pos++]!);
    return v;
  }

  /** `n` raw bytes (a view into the input: copy if kept beyond the input's life). */
  raw(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** `n` raw bytes, copied. */
  copy(n: number, what = "bytes"): Uint8Array {
    return new Uint8Array(this.raw(n, what));
  }

  /** Length-prefixed bytes of at most `max` bytes, copied. */
  bytes(max: number, what = "bytes"): Uint8Array {
    const n = this.varint(Number.MAX_SAFE_INTEGER, `${what} length`);
    if (n > max) throw new DecodeError("decode/too-large", `${what} of ${n} bytes exceeds ${max}`);
    return new Uint8Array(this.raw(n, what));
  }

  /**
   * Length-prefixed bytes of at most `max` bytes, as a view into the input (no copy): for fields
   * that live no longer than the input they come from, on hot paths where copies add up.
   */
  view(max: number, what = "bytes"): Uint8Array {
    const n = this.varint(Number.MAX_SAFE_INTEGER, `${what} length`);
    if (n > max) throw new DecodeError("decode/too-large", `${what} of ${n} bytes exceeds ${max}`);
    return this.raw(n, what);
  }

  /** Length-prefixed UTF-8 string of at most `maxBytes` bytes. */
  string(maxBytes: number, what = "string"): string {
    const n = this.varint(Number.MAX_SAFE_INTEGER, `${what} length`);
    if (n > maxBytes) throw new DecodeError("decode/too-large", `${what} of ${n} bytes exceeds ${maxBytes}`);
    const b = this.raw(n, what);
    try {
      return strictDecoder.decode(b);
    } catch {
      throw new DecodeError("decode/bad-utf8", `${what} is not valid UTF-8`);
    }
  }

  /** Asserts the whole input was consumed. */
  end(what = "message"): void {
    if (this.pos !== this.buf.length)
      throw new DecodeError("decode/trailing-bytes", `${this.buf.length - this.pos} bytes after ${what}`);
  }
}
