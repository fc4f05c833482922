// Process-level native primitives: node:crypto's SHA-256 (installed in place of the portable one)
// and the node's one Ed25519 verifier — used for everything consensus decides (requests, votes,
// peers, headers, the executor's host function), because libraries disagree on non-canonical
// signatures.
import { createPublicKey, hash, verify, type KeyObject } from "node:crypto";
import { installSha256, installSha256Latin1 } from "./common/hash.js";
import { bytesToLatin1 } from "./common/bytes.js";
import type { SignatureVerifier } from "./common/signature-verifier.js";

/**
 * SHA-256 through node:crypto. The digest comes back as a binary (latin1) string and is copied
 * into a small on-heap Uint8Array: about twice as fast as asking for a Buffer, whose separate
 * backing store costs more to allocate and collect than the hash itself on these small inputs.
 */
export function nodeSha256(data: Uint8Array): Uint8Array {
  const s = hash("sha256", data, "binary");
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** SHA-256 through node:crypto with the digest as a latin1 string, as the in-memory tree keeps it. */
export function nodeSha256Latin1(data: Uint8Array): string {
  return hash("sha256", data, "binary");
}

export function installNodeSha256(): void {
  installSha256(nodeSha256);
  installSha256Latin1(nodeSha256Latin1);
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it. */
const ED25519_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);
/** Parsed public keys kept: parsing costs as much as a verification. */
const KEY_CACHE_ENTRIES = 16_384;
const keyCache = new Map<string, KeyObject | null>();

/**
 * A raw Ed25519 public key as an OpenSSL key object. Imported as a JWK: the same raw key as the
 * SPKI/DER form (OpenSSL stores the 32 bytes either way and decodes the point when verifying),
 * about ten times cheaper to import than DER through OpenSSL 3's decoders — a first request from
 * a new caller cost as much again as its signature check. DER remains the fallback.
 */
export function importEd25519PublicKey(raw: Uint8Array): KeyObject | null {
  try {
    return createPublicKey({
      key: {
        kty: "OKP",
        crv: "Ed25519",
        x: Buffer.from(raw.buffer, raw.byteOffset, 32).toString("base64url"),
      },
      format: "jwk",
    });
  } catch {
    return importEd25519PublicKeyDer(raw);
  }
}

/** The same key through its SPKI/DER encoding (the fallback, and the reference in tests). */
export function importEd25519PublicKeyDer(raw: Uint8Array): KeyObject | null {
  try {
    const der = new Uint8Array(ED25519_SPKI_PREFIX.length + 32);
    der.set(ED25519_SPKI_PREFIX, 0);
    der.set(raw, ED25519_SPKI_PREFIX.length);
    return createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" });
  } catch {
    return null;
  }
}

function publicKeyObject(raw: Uint8Array): KeyObject | null {
  const id = bytesToLatin1(raw);
  let k = keyCache.get(id);
  if (k === undefined) {
    k = importEd25519PublicKey(raw);
    if (keyCache.size >= KEY_CACHE_ENTRIES) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(id, k);
  }
  return k;
}

/** Ed25519 verification (RFC 8032 as OpenSSL implements it). Malformed input verifies as false; never throws. */
export function nodeEd25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const key = publicKeyObject(publicKey);
  if (key === null) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** The node's one Ed25519 verifier, handed to consensus, the ledger, the certifier and the executor. */
export const nodeSignatureVerifier: SignatureVerifier = { verify: nodeEd25519Verify };
