// Shared pieces of the protocol test vectors (docs/vectors/*.json): deterministic keys, the
// verifiers a vector must satisfy, and the shape of a listed mutation.
import { ArborError } from "../../node/common/errors.js";
import { toHex, utf8 } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";
import { keyPairFromSeed, type KeyPair } from "../../node/keys.js";
import { nodeEd25519Verify } from "../../node/exec/host-crypto.js";
import { portableEd25519 } from "../../client/crypto.js";

/** The Ed25519 seed of a vector's key: SHA-256 of "arbor vector key " and its label. */
export function seedOf(label: string): Uint8Array {
  return sha256(utf8(`arbor vector key ${label}`));
}

export function keyOf(label: string): KeyPair {
  return keyPairFromSeed(seedOf(label));
}

/** A key as a vector lists it: the label its seed derives from, the seed and the public key. */
export function keyJson(label: string): { label: string; seed: string; publicKey: string } {
  const k = keyOf(label);
  return { label, seed: toHex(k.seed), publicKey: toHex(k.publicKey) };
}

/** Every Ed25519 verifier in the code: the node's (node:crypto) and the client's portable one. */
export const VERIFIERS: ReadonlyArray<{
  readonly name: string;
  readonly verify: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;
}> = [
  { name: "node", verify: nodeEd25519Verify },
  { name: portableEd25519.name, verify: (k, m, s) => portableEd25519.verify(k, m, s) },
];

/** True when every verifier accepts the signature (false when every one refuses; throws if they disagree). */
export function verifiedByAll(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const verdicts = VERIFIERS.map((v) => v.verify(publicKey, message, signature));
  if (verdicts.some((x) => x !== verdicts[0]))
    throw new Error(`Ed25519 verifiers disagree: ${VERIFIERS.map((v, i) => `${v.name}=${verdicts[i]}`)}`);
  return verdicts[0]!;
}

/** The stable code of an error the code throws on bad bytes, or a plain marker for anything else. */
export function codeOf(e: unknown): string {
  return e instanceof ArborError ? e.code : `unexpected: ${String(e)}`;
}

/** A copy of `b` with byte `at` (negative: from the end) XOR-ed with 0x01. */
export function flip(b: Uint8Array, at: number): Uint8Array {
  const out = new Uint8Array(b);
  const i = at < 0 ? b.length + at : at;
  out[i] = out[i]! ^ 0x01;
  return out;
}

export function withByte(b: Uint8Array, extra: number): Uint8Array {
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  out[b.length] = extra;
  return out;
}

/** `ok`, or the code of the first check that refuses. */
export type Verdict = string;
