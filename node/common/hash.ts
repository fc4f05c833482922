// SHA-256 for the whole project, behind one function so pure code stays portable.
// The default is @noble/hashes (runs anywhere, including browsers). A node process installs
// node:crypto's implementation at startup (about twice as fast), and so does the client SDK when
// it runs under Node; both are SHA-256, and a test checks them against the same vectors.

import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

export type Sha256 = (data: Uint8Array) => Uint8Array;

let impl: Sha256 = (d) => nobleSha256(d);

export function sha256(data: Uint8Array): Uint8Array {
  return impl(data);
}

/** Replaces the SHA-256 implementation (node shell, or the SDK under Node). Must compute SHA-256. */
export function installSha256(fn: Sha256): void {
  impl = fn;
}

export const portableSha256: Sha256 = (d) => nobleSha256(d);
