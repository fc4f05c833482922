// The Arbor operation SDK for AssemblyScript. An operation is a module whose entry file exports
//
//     export function run(): i32 { ...; return done(); }
//
// and uses these functions to read its input (caller key, arguments, touched records) and to
// record writes; done() hands the writes to the host. Reads see the op's own earlier writes.
// The byte layouts behind this are in docs/abi.md. Build with --runtime stub, no floats.

import { host_ed25519_verify, host_input_read, host_input_size, host_sha256 } from "./host";
import { bytesEqual, compareBytes, Encoder, fail, fromUtf8, Reader, u64ToBytes, bytesToU64, utf8 } from "./codec";

export { bytesEqual, compareBytes, Encoder, fail, fromUtf8, isUtf8, Reader, u64ToBytes, bytesToU64, utf8 } from "./codec";

const NO_WRITE: i32 = -1;
const WRITE_REMOVE: i32 = 0;
const WRITE_SET: i32 = 1;

class Touched {
  pending: i32 = NO_WRITE;
  written: Uint8Array = new Uint8Array(0);
  constructor(
    public key: Uint8Array,
    public present: bool,
    public value: Uint8Array,
  ) {}
}

class Input {
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
  const r = new Reader(blob, "input");
  const caller = r.raw(32);
  const opKey = r.string();
  const args = r.bytes();
  const count = r.length();
  const records = new Array<Touched>(0);
  for (let k = 0; k < count; k++) {
    const key = r.bytes();
    const state = r.u8();
    const present = state == 1;
    records.push(new Touched(key, present, present ? r.bytes() : new Uint8Array(0)));
  }
  r.end();
  i = new Input(caller, opKey, args, records);
  input = i;
  return i;
}

function find(key: string): Touched {
  const kb = utf8(key);
  const records = load().records;
  // Touched keys are sorted by their bytes: binary search.
  let lo = 0;
  let hi = records.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const rec = unchecked(records[mid]);
    const c = compareBytes(rec.key, kb);
    if (c == 0) return rec;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
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
  const k = load().opKey;
  const i = k.lastIndexOf("/");
  return i < 0 ? "" : k.substring(0, i);
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
  return host_ed25519_verify(publicKey.dataStart, message.dataStart, message.length, signature.dataStart) == 1;
}

/** A metered no-op (AssemblyScript's trace): messages are not kept, so nothing depends on them. */
export function log(message: string): void {
  trace(message);
}

/** Encodes the writes for the host and returns the pointer `run` must return. Call it last. */
export function done(): i32 {
  const records = load().records;
  let n = 0;
  for (let i = 0; i < records.length; i++) if (unchecked(records[i]).pending != NO_WRITE) n++;
  const e = new Encoder(256);
  e.u8(0).u8(0).u8(0).u8(0); // room for the u32 little-endian length
  e.varint(<u64>n);
  for (let i = 0; i < records.length; i++) {
    const t = unchecked(records[i]);
    if (t.pending == NO_WRITE) continue;
    e.bytes(t.key);
    if (t.pending == WRITE_SET) e.u8(<u8>WRITE_SET).bytes(t.written);
    else e.u8(<u8>WRITE_REMOVE);
  }
  const out = e.finish();
  const len = out.length - 4;
  out[0] = <u8>len;
  out[1] = <u8>(len >> 8);
  out[2] = <u8>(len >> 16);
  out[3] = <u8>(len >> 24);
  return <i32>out.dataStart;
}
