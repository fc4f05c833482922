// Ed25519 for clients, in Node and in browsers. Portable: @noble/ed25519 with @noble/hashes'
// SHA-512. Under Node, node:crypto (OpenSSL) does the same work 20–50 times faster — a client
// verifies several signatures per request (node statements, receipts, header certificates) — so
// it is used there, found at run time through `process.getBuiltinModule` (no static import: a
// browser bundle never sees node:crypto). Both sign alike (Ed25519 signatures are deterministic)
// and verify by RFC 8032 without ZIP-215 leniency: a client only signs its own requests and checks
// nodes' honest signatures. Nodes verify everything consensus decides with node:crypto too.
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import { installSha256 } from "../node/common/hash.js";
import { bytesToLatin1 } from "../node/common/bytes.js";
import type { SignatureVerifier } from "../node/common/signature-verifier.js";

ed.hashes.sha512 = (m: Uint8Array) => sha512(m);

export interface ClientKey {
  /** 32-byte seed (the stored private key) */
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** An Ed25519 implementation the client signs and verifies with. */
export interface Ed25519 extends SignatureVerifier {
  readonly name: string;
  sign(key: ClientKey, message: Uint8Array): Uint8Array;
}

/** @noble/ed25519: runs anywhere. */
export const portableEd25519: Ed25519 = {
  name: "@noble/ed25519",
  sign: (key, message) => ed.sign(message, key.seed),
  verify: (publicKey, message, signature) => {
    try {
      return ed.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};

/** The part of node:crypto used here (typed locally: this file must also compile for browsers). */
interface NodeCrypto {
  createPrivateKey(o: { key: Uint8Array; format: "der"; type: "pkcs8" }): object;
  createPublicKey(o: { key: Uint8Array; format: "der"; type: "spki" }): object;
  sign(algorithm: null, data: Uint8Array, key: object): Uint8Array;
  verify(algorithm: null, data: Uint8Array, key: object, signature: Uint8Array): boolean;
  hash?(algorithm: "sha256", data: Uint8Array, encoding: "binary"): string;
}

/** DER prefixes of an Ed25519 PKCS#8 private key and SubjectPublicKeyInfo; 32 raw bytes follow. */
const PKCS8_PREFIX = [
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
const SPKI_PREFIX = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/** Parsed public keys kept (parsing costs about as much as a verification); nodes and a few keys. */
const PUBLIC_KEY_CACHE = 1024;

function der(prefix: readonly number[], raw: Uint8Array): Uint8Array {
  const b = new Uint8Array(prefix.length + 32);
  b.set(prefix);
  b.set(raw, prefix.length);
  return b;
}

function latin1(b: Uint8Array): string {
  return bytesToLatin1(b);
}

function nodeCrypto(): NodeCrypto | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (proc?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined) ?? null;
}

/** node:crypto's Ed25519, or null outside Node (or on a Node without getBuiltinModule). */
export function nativeEd25519(): Ed25519 | null {
  const c = nodeCrypto();
  if (!c) return null;
  const privateKeys = new WeakMap<ClientKey, { seed: string; key: object }>();
  const publicKeys = new Map<string, object | null>();
  const privateKeyOf = (k: ClientKey): object => {
    const seed = latin1(k.seed);
    const have = privateKeys.get(k);
    if (have && have.seed === seed) return have.key;
    const key = c.createPrivateKey({ key: der(PKCS8_PREFIX, k.seed), format: "der", type: "pkcs8" });
    privateKeys.set(k, { seed, key });
    return key;
  };
  const publicKeyOf = (raw: Uint8Array): object | null => {
    const id = latin1(raw);
    let k = publicKeys.get(id);
    if (k === undefined) {
      try {
        k = c.createPublicKey({ key: der(SPKI_PREFIX, raw), format: "der", type: "spki" });
      } catch {
        k = null;
      }
      if (publicKeys.size >= PUBLIC_KEY_CACHE) publicKeys.delete(publicKeys.keys().next().value!);
      publicKeys.set(id, k);
    }
    return k;
  };
  return {
    name: "node:crypto",
    sign: (key, message) => {
      if (key.seed.length !== 32) throw new RangeError("an Ed25519 seed is 32 bytes");
      return new Uint8Array(c.sign(null, message, privateKeyOf(key)));
    },
    verify: (publicKey, message, signature) => {
      if (publicKey.length !== 32 || signature.length !== 64) return false;
      const k = publicKeyOf(publicKey);
      if (k === null) return false;
      try {
        return c.verify(null, message, k, signature);
      } catch {
        return false;
      }
    },
  };
}

let impl: Ed25519 = nativeEd25519() ?? portableEd25519;

// Under Node, SHA-256 (key paths, proof labels, digests) through node:crypto as well, as node
// processes do (node/platform.ts): the same function, about twice as fast on small inputs.
{
  const c = nodeCrypto();
  const hash = c?.hash;
  if (c && hash)
    installSha256((d) => {
      const s = hash.call(c, "sha256", d, "binary");
      const out = new Uint8Array(32);
      for (let i = 0; i < 32; i++) out[i] = s.charCodeAt(i);
      return out;
    });
}

/** The implementation in use: "node:crypto" under Node, "@noble/ed25519" elsewhere. */
export function ed25519Name(): string {
  return impl.name;
}

/** Replaces the implementation (tests compare both; a platform may bring its own). */
export function useEd25519(e: Ed25519): void {
  impl = e;
}

export function keyFromSeed(seed: Uint8Array): ClientKey {
  if (seed.length !== 32) throw new RangeError("an Ed25519 seed is 32 bytes");
  return { seed: new Uint8Array(seed), publicKey: ed.getPublicKey(seed) };
}

export function generateKey(): ClientKey {
  return keyFromSeed(ed.utils.randomSecretKey());
}

export function sign(key: ClientKey, message: Uint8Array): Uint8Array {
  return impl.sign(key, message);
}

export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return impl.verify(publicKey, message, signature);
}

/** The client's verifier, in the shape every checker shared with the nodes takes. */
export const clientVerifier: SignatureVerifier = { verify };
