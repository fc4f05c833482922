// Checked-in vectors for signed requests (docs/vectors/request.json, docs/protocol.md §5): the
// canonical body of an EXECUTE and a COMPLAIN, the signed bytes, and the id; decoding returns the
// fields, and the signature verifies with the node's verifier.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { keyPairFromSeed, signWith } from "../../node/keys.js";
import {
  assembleSignedRequest,
  encodeComplainBody,
  encodeRequestBody,
  requestSigningMessage,
} from "../../node/ledger/request.js";
import { decodeAnyRequest } from "../../node/ledger/any-request.js";
import { fromHex, toHex } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";
import { nodeEd25519Verify } from "../../node/exec/host-crypto.js";

const v = JSON.parse(readFileSync("docs/vectors/request.json", "utf8"));
const kp = keyPairFromSeed(fromHex(v.seed));
const chain = fromHex(v.chain);

test("request vectors: EXECUTE body, signature, signed bytes and id", () => {
  const e = v.execute;
  assert.equal(toHex(kp.publicKey), v.publicKey);
  const body = encodeRequestBody({
    op: e.op,
    touched: e.touched,
    proof: fromHex(e.proofHex),
    args: fromHex(e.argsHex),
    gasLimit: BigInt(e.gasLimit),
    caller: kp.publicKey,
    nonce: BigInt(e.nonce),
    validUntil: BigInt(e.validUntil),
  });
  assert.equal(toHex(body), e.body);
  const sig = signWith(kp, requestSigningMessage(chain, body));
  assert.equal(toHex(sig), e.signature);
  assert.ok(
    nodeEd25519Verify(kp.publicKey, requestSigningMessage(chain, fromHex(e.body)), fromHex(e.signature)),
  );
  const req = assembleSignedRequest(body, sig);
  assert.equal(toHex(req), e.request);
  assert.equal(toHex(sha256(req)), e.id);
  const d = decodeAnyRequest(fromHex(e.request));
  assert.equal(d.kind, "execute");
  if (d.kind !== "execute") return;
  assert.equal(d.op, e.op);
  assert.deepEqual(d.touched, e.touched);
  assert.equal(d.validUntil, BigInt(e.validUntil));
  assert.equal(d.nonce, BigInt(e.nonce));
  assert.equal(toHex(d.id), e.id);
});

test("request vectors: COMPLAIN body, signature, signed bytes and id", () => {
  const c = v.complain;
  const body = encodeComplainBody({
    evidence: fromHex(c.evidenceHex),
    proof: fromHex(c.proofHex),
    caller: kp.publicKey,
    nonce: BigInt(c.nonce),
    validUntil: BigInt(c.validUntil),
  });
  assert.equal(toHex(body), c.body);
  const sig = signWith(kp, requestSigningMessage(chain, body));
  assert.equal(toHex(sig), c.signature);
  assert.equal(toHex(assembleSignedRequest(body, sig)), c.request);
  const d = decodeAnyRequest(fromHex(c.request));
  assert.equal(d.kind, "complain");
  assert.equal(d.validUntil, BigInt(c.validUntil));
  assert.equal(toHex(d.id), c.id);
});
