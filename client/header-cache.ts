// Certified headers this process has verified, shared by every client in it: a certificate (2f+1
// Ed25519 verifications) is checked once per height per process, however many clients, reads and
// receipts need that height. An entry is handed only to a client that expects the validator set
// the header names at that height, so a client never trusts a header checked against a set it
// does not believe in. Bounded (MAX_VERIFIED_HEADERS), the least recently stored forgotten first.

import { bytesEqual, toHex } from "../node/common/bytes.js";
import { validatorsHash, type CertifiedHeader, type Validator } from "../node/ledger/header.js";

/** Verified certified headers kept per process (all chains together); about 0.5 KiB each. */
export const MAX_VERIFIED_HEADERS = 4096;

const headers = new Map<string, CertifiedHeader>();
/** Validator-set hashes by set (a client's history hands out the same array for a set). */
const setHashes = new WeakMap<readonly Validator[], Uint8Array>();

function key(chain: Uint8Array, height: bigint): string {
  return `${toHex(chain)}:${height}`;
}

export function setHash(set: readonly Validator[]): Uint8Array {
  let h = setHashes.get(set);
  if (h === undefined) {
    h = validatorsHash(set);
    setHashes.set(set, h);
  }
  return h;
}

/** The verified header of `chain` at `height`, if this process has one certified by `set`. */
export function verifiedHeader(
  chain: Uint8Array,
  height: bigint,
  set: readonly Validator[],
): CertifiedHeader | undefined {
  const c = headers.get(key(chain, height));
  return c !== undefined && bytesEqual(c.header.validatorsHash, setHash(set)) ? c : undefined;
}

/** Stores a header whose certificate the caller has just verified against its validator set. */
export function rememberVerifiedHeader(c: CertifiedHeader): void {
  const k = key(c.header.chain, c.header.height);
  headers.delete(k);
  headers.set(k, c);
  if (headers.size > MAX_VERIFIED_HEADERS) headers.delete(headers.keys().next().value!);
}
