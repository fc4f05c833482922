// The bytes that cross the sandbox wall: the input blob the host hands to an operation and the
// result blob it hands back (layouts in abi.ts and docs/abi.md). Encoding checks the caller's input
// against the named bounds (LimitError); decoding treats the op's output as hostile.

import { compareBytes } from "../../common/bytes.js";
import { LimitError } from "../../common/errors.js";
import { checkArgsSize, checkValueSize, valueSizeViolation } from "../../common/bounds.js";
import { MAX_KEY_BYTES, MAX_TOUCHED_KEYS } from "../../common/limits.js";
import type { Write } from "../../common/record-write.js";
import { CALLER_KEY_BYTES, RECORD_ABSENT, RECORD_PRESENT, WRITE_REMOVE, WRITE_SET } from "./abi.js";

export interface TouchedRecord {
  readonly key: string;
  /** The record's value, or null when the record is absent. */
  readonly value: Uint8Array | null;
}

export type { Write };

export interface EncodedInput {
  readonly blob: Uint8Array;
  /** The buffer `blob` lies in (the scratch buffer passed in, or a larger replacement). */
  readonly buffer: Uint8Array;
  /** Where each touched key's UTF-8 bytes lie in the blob, in order. */
  readonly keyOffsets: readonly number[];
  readonly keyLengths: readonly number[];
}

/** UTF-8 length of a well-formed string, or -1 when it has a lone surrogate. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return -1;
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else n += 3;
  }
  return n;
}

/** Writes the UTF-8 of a well-formed string at `pos`; returns the position after it. */
function putUtf8(buf: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) buf[pos++] = c;
    else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/** Bytewise comparison of two ranges of one buffer. */
function compareRanges(b: Uint8Array, aOff: number, aLen: number, cOff: number, cLen: number): number {
  const n = Math.min(aLen, cLen);
  for (let i = 0; i < n; i++) {
    const d = b[aOff + i]! - b[cOff + i]!;
    if (d !== 0) return d;
  }
  return aLen - cLen;
}

function varintSize(n: number): number {
  let k = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    k++;
  }
  return k;
}

function putVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[pos++] = n;
  return pos;
}

/** Copies src into dst at pos; a loop beats TypedArray#set's fixed cost for short inputs. */
function copy(dst: Uint8Array, pos: number, src: Uint8Array): void {
  const n = src.length;
  if (n > 64) dst.set(src, pos);
  else for (let i = 0; i < n; i++) dst[pos + i] = src[i]!;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function bad(message: string): never {
  throw new LimitError("exec/bad-input", message);
}

/** Encodes the input blob: caller[32] ‖ op_key ‖ args ‖ varint n ‖ n × (key ‖ u8 state ‖ [value]). */
export function encodeInput(
  caller: Uint8Array,
  opKey: string,
  args: Uint8Array,
  records: readonly TouchedRecord[],
  scratch?: Uint8Array,
): EncodedInput {
  if (!(caller instanceof Uint8Array) || caller.length !== CALLER_KEY_BYTES)
    bad(`caller key must be ${CALLER_KEY_BYTES} bytes`);
  const opLen = utf8Length(opKey);
  if (opLen <= 0 || opLen > MAX_KEY_BYTES) bad("operation key is empty, too long or not well-formed");
  checkArgsSize(args.length);
  if (records.length > MAX_TOUCHED_KEYS) bad(`${records.length} touched keys exceed ${MAX_TOUCHED_KEYS}`);
  const keyLengths: number[] = [];
  let size =
    CALLER_KEY_BYTES +
    varintSize(opLen) +
    opLen +
    varintSize(args.length) +
    args.length +
    varintSize(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const n = utf8Length(r.key);
    if (n <= 0 || n > MAX_KEY_BYTES) bad("touched key is empty, too long or not well-formed");
    keyLengths.push(n);
    size += varintSize(n) + n + 1;
    if (r.value !== null) {
      checkValueSize(r.value.length);
      size += varintSize(r.value.length) + r.value.length;
    }
  }
  const buffer =
    scratch !== undefined && scratch.length >= size
      ? scratch
      : new Uint8Array(Math.max(size, 2 * (scratch?.length ?? 0)));
  const blob = buffer.subarray(0, size);
  copy(blob, 0, caller);
  let pos = putVarint(blob, CALLER_KEY_BYTES, opLen);
  pos = putUtf8(blob, pos, opKey);
  pos = putVarint(blob, pos, args.length);
  copy(blob, pos, args);
  pos = putVarint(blob, pos + args.length, records.length);
  const keyOffsets: number[] = [];
  for (let i = 0; i < records.length; i++) {
    const n = keyLengths[i]!;
    pos = putVarint(blob, pos, n);
    keyOffsets.push(pos);
    pos = putUtf8(blob, pos, records[i]!.key);
    if (i > 0 && compareRanges(blob, keyOffsets[i - 1]!, keyLengths[i - 1]!, keyOffsets[i]!, n) >= 0)
      bad("touched keys must be unique and in ascending byte order");
    const v = records[i]!.value;
    if (v === null) blob[pos++] = RECORD_ABSENT;
    else {
      blob[pos++] = RECORD_PRESENT;
      pos = putVarint(blob, pos, v.length);
      copy(blob, pos, v);
      pos += v.length;
    }
  }
  return { blob, buffer, keyOffsets, keyLengths };
}

/** Why a result blob was refused, with the first offending write's key where there is one. */
export type ResultVerdict =
  | { readonly ok: true; readonly writes: Write[] }
  | {
      readonly ok: false;
      readonly reason: "malformed-result" | "domain-violation" | "write-not-touched";
      readonly message: string;
    };

function malformed(message: string): ResultVerdict {
  return { ok: false, reason: "malformed-result", message };
}

/** Bounded minimal-form varint within `max`; -1 when truncated, overlong, non-minimal or above max. */
function readVarint(b: Uint8Array, pos: { p: number }, max: number): number {
  let v = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (pos.p >= b.length) return -1;
    const x = b[pos.p++]!;
    v += (x & 0x7f) * scale;
    if ((x & 0x80) === 0) {
      if (x === 0 && i > 0) return -1;
      return v <= max ? v : -1;
    }
    scale *= 128;
  }
  return -1;
}

