// The canonical codec of node/common/codec.ts, in AssemblyScript: minimal LEB128 varints (u64),
// fixed 8-byte big-endian u64, length-prefixed bytes and strict UTF-8 strings. Decoding failures
// abort the operation with a message (which becomes a "trap" rejection).

/** Aborts the operation with `message`; the host turns it into a rejection carrying the message. */
export function fail(message: string): void {
  abort(message);
  unreachable();
}

/** True when the bytes are well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
export function isUtf8(b: Uint8Array): bool {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = <u32>b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need = 0;
    let min: u32 = 0;
    let cp: u32 = 0;
    if ((c & 0xe0) == 0xc0) {
      need = 1;
      min = 0x80;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      need = 2;
      min = 0x800;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      need = 3;
      min = 0x10000;
      cp = c & 0x07;
    } else return false;
    if (i + need >= n) return false;
    for (let k = 1; k <= need; k++) {
      const d = <u32>b[i + k];
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

/** UTF-8 bytes of a string (ASCII takes a fast path). */
export function utf8(s: string): Uint8Array {
  const n = s.length;
  const src = changetype<usize>(s);
  const out = new Uint8Array(n);
  const dst = out.dataStart;
  for (let i = 0; i < n; i++) {
    const c = load<u16>(src + ((<usize>i) << 1));
    if (c >= 0x80) return Uint8Array.wrap(String.UTF8.encode(s));
    store<u8>(dst + <usize>i, <u8>c);
  }
  return out;
}

/** Decodes UTF-8 that is known to be well-formed (the host's keys); ASCII takes a fast path. */
export function fromTrustedUtf8(b: Uint8Array): string {
  const n = b.length;
  const src = b.dataStart;
  const out = changetype<string>(__new((<usize>n) << 1, idof<string>()));
  const dst = changetype<usize>(out);
  for (let i = 0; i < n; i++) {
    const c = load<u8>(src + <usize>i);
    if (c >= 0x80) return String.UTF8.decodeUnsafe(src, <usize>n);
    store<u16>(dst + ((<usize>i) << 1), <u16>c);
  }
  return out;
}

/** Decodes well-formed UTF-8 (aborts otherwise). */
export function fromUtf8(b: Uint8Array): string {
  const n = b.length;
  const src = b.dataStart;
  for (let i = 0; i < n; i++) {
    if (load<u8>(src + <usize>i) >= 0x80) {
      if (!isUtf8(b)) fail("invalid UTF-8");
      break;
    }
  }
  return fromTrustedUtf8(b);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): bool {
  const n = a.length;
  if (n != b.length) return false;
  const pa = a.dataStart;
  const pb = b.dataStart;
  let i = 0;
  for (; i + 8 <= n; i += 8) if (load<u64>(pa + <usize>i) != load<u64>(pb + <usize>i)) return false;
  for (; i < n; i++) if (load<u8>(pa + <usize>i) != load<u8>(pb + <usize>i)) return false;
  return true;
}

/** Bytewise order: negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): i32 {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = <i32>unchecked(a[i]);
    const y = <i32>unchecked(b[i]);
    if (x != y) return x - y;
  }
  return a.length - b.length;
}

/** Reads canonical-codec values from bytes; `what` names the input in abort messages. */
export class Reader {
  private pos: i32 = 0;

  constructor(
    private buf: Uint8Array,
    private what: string = "input",
  ) {}

  get remaining(): i32 {
    return this.buf.length - this.pos;
  }

  u8(): u8 {
    if (this.pos >= this.buf.length) fail(this.what + ": truncated");
    return unchecked(this.buf[this.pos++]);
  }

  /** Minimal-form unsigned LEB128, at most 2^64 - 1. */
  varint(): u64 {
    let result: u64 = 0;
    let shift: u64 = 0;
    const buf = this.buf;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) fail(this.what + ": truncated varint");
      const b = unchecked(buf[this.pos++]);
      if (i == 9 && b > 1) fail(this.what + ": varint exceeds u64");
      result |= (<u64>(b & 0x7f)) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && i > 0) fail(this.what + ": non-canonical varint");
        return result;
      }
      shift += 7;
    }
    fail(this.what + ": varint too long");
    return 0;
  }

  /** A varint that must fit a non-negative i32 (lengths and counts). */
  length(): i32 {
    const v = this.varint();
    if (v > <u64>this.remaining) fail(this.what + ": length runs past the end");
    return <i32>v;
  }

  /** Fixed 8-byte big-endian u64. */
  u64(): u64 {
    if (this.remaining < 8) fail(this.what + ": truncated u64");
    const v = bswap<u64>(load<u64>(this.buf.dataStart + <usize>this.pos));
    this.pos += 8;
    return v;
  }

  /** `n` raw bytes: a view into the input, not a copy (copy with slice() before changing it). */
  raw(n: i32): Uint8Array {
    if (n < 0 || n > this.remaining) fail(this.what + ": truncated bytes");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Length-prefixed bytes. */
  bytes(): Uint8Array {
    return this.raw(this.length());
  }

  /** Length-prefixed strict UTF-8 string. */
  string(): string {
    return fromUtf8(this.bytes());
  }

  /** Aborts unless every byte was consumed. */
  end(): void {
    if (this.pos != this.buf.length) fail(this.what + ": trailing bytes");
  }
}

/** Builds canonical-codec bytes (record values, results). */
export class Encoder {
  private buf: Uint8Array;
  private len: i32 = 0;

  constructor(capacity: i32 = 64) {
    this.buf = new Uint8Array(capacity);
  }

  private reserve(n: i32): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    memory.copy(next.dataStart, this.buf.dataStart, <usize>this.len);
    this.buf = next;
  }

  u8(v: u8): Encoder {
    this.reserve(1);
    unchecked((this.buf[this.len++] = v));
    return this;
  }

  varint(v: u64): Encoder {
    this.reserve(10);
    while (v >= 0x80) {
      unchecked((this.buf[this.len++] = <u8>((v & 0x7f) | 0x80)));
      v >>= 7;
    }
    unchecked((this.buf[this.len++] = <u8>v));
    return this;
  }

  u64(v: u64): Encoder {
    this.reserve(8);
    store<u64>(this.buf.dataStart + <usize>this.len, bswap<u64>(v));
    this.len += 8;
    return this;
  }

  raw(b: Uint8Array): Encoder {
    this.reserve(b.length);
    memory.copy(this.buf.dataStart + <usize>this.len, b.dataStart, <usize>b.length);
    this.len += b.length;
    return this;
  }

  bytes(b: Uint8Array): Encoder {
    return this.varint(<u64>b.length).raw(b);
  }

  string(s: string): Encoder {
    return this.bytes(utf8(s));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Fixed 8-byte big-endian u64. */
export function u64ToBytes(v: u64): Uint8Array {
  const out = new Uint8Array(8);
  store<u64>(out.dataStart, bswap<u64>(v));
  return out;
}

/** Reads a fixed 8-byte big-endian u64 at `offset`. */
export function bytesToU64(b: Uint8Array, offset: i32 = 0): u64 {
  if (offset < 0 || offset + 8 > b.length) fail("u64 out of range");
  return bswap<u64>(load<u64>(b.dataStart + <usize>offset));
}
