// Small helpers over Uint8Array: the one byte type used everywhere.

const HEX = "0123456789abcdef";

/** Character codes of the hex digits. */
const HEX_CODES = Array.from(HEX, (c) => c.charCodeAt(0));
/** Bytes turned into characters per String.fromCharCode call (its arguments live on the stack). */
const HEX_CHUNK_BYTES = 4096;

/**
 * Lower-case hex. Built from character codes in one call per chunk, so that an id is one flat
 * string: appending two characters at a time leaves a rope of dozens of pieces, over 1 KiB of
 * heap for a 32-byte id, which long-lived maps keyed by ids (receipts, replay, dedup) then hold.
 */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (let at = 0; at < b.length; at += HEX_CHUNK_BYTES) {
    const end = Math.min(b.length, at + HEX_CHUNK_BYTES);
    const codes = new Array<number>(2 * (end - at));
    for (let i = at, j = 0; i < end; i++, j += 2) {
      codes[j] = HEX_CODES[b[i]! >> 4]!;
      codes[j + 1] = HEX_CODES[b[i]! & 15]!;
    }
    s += String.fromCharCode.apply(null, codes);
  }
  return s;
}

export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new TypeError("invalid hex string");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * A copy of `b` as a plain Uint8Array. Never use `.slice()` to copy: on a Node Buffer it returns
 * a view that shares memory.
 */
export function copyBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/** A plain Uint8Array view of the same memory (so that subarray/slice have Uint8Array semantics). */
export function plainView(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * Orders strings by their UTF-8 bytes: the one order of keys and strings in anything hashed or
 * signed. JavaScript's `<` compares UTF-16 code units, which disagrees with it when one string has
 * a character above U+FFFF (a surrogate pair, 0xD800-0xDFFF) where the other has one in
 * U+E000-U+FFFF: "\u{1F600}" < "\uFF61" in UTF-16, the reverse in UTF-8.
 */
export function compareUtf8(a: string, b: string): number {
  return compareBytes(utf8(a), utf8(b));
}

/** Decodes UTF-8, throwing TypeError on malformed input (never substitutes U+FFFD). */
export function fromUtf8(b: Uint8Array): string {
  return strictDecoder.decode(b);
}

/** True when `s` survives a UTF-8 round trip (no lone surrogates). */
export function isWellFormedString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/**
 * Bytes as a flat latin1 string, one character (0..255) per byte. One String.fromCharCode call
 * per chunk, so the result is flat (appending builds a rope).
 */
export function bytesToLatin1(b: Uint8Array): string {
  if (b.length <= HEX_CHUNK_BYTES) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = "";
  for (let i = 0; i < b.length; i += HEX_CHUNK_BYTES)
    s += String.fromCharCode.apply(null, b.subarray(i, i + HEX_CHUNK_BYTES) as unknown as number[]);
  return s;
}

/** A latin1 string (characters 0..255) back to bytes. */
export function latin1ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** True when the latin1 string `s` holds exactly the bytes `b`. */
export function latin1Equals(s: string, b: Uint8Array): boolean {
  if (s.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (s.charCodeAt(i) !== b[i]) return false;
  return true;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 with padding (portable: no Buffer). */
export function toBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    s += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    s += i + 1 < b.length ? B64[(n >> 6) & 63]! : "=";
    s += i + 2 < b.length ? B64[n & 63]! : "=";
  }
  return s;
}

export function fromBase64(s: string): Uint8Array {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new TypeError("invalid base64");
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const n =
      (B64.indexOf(s[i]!) << 18) |
      (B64.indexOf(s[i + 1]!) << 12) |
      ((B64.indexOf(s[i + 2]!) & 63) << 6) |
      (B64.indexOf(s[i + 3]!) & 63);
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