/**
 * Decodes a result blob and applies the write rules: canonical encoding, keys strictly ascending,
 * values within MAX_VALUE_BYTES, every key inside the op's domain and among the touched keys.
 * Writes are checked in order; the first failure decides the verdict.
 */
export function decodeResult(
  blob: Uint8Array,
  records: readonly TouchedRecord[],
  input: EncodedInput,
  mayWrite: (key: string) => boolean,
): ResultVerdict {
  const ib = input.blob;
  const pos = { p: 0 };
  const n = readVarint(blob, pos, MAX_TOUCHED_KEYS);
  if (n < 0) return malformed("bad write count");
  const writes: Write[] = [];
  let prev: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    const klen = readVarint(blob, pos, MAX_KEY_BYTES);
    if (klen < 0 || klen === 0 || pos.p + klen > blob.length) return malformed(`write ${i}: bad key`);
    const kb = blob.subarray(pos.p, pos.p + klen);
    pos.p += klen;
    if (prev !== null && compareBytes(prev, kb) >= 0)
      return malformed(`write ${i}: keys not in strictly ascending order`);
    prev = kb;
    if (pos.p >= blob.length) return malformed(`write ${i}: missing kind`);
    const kind = blob[pos.p++]!;
    let value: Uint8Array | null = null;
    if (kind === WRITE_SET) {
      const vlen = readVarint(blob, pos, Number.MAX_SAFE_INTEGER);
      if (vlen < 0 || pos.p + vlen > blob.length) return malformed(`write ${i}: bad value`);
      const tooLarge = valueSizeViolation(vlen);
      if (tooLarge !== null) return malformed(`write ${i}: ${tooLarge.code}: ${tooLarge.message}`);
      value = blob.slice(pos.p, pos.p + vlen);
      pos.p += vlen;
    } else if (kind !== WRITE_REMOVE) return malformed(`write ${i}: unknown kind ${kind}`);

    let key: string | undefined;
    for (let j = 0; j < records.length; j++) {
      if (input.keyLengths[j] !== klen) continue;
      const off = input.keyOffsets[j]!;
      let k = 0;
      while (k < klen && ib[off + k] === kb[k]) k++;
      if (k === klen) {
        key = records[j]!.key;
        break;
      }
    }
    const touched = key !== undefined;
    if (key === undefined) {
      try {
        key = decoder.decode(kb);
      } catch {
        return malformed(`write ${i}: key is not valid UTF-8`);
      }
    }
    if (!mayWrite(key))
      return {
        ok: false,
        reason: "domain-violation",
        message: `write to ${JSON.stringify(key)} outside the operation's domain`,
      };
    if (!touched)
      return {
        ok: false,
        reason: "write-not-touched",
        message: `write to ${JSON.stringify(key)}, which is not a touched key`,
      };
    writes.push({ key, value });
  }
  if (pos.p !== blob.length) return malformed(`${blob.length - pos.p} trailing bytes`);
  return { ok: true, writes };
}
