// Portable Ed25519 for clients (Node and browsers): @noble/ed25519 with @noble/hashes' SHA-512.
// Nodes verify with node:crypto; a client only signs its own requests and checks nodes' honest
// signatures, for which RFC 8032 verification (no ZIP-215 leniency) is used.
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";

ed.hashes.sha512 = (m: Uint8Array) => sha512(m);

export interface ClientKey {
  /** 32-byte seed (the stored private key) */
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function keyFromSeed(seed: Uint8Array): ClientKey {
  if (seed.length !== 32) throw new RangeError("an Ed25519 seed is 32 bytes");
  return { seed: new Uint8Array(seed), publicKey: ed.getPublicKey(seed) };
}

export function generateKey(): ClientKey {
  return keyFromSeed(ed.utils.randomSecretKey());
}

export function sign(key: ClientKey, message: Uint8Array): Uint8Array {
  return ed.sign(message, key.seed);
}

export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

export const clientVerifier = { ed25519Verify: verify };
