// The Arbor operation SDK for AssemblyScript. An operation is a module whose entry file exports
//
//     export function run(): i32 { ...; return done(); }
//
// and uses these functions to read its input (caller key, arguments, touched records) and to
// record writes; done() hands the writes to the host. Reads see the op's own earlier writes.
// The byte layouts behind this are in docs/abi.md. Build with --runtime stub, no floats.

import {
  ed25519_verify as host_ed25519_verify,
  input_read as host_input_read,
  input_size as host_input_size,
  sha256 as host_sha256,
} from "./arbor";
import { bytesEqual, fail, fromTrustedUtf8, fromUtf8, Reader, u64ToBytes, bytesToU64, utf8 } from "./codec";

export {
  bytesEqual,
  compareBytes,
  Encoder,
  fail,
  fromUtf8,
  isUtf8,
  Reader,
  u64ToBytes,
  bytesToU64,
  utf8,
} from "./codec";

const NO_WRITE: i32 = -1;
const WRITE_REMOVE: i32 = 0;
const WRITE_SET: i32 = 1;

class Touched {
  pending: i32 = NO_WRITE;
  written: Uint8Array = new Uint8Array(0);
  /** The key as a string, decoded on first use. */
  keyStr: string | null = null;
  /** Address of the last string object found to equal this key (a cheap repeat lookup). */
  matched: usize = 0;
  constructor(
    public key: Uint8Array,
    public present: bool,
    public value: Uint8Array,
  ) {}
}

class Input {
  domain: string | null = null;
  constructor(
    public caller: Uint8Array,
    public opKey: string,
    public args: Uint8Array,
    public records: Array<Touched>,
  ) {}
}

let input: Input | null = null;

function load(): Input {
  let i = input;
  if (i != null) return i;
  const n = host_input_size();
  const blob = new Uint8Array(n);
  host_input_read(blob.dataStart);
  // The host wrote this blob (canonical, well-formed UTF-8): decode without re-validating.
  const r = new Reader(blob, "input");
  const caller = r.raw(32);
  const opKey = fromTrustedUtf8(r.bytes());
  const args = r.bytes();
  const count = r.length();
  const records = new Array<Touched>(count);
  for (let k = 0; k < count; k++) {
    const key = r.bytes();
    const present = r.u8() == 1;
    unchecked((records[k] = new Touched(key, present, present ? r.bytes() : new Uint8Array(0))));
  }
  i = new Input(caller, opKey, args, records);
  input = i;
  return i;
}

function find(key: string): Touched {
  const records = load().records;
  const p = changetype<usize>(key);
  for (let i = 0; i < records.length; i++)
    if (unchecked(records[i]).matched == p) return unchecked(records[i]);
  for (let i = 0; i < records.length; i++) {
    const t = unchecked(records[i]);
    let s = t.keyStr;
    if (s == null) {
      s = fromTrustedUtf8(t.key);
      t.keyStr = s;
    }
    if (s == key) {
      t.matched = p;
      return t;
    }
  }
  fail("key not touched: " + key);
  return unchecked(records[0]);
}

/** The request signer's 32-byte Ed25519 public key. */
export function caller(): Uint8Array {
  return load().caller;
}

/** True when the caller's key equals `key`. */
export function callerIs(key: Uint8Array): bool {
  return bytesEqual(load().caller, key);
}

/** This operation's own key. */
export function opKey(): string {
  return load().opKey;
}

/** This operation's domain: its key up to the last '/', or "" for the root domain. */
export function domain(): string {
  const input = load();
  let d = input.domain;
  if (d == null) {
    const k = input.opKey;
    const i = k.lastIndexOf("/");
    d = i < 0 ? "" : k.substring(0, i);
    input.domain = d;
  }
  return d!;
}

/** The raw argument bytes. */
export function argBytes(): Uint8Array {
  return load().args;
}

/** A reader over the arguments (canonical codec: varint, u64, bytes, string). */
export function args(): Reader {
  return new Reader(load().args, "args");
}

