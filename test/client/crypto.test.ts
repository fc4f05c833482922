// The client's two Ed25519 implementations agree: node:crypto (used under Node) and @noble/ed25519
// (the portable one browsers use) give the same signatures and the same verdicts, on valid
// signatures, altered ones, and malformed or non-canonical input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  ed25519Name,
  generateKey,
  keyFromSeed,
  nativeEd25519,
  portableEd25519,
  sign,
  verify,
} from "../../client/crypto.js";

const native = nativeEd25519()!;

test("under Node the client signs with node:crypto", () => {
  assert.ok(native);
  assert.equal(ed25519Name(), "node:crypto");
});

test("both sign alike and verify each other's signatures", () => {
  for (let i = 0; i < 50; i++) {
    const k = i === 0 ? keyFromSeed(new Uint8Array(32)) : generateKey();
    const m = new Uint8Array(randomBytes(i * 7));
    const a = native.sign(k, m);
    const b = portableEd25519.sign(k, m);
    assert.deepEqual(a, b);
    assert.deepEqual(sign(k, m), a);
    for (const e of [native, portableEd25519]) assert.equal(e.verify(k.publicKey, m, a), true);
    assert.equal(verify(k.publicKey, m, a), true);
  }
});

test("both refuse the same altered and malformed signatures", () => {
  const L = (1n << 252n) + 27742317777372353535851937790883648493n;
  const k = generateKey();
  const other = generateKey();
  const m = new Uint8Array(randomBytes(40));
  const s = native.sign(k, m);
  // S + L: the same point equation, but a non-canonical scalar (RFC 8032 refuses it).
  const sBig = BigInt(`0x${Buffer.from(s.slice(32)).reverse().toString("hex")}`) + L;
  const hi = Buffer.from(sBig.toString(16).padStart(64, "0"), "hex").reverse();
  const cases: Array<[string, Uint8Array, Uint8Array, Uint8Array]> = [
    ["other message", k.publicKey, new Uint8Array([...m, 1]), s],
    ["other key", other.publicKey, m, s],
    ["flipped bit in R", k.publicKey, m, Uint8Array.from(s, (b, i) => (i === 3 ? b ^ 1 : b))],
    ["flipped bit in S", k.publicKey, m, Uint8Array.from(s, (b, i) => (i === 40 ? b ^ 1 : b))],
    ["S + L", k.publicKey, m, new Uint8Array([...s.slice(0, 32), ...hi])],
    ["short signature", k.publicKey, m, s.slice(0, 63)],
    ["short key", k.publicKey.slice(0, 31), m, s],
    ["zero key", new Uint8Array(32), m, s],
    ["all-ones key", new Uint8Array(32).fill(0xff), m, s],
  ];
  for (const [what, pk, msg, sig] of cases) {
    assert.equal(native.verify(pk, msg, sig), false, `native: ${what}`);
    assert.equal(portableEd25519.verify(pk, msg, sig), false, `portable: ${what}`);
  }
});

test("a key whose seed is changed in place signs with the new seed", () => {
  const seed = new Uint8Array(randomBytes(32));
  const k = { seed, publicKey: keyFromSeed(seed).publicKey };
  const m = new Uint8Array([1, 2, 3]);
  const first = native.sign(k, m);
  seed[0]! ^= 1;
  assert.notDeepEqual(native.sign(k, m), first);
  assert.deepEqual(native.sign(k, m), portableEd25519.sign(k, m));
});
