// SHA-256 for the whole project, behind one function so pure code stays portable.
// The default is @noble/hashes (runs anywhere, including browsers). A node process installs
// node:crypto's implementation at startup (about twice as fast), and so does the client SDK when
// it runs under Node; both are SHA-256, and a test checks them against the same vectors.
// The in-memory tree holds digests as 32-character latin1 strings (one character per byte): far
// smaller on the heap than a Uint8Array each, and node:crypto returns them without a copy.

import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { bytesToLatin1 } from "./bytes.js";

export type Sha256 = (data: Uint8Array) => Uint8Array;
/** SHA-256 whose digest comes back as a latin1 string of 32 characters. */
export type Sha256Latin1 = (data: Uint8Array) => string;

let impl: Sha256 = (d) => nobleSha256(d);
let implLatin1: Sha256Latin1 = (d) => bytesToLatin1(nobleSha256(d));

export function sha256(data: Uint8Array): Uint8Array {
  return impl(data);
}

/** SHA-256 of `data` as a latin1 string (the same digest as `sha256`, one character per byte). */
export function sha256Latin1(data: Uint8Array): string {
  return implLatin1(data);
}

/**
 * Replaces the SHA-256 implementation (node shell, or the SDK under Node). Must compute SHA-256.
 * The latin1 form follows it until `installSha256Latin1` gives a direct one.
 */
export function installSha256(fn: Sha256): void {
  impl = fn;
  implLatin1 = (d) => bytesToLatin1(fn(d));
}

/** Installs a direct latin1-digest implementation of SHA-256 (after `installSha256`). */
export function installSha256Latin1(fn: Sha256Latin1): void {
  implLatin1 = fn;
}

export const portableSha256: Sha256 = (d) => nobleSha256(d);