/** True when `key` is among the touched keys. */
export function isTouched(key: string): bool {
  const kb = utf8(key);
  const records = load().records;
  for (let i = 0; i < records.length; i++) if (bytesEqual(unchecked(records[i]).key, kb)) return true;
  return false;
}

/** True when the touched record `key` exists (after this op's own writes). Aborts if not touched. */
export function has(key: string): bool {
  const t = find(key);
  if (t.pending == WRITE_SET) return true;
  if (t.pending == WRITE_REMOVE) return false;
  return t.present;
}

/** The value of touched record `key`, or null when absent. Aborts if not touched. */
export function get(key: string): Uint8Array | null {
  const t = find(key);
  if (t.pending == WRITE_SET) return t.written;
  if (t.pending == WRITE_REMOVE || !t.present) return null;
  return t.value;
}

/** The value of `key`, which must exist. */
export function getBytes(key: string): Uint8Array {
  const v = get(key);
  if (v == null) {
    fail("record missing: " + key);
    return new Uint8Array(0);
  }
  return v;
}

/** The value of `key` as a fixed 8-byte big-endian u64. */
export function getU64(key: string): u64 {
  const v = getBytes(key);
  if (v.length != 8) fail("record is not a u64: " + key);
  return bytesToU64(v, 0);
}

/** The value of `key` as a UTF-8 string. */
export function getString(key: string): string {
  return fromUtf8(getBytes(key));
}

/** Sets touched record `key` to `value`. */
export function set(key: string, value: Uint8Array): void {
  const t = find(key);
  t.pending = WRITE_SET;
  t.written = value;
}

export function setU64(key: string, v: u64): void {
  set(key, u64ToBytes(v));
}

export function setString(key: string, s: string): void {
  set(key, utf8(s));
}

/** Removes touched record `key`. */
export function remove(key: string): void {
  const t = find(key);
  t.pending = WRITE_REMOVE;
  t.written = new Uint8Array(0);
}

/** SHA-256 of `data` (a metered host call). */
export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  host_sha256(data.dataStart, data.length, out.dataStart);
  return out;
}

/** Ed25519 verification with the node's verifier (a metered host call). */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): bool {
  if (publicKey.length != 32 || signature.length != 64) return false;
  return (
    host_ed25519_verify(publicKey.dataStart, message.dataStart, message.length, signature.dataStart) == 1
  );
}

/** A metered no-op (AssemblyScript's trace): messages are not kept, so nothing depends on them. */
export function log(message: string): void {
  trace(message);
}

function varintSize(n: i32): i32 {
  let k = 1;
  while (n >= 0x80) {
    n >>>= 7;
    k++;
  }
  return k;
}

function putVarint(p: usize, n: i32): usize {
  while (n >= 0x80) {
    store<u8>(p++, <u8>((n & 0x7f) | 0x80));
    n >>>= 7;
  }
  store<u8>(p++, <u8>n);
  return p;
}

function putBytes(p: usize, b: Uint8Array): usize {
  p = putVarint(p, b.length);
  memory.copy(p, b.dataStart, <usize>b.length);
  return p + <usize>b.length;
}

/** Encodes the writes for the host and returns the pointer `run` must return. Call it last. */
export function done(): i32 {
  const records = load().records;
  let n = 0;
  let size = 0;
  for (let i = 0; i < records.length; i++) {
    const t = unchecked(records[i]);
    if (t.pending == NO_WRITE) continue;
    n++;
    size += varintSize(t.key.length) + t.key.length + 1;
    if (t.pending == WRITE_SET) size += varintSize(t.written.length) + t.written.length;
  }
  size += varintSize(n);
  // [u32 little-endian length][blob]
  const out = new Uint8Array(size + 4);
  const base = out.dataStart;
  store<u32>(base, <u32>size);
  let p = putVarint(base + 4, n);
  for (let i = 0; i < records.length; i++) {
    const t = unchecked(records[i]);
    if (t.pending == NO_WRITE) continue;
    p = putBytes(p, t.key);
    store<u8>(p++, <u8>t.pending);
    if (t.pending == WRITE_SET) p = putBytes(p, t.written);
  }
  return <i32>base;
}
