// Ed25519 keys for nodes and clients through node:crypto: generation, raw 32-byte public keys,
// 32-byte seeds as the stored form of a private key, and signing. Verification lives in
// node/platform.ts (nodeSignatureVerifier): one verifier for everything consensus decides.

import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";

const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

export interface KeyPair {
  /** 32-byte seed: the stored form of the private key */
  readonly seed: Uint8Array;
  /** 32-byte raw public key */
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.length !== 32) throw new RangeError("an Ed25519 seed is 32 bytes");
  const der = new Uint8Array(PKCS8_PREFIX.length + 32);
  der.set(PKCS8_PREFIX);
  der.set(seed, PKCS8_PREFIX.length);
  const privateKey = createPrivateKey({ key: Buffer.from(der), format: "der", type: "pkcs8" });
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return {
    seed: new Uint8Array(seed),
    publicKey: new Uint8Array(spki.subarray(spki.length - 32)),
    privateKey,
  };
}

export function generateKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync("ed25519");
  const pk8 = privateKey.export({ format: "der", type: "pkcs8" });
  return keyPairFromSeed(new Uint8Array(pk8.subarray(pk8.length - 32)));
}

export function signWith(key: KeyPair, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, key.privateKey));
}
