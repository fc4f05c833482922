// node:crypto behind the executor's HostCrypto interface. This is the one Ed25519 verifier for
// everything consensus decides: a raw 32-byte key is wrapped as SPKI DER and checked with
// crypto.verify. Malformed keys or signatures verify as false; this never throws on input.

import { createHash, createPublicKey, verify } from "node:crypto";
import type { HostCrypto } from "./core/host.js";

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it. */
const ED25519_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);

export function nodeSha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

export function nodeEd25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const der = new Uint8Array(ED25519_SPKI_PREFIX.length + 32);
    der.set(ED25519_SPKI_PREFIX, 0);
    der.set(publicKey, ED25519_SPKI_PREFIX.length);
    const key = createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

export const nodeHostCrypto: HostCrypto = { sha256: nodeSha256, ed25519Verify: nodeEd25519Verify };
