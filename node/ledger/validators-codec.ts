// Canonical encoding of a validator list (ids and keys, ascending id), as nodes serve it to light
// clients with the header that decided it.
import { Reader, Writer } from "../common/codec.js";
import type { Validator } from "./header.js";

export function encodeValidators(vs: readonly Validator[]): Uint8Array {
  const w = new Writer(40 * vs.length + 4).varint(vs.length);
  for (const v of [...vs].sort((a, b) => a.id - b.id)) w.varint(v.id).raw(v.publicKey);
  return w.finish();
}

export function decodeValidators(b: Uint8Array): Validator[] {
  const r = new Reader(b);
  const n = r.varint(1024, "validators");
  const out: Validator[] = [];
  for (let i = 0; i < n; i++) out.push({ id: r.varint(1 << 30, "id"), publicKey: r.copy(32, "key") });
  r.end("validators");
  return out;
}
