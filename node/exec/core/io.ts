// The bytes that cross the sandbox wall: the input blob the host hands to an operation and the
// result blob it hands back (layouts in abi.ts and docs/abi.md). Encoding checks the caller's input
// against the named bounds (LimitError); decoding treats the op's output as hostile.

import { compareBytes, isWellFormedString } from "../../common/bytes.js";
import { LimitError } from "../../common/errors.js";
import { MAX_ARGS_BYTES, MAX_KEY_BYTES, MAX_TOUCHED_KEYS, MAX_VALUE_BYTES } from "../../common/limits.js";
import { CALLER_KEY_BYTES, RECORD_ABSENT, RECORD_PRESENT, WRITE_REMOVE, WRITE_SET } from "./abi.js";

export interface TouchedRecord {
  readonly key: string;
  /** The record's value, or null when the record is absent. */
  readonly value: Uint8Array | null;
}

export interface Write {
  readonly key: string;
  /** The new value, or null to remove the record. */
  readonly value: Uint8Array | null;
}

export interface EncodedInput {
  readonly blob: Uint8Array;
  /** UTF-8 bytes of each touched key, in order. */
  readonly keyBytes: readonly Uint8Array[];
}

/** UTF-8 of a key, or null when it is not well-formed (lone surrogates). ASCII keys take a fast path. */
export function keyUtf8(s: string): Uint8Array | null {
  const n = s.length;
  let ascii = true;
  for (let i = 0; i < n; i++)
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  if (ascii) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  if (!isWellFormedString(s)) return null;
  return encoder.encode(s);
}
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

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

function bad(message: string): never {
  throw new LimitError("exec/bad-input", message);
}

/** Encodes the input blob: caller[32] ‖ op_key ‖ args ‖ varint n ‖ n × (key ‖ u8 state ‖ [value]). */
export function encodeInput(caller: Uint8Array, opKey: string, args: Uint8Array, records: readonly TouchedRecord[]): EncodedInput {
  if (caller.length !== CALLER_KEY_BYTES) bad(`caller key must be ${CALLER_KEY_BYTES} bytes`);
  const op = keyUtf8(opKey);
  if (op === null || op.length === 0 || op.length > MAX_KEY_BYTES) bad("operation key is empty, too long or not well-formed");
  if (args.length > MAX_ARGS_BYTES) bad(`arguments of ${args.length} bytes exceed ${MAX_ARGS_BYTES}`);
  if (records.length > MAX_TOUCHED_KEYS) bad(`${records.length} touched keys exceed ${MAX_TOUCHED_KEYS}`);
  const keyBytes: Uint8Array[] = [];
  let size = CALLER_KEY_BYTES + varintSize(op.length) + op.length + varintSize(args.length) + args.length + varintSize(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const k = keyUtf8(r.key);
    if (k === null || k.length === 0 || k.length > MAX_KEY_BYTES) bad("touched key is empty, too long or not well-formed");
    if (i > 0 && compareBytes(keyBytes[i - 1]!, k) >= 0) bad("touched keys must be unique and in ascending byte order");
    keyBytes.push(k);
    size += varintSize(k.length) + k.length + 1;
    if (r.value !== null) {
      if (r.value.length > MAX_VALUE_BYTES) bad(`value of ${r.key} exceeds ${MAX_VALUE_BYTES} bytes`);
      size += varintSize(r.value.length) + r.value.length;
    }
  }
  const blob = new Uint8Array(size);
  blob.set(caller, 0);
  let pos = putVarint(blob, CALLER_KEY_BYTES, op.length);
  blob.set(op, pos);
  pos = putVarint(blob, pos + op.length, args.length);
  blob.set(args, pos);
  pos = putVarint(blob, pos + args.length, records.length);
  for (let i = 0; i < records.length; i++) {
    const k = keyBytes[i]!;
    pos = putVarint(blob, pos, k.length);
    blob.set(k, pos);
    pos += k.length;
    const v = records[i]!.value;
    if (v === null) blob[pos++] = RECORD_ABSENT;
    else {
      blob[pos++] = RECORD_PRESENT;
      pos = putVarint(blob, pos, v.length);
      blob.set(v, pos);
      pos += v.length;
    }
  }
  return { blob, keyBytes };
}

/** Why a result blob was refused, with the first offending write's key where there is one. */
export type ResultVerdict =
  | { readonly ok: true; readonly writes: Write[] }
  | { readonly ok: false; readonly reason: "malformed-result" | "domain-violation" | "write-not-touched"; readonly message: string };

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
  keyBytes: readonly Uint8Array[],
  mayWrite: (key: string) => boolean,
): ResultVerdict {
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
    if (prev !== null && compareBytes(prev, kb) >= 0) return malformed(`write ${i}: keys not in strictly ascending order`);
    prev = kb;
    if (pos.p >= blob.length) return malformed(`write ${i}: missing kind`);
    const kind = blob[pos.p++]!;
    let value: Uint8Array | null = null;
    if (kind === WRITE_SET) {
      const vlen = readVarint(blob, pos, MAX_VALUE_BYTES);
      if (vlen < 0 || pos.p + vlen > blob.length) return malformed(`write ${i}: bad value`);
      value = blob.slice(pos.p, pos.p + vlen);
      pos.p += vlen;
    } else if (kind !== WRITE_REMOVE) return malformed(`write ${i}: unknown kind ${kind}`);

    let key: string | undefined;
    for (let j = 0; j < keyBytes.length; j++)
      if (compareBytes(keyBytes[j]!, kb) === 0) {
        key = records[j]!.key;
        break;
      }
    const touched = key !== undefined;
    if (key === undefined) {
      try {
        key = decoder.decode(kb);
      } catch {
        return malformed(`write ${i}: key is not valid UTF-8`);
      }
    }
    if (!mayWrite(key)) return { ok: false, reason: "domain-violation", message: `write to ${JSON.stringify(key)} outside the operation's domain` };
    if (!touched) return { ok: false, reason: "write-not-touched", message: `write to ${JSON.stringify(key)}, which is not a touched key` };
    writes.push({ key, value });
  }
  if (pos.p !== blob.length) return malformed(`${blob.length - pos.p} trailing bytes`);
  return { ok: true, writes };
}
