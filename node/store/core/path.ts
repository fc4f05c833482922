// Key paths: a record's position in the tree is SHA-256 of its UTF-8 key, read most significant
// bit first. Helpers to read bits, compare prefixes and validate keys. Paths come as bytes, or as
// latin1 strings of 32 characters (one per byte) where the in-memory tree holds them.

import { sha256Latin1 } from "../../common/hash.js";
import { isWellFormedString, latin1ToBytes, utf8 } from "../../common/bytes.js";
import { LimitError } from "../../common/errors.js";
import { MAX_KEY_BYTES, STORE_KEY_PATH_MEMO_ENTRIES } from "../../common/limits.js";
import { checkValueSize } from "../../common/bounds.js";

/** Bit `i` (0 = most significant bit of byte 0) of a 32-byte path. */
export function bitAt(path: Uint8Array, i: number): 0 | 1 {
  return ((path[i >> 3]! >> (7 - (i & 7))) & 1) as 0 | 1;
}

/** Bit `i` of a path held as a latin1 string. */
export function bitOf(path: string, i: number): number {
  return (path.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
}

/** Number of leading bits the latin1 paths `a` and `b` share (256 when equal). */
export function commonPrefixBitsLatin1(a: string, b: string): number {
  for (let i = 0; i < 32; i++) {
    const x = a.charCodeAt(i) ^ b.charCodeAt(i);
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return 256;
}

/** Number of leading bits `a` and `b` share (256 when equal). */
export function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return 256;
}

/** True when the first `bits` bits of `a` and `b` agree. */
export function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  return commonPrefixBits(a, b) >= bits;
}

/** Copy of the first `depth` bits of `path`, the remaining bits zero (a canonical prefix value). */
export function prefixOf(path: Uint8Array, depth: number): Uint8Array {
  const out = new Uint8Array(32);
  const full = depth >> 3;
  out.set(path.subarray(0, full));
  const rest = depth & 7;
  if (rest) out[full] = path[full]! & (0xff << (8 - rest));
  return out;
}

/** Sets bit `i` of `path` (a mutable prefix buffer) to `v`. */
export function setBit(path: Uint8Array, i: number, v: 0 | 1): void {
  const m = 1 << (7 - (i & 7));
  if (v) path[i >> 3]! |= m;
  else path[i >> 3]! &= ~m;
}

export function checkKey(key: string): Uint8Array {
  if (typeof key !== "string") throw new LimitError("key/type", "key must be a string");
  if (!isWellFormedString(key)) throw new LimitError("key/utf8", "key is not well-formed Unicode");
  const b = utf8(key);
  if (b.length === 0) throw new LimitError("key/empty", "key is empty");
  if (b.length > MAX_KEY_BYTES)
    throw new LimitError("key/too-long", `key of ${b.length} bytes exceeds ${MAX_KEY_BYTES}`);
  return b;
}

export function checkValue(value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) throw new LimitError("value/type", "value must be a Uint8Array");
  checkValueSize(value.length);
}

const encoder = new TextEncoder();
const scratch = new Uint8Array(MAX_KEY_BYTES + 4);

/** Views of the scratch buffer by length, each made once: a key's bytes go out without allocating. */
const views: Uint8Array[] = new Array<Uint8Array>(MAX_KEY_BYTES + 1);

function scratchView(n: number): Uint8Array {
  return views[n] ?? (views[n] = scratch.subarray(0, n));
}

/** The key's UTF-8 bytes in a scratch buffer (valid until the next call), or null if not well-formed or too long. */
function encodeKey(key: string): Uint8Array | null {
  // Without allocating: encode into a scratch buffer. A key of more than MAX_KEY_BYTES code
  // units cannot fit in MAX_KEY_BYTES bytes, and one that fills the buffer is too long.
  if (typeof key !== "string") return null;
  const len = key.length;
  if (len === 0 || len > MAX_KEY_BYTES) return null;
  // ASCII, the common case, is copied code unit by code unit (always well-formed, one byte each).
  let i = 0;
  for (; i < len; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) break;
    scratch[i] = c;
  }
  if (i === len) return scratchView(len);
  if (!isWellFormedString(key)) return null;
  const { read, written } = encoder.encodeInto(key, scratch);
  if (read === len && written <= MAX_KEY_BYTES) return scratchView(written);
  return null;
}

/**
 * Paths of the keys `keyPath` computed last, by key: an operation's writes are to keys it declared
 * and had checked (their paths computed for the proof), so the tree finds a write's path here
 * instead of hashing the key again. Holds only valid keys; emptied when full.
 */
const recentPaths = new Map<string, string>();

/** The path of a key: SHA-256 of its UTF-8 bytes. Validates the key. */
export function keyPath(key: string): Uint8Array {
  const p = sha256Latin1(encodeKey(key) ?? checkKey(key));
  if (recentPaths.size >= STORE_KEY_PATH_MEMO_ENTRIES) recentPaths.clear();
  recentPaths.set(key, p);
  return latin1ToBytes(p);
}

/** The path of a key as a latin1 string (the in-memory tree's form). Validates the key. */
export function keyPathLatin1(key: string): string {
  return recentPaths.get(key) ?? sha256Latin1(encodeKey(key) ?? checkKey(key));
}
