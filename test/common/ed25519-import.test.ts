// The node's Ed25519 verifier imports raw public keys as JWK (much cheaper than DER through
// OpenSSL 3's decoders). Both forms must be the same key to OpenSSL: same verdicts on valid,
// tampered and hostile signatures, for ordinary keys and for edge-case encodings (zero,
// small-order points, non-canonical y).
import { test } from "node:test";
import assert from "node:assert/strict";
import { verify, randomBytes } from "node:crypto";
import { importEd25519PublicKey, importEd25519PublicKeyDer } from "../../node/platform.js";
import { generateKeyPair, signWith } from "../../node/keys.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
const verdict = (k: ReturnType<typeof importEd25519PublicKey>, m: Uint8Array, s: Uint8Array) => {
  if (k === null) return "no-key";
  try {
    return verify(null, m, k, s) ? "valid" : "invalid";
  } catch {
    return "throws";
  }
};

test("JWK and DER imports of an Ed25519 public key give the same verdicts", () => {
  const msg = new TextEncoder().encode("arbor");
  const keys: Uint8Array[] = [
    new Uint8Array(32), // y = 0
    hex("0100000000000000000000000000000000000000000000000000000000000000"), // identity (small order)
    hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // y = p - 1 (order 2)
    hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // y = p (non-canonical)
    hex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // y = p + 1 (non-canonical)
    hex("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
    hex("0100000000000000000000000000000000000000000000000000000000000080"), // x = 0 with sign bit
    hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), // order 8
    hex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), // order 8
  ];
  for (let i = 0; i < 24; i++) keys.push(new Uint8Array(randomBytes(32)));
  /** Hostile signatures, and a key's own signature on `msg` with a tampered copy when given. */
  const sigs = (own?: Uint8Array): Uint8Array[] => [
    new Uint8Array(64),
    Uint8Array.from([1, ...new Uint8Array(63)]), // R = identity, S = 0
    new Uint8Array(randomBytes(64)),
    ...(own ? [own, Uint8Array.from(own, (b, j) => (j === 63 ? b ^ 0x10 : b))] : []),
  ];
  for (const k of keys) {
    const a = importEd25519PublicKey(k);
    const b = importEd25519PublicKeyDer(k);
    assert.equal(a === null, b === null);
    for (const s of sigs()) assert.equal(verdict(a, msg, s), verdict(b, msg, s));
  }
  for (let i = 0; i < 16; i++) {
    const kp = generateKeyPair();
    const s = signWith(kp, msg);
    const a = importEd25519PublicKey(kp.publicKey);
    const b = importEd25519PublicKeyDer(kp.publicKey);
    assert.equal(verdict(a, msg, s), "valid");
    for (const x of sigs(s)) assert.equal(verdict(a, msg, x), verdict(b, msg, x));
  }
});
