// COMPLAIN on replicas with different partitions: proven misbehaviour (a forged GET root against
// a certified header, two statements at one height, a double vote, a double proposal) evicts the
// accused, once whatever its offences; forged,
// garbage, replayed or repeated evidence changes nothing; no evidence can be built against an
// honest node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Replicas, TestClient } from "./harness.js";
import { generateKeyPair, signWith, type KeyPair } from "../../node/keys.js";
import { encodeEvidence, type EvidenceContext } from "../../node/ledger/evidence.js";
import { encodeStatement, proofDigest, statementSigningMessage } from "../../node/ledger/statement.js";
import {
  encodeCertifiedHeader,
  headerSigningMessage,
  validatorsHash,
  type Header,
  type Validator,
} from "../../node/ledger/header.js";
import {
  assembleSignedRequest,
  encodeComplainBody,
  requestSigningMessage,
} from "../../node/ledger/request.js";
import { evictedKey } from "../../node/common/system-keys.js";
import { nodeEd25519Verify } from "../../node/exec/host-crypto.js";
import { computeBlockId, encodeMessage, encodeSignedHeader } from "../../node/tob/core/wire.js";
import { proposalSigningBytes, voteSigningBytes } from "../../node/tob/core/crypto.js";
import { installNodeSha256 } from "../../node/platform.js";
import { toHex } from "../../node/common/bytes.js";
import type { Receipt } from "../../node/ledger/receipt.js";

installNodeSha256();
const chain = new Uint8Array(32).fill(7);
const nodes: KeyPair[] = Array.from({ length: 4 }, () => generateKeyPair());
const validators: Validator[] = nodes.map((k, id) => ({ id, publicKey: k.publicKey }));
const trust: EvidenceContext = {
  chain,
  members: new Map(nodes.map((k, id) => [id, k.publicKey])),
  validatorsAt: () => validators,
  epochValidators: (e) => (e === 0 ? nodes.map((k) => k.publicKey) : undefined),
  verifier: { verify: nodeEd25519Verify },
};

function header(height: bigint, root: Uint8Array): Header {
  return {
    chain,
    height,
    timestamp: 1n,
    root,
    receiptsRoot: new Uint8Array(32),
    indexRoot: new Uint8Array(32),
    validatorsHash: validatorsHash(validators),
    previous: new Uint8Array(32),
    nextValidatorsHash: new Uint8Array(32),
    nextFromHeight: 0n,
  };
}

function certify(h: Header, signers: number[]): Uint8Array {
  return encodeCertifiedHeader({
    header: h,
    signatures: signers.map((s) => ({ signer: s, signature: signWith(nodes[s]!, headerSigningMessage(h)) })),
  });
}

function statement(node: number, height: bigint, root: Uint8Array) {
  const st = encodeStatement({
    chain,
    node,
    height,
    timestamp: 1n,
    root,
    proofDigest: proofDigest(new Uint8Array([1])),
  });
  return { statement: st, signature: signWith(nodes[node]!, statementSigningMessage(st)) };
}

function vote(signer: number, round: number, blockId: Uint8Array): Uint8Array {
  return encodeMessage({
    kind: "vote",
    vote: {
      epoch: 0,
      round,
      blockId,
      signer,
      sig: signWith(nodes[signer]!, voteSigningBytes(chain, 0, round, blockId)),
    },
  });
}

/** The signed header of a block of epoch 0 by `author` in `round` carrying `request`. */
function proposal(author: number, round: number, request: number): Uint8Array {
  const parentId = new Uint8Array(32).fill(round - 1);
  const body = {
    epoch: 0,
    round,
    height: round,
    parentId,
    qc: { epoch: 0, round: round - 1, blockId: parentId, votes: [] },
    author,
    requests: [new Uint8Array(8).fill(request)],
  };
  const id = computeBlockId(body);
  return encodeSignedHeader({
    ...body,
    id,
    signature: signWith(nodes[author]!, proposalSigningBytes(chain, id)),
  });
}

const status = (r: Receipt) => (r.status === "accepted" ? "accepted" : r.reason);

/** A complaint builder for `r`'s replicas: each complaint signed by one client, a fresh nonce each. */
function complainer(r: Replicas): (evidence: Uint8Array, accused: number) => Uint8Array {
  const client = new TestClient(r);
  let nonce = 0n;
  return (evidence, accused) => {
    const body = encodeComplainBody({
      evidence,
      proof: r.proof([evictedKey(accused)]),
      caller: client.key.publicKey,
      nonce: ++nonce,
      validUntil: r.height + 500n,
    });
    return assembleSignedRequest(body, signWith(client.key, requestSigningMessage(r.chain, body)));
  };
}

/** Applies a block on every replica, which must agree on its root; the full replica's outcome. */
function applier(r: Replicas): (reqs: Uint8Array[]) => ReturnType<Replicas["block"]>[number] {
  return (reqs) => {
    const outs = r.block(reqs);
    for (const o of outs) assert.equal(toHex(o.root), toHex(outs[0]!.root), "replicas disagree");
    return outs[0]!;
  };
}

test("complaints evict proven liars and nobody else", () => {
  const r = new Replicas([[""], ["0"], ["1"]], 64, trust);
  const complain = complainer(r);
  const apply = applier(r);
  const trueRoot = new Uint8Array(32).fill(1);
  const fakeRoot = new Uint8Array(32).fill(2);
  const cert = certify(header(5n, trueRoot), [0, 1, 3]);

  // Node 2 signed a GET statement at height 5 whose root is not the certified one.
  const forged = encodeEvidence({
    kind: "forged-statement",
    signed: statement(2, 5n, fakeRoot),
    certificate: cert,
  });
  const c1 = complain(forged, 2);
  let out = apply([c1]);
  assert.deepEqual(out.receipts.map(status), ["accepted"]);
  assert.deepEqual(out.evicted, [2]);
  assert.ok(r.full.history.tree.get(evictedKey(2)) !== undefined);

  // The same offence again, replayed bytes, and garbage: nothing changes.
  out = apply([complain(forged, 2), c1, complain(new Uint8Array([9, 9, 9]), 1)]);
  assert.deepEqual(out.receipts.map(status), ["already-evicted", "replay", "bad-evidence"]);
  assert.deepEqual(out.evicted, []);

  // No evidence against an honest node: its statement matches the certificate; a certificate
  // signed by too few validators or by a non-validator proves nothing; a forged signature neither.
  const honest = encodeEvidence({
    kind: "forged-statement",
    signed: statement(1, 5n, trueRoot),
    certificate: cert,
  });
  const weakCert = encodeEvidence({
    kind: "forged-statement",
    signed: statement(1, 5n, fakeRoot),
    certificate: certify(header(5n, trueRoot), [0, 3]),
  });
  const bad = statement(1, 5n, fakeRoot);
  bad.signature[0]! ^= 1;
  const badSig = encodeEvidence({ kind: "forged-statement", signed: bad, certificate: cert });
  const outsider = generateKeyPair();
  const forgedStatement = encodeStatement({
    chain,
    node: 1,
    height: 5n,
    timestamp: 1n,
    root: fakeRoot,
    proofDigest: new Uint8Array(32),
  });
  const byOutsider = encodeEvidence({
    kind: "forged-statement",
    signed: {
      statement: forgedStatement,
      signature: signWith(outsider, statementSigningMessage(forgedStatement)),
    },
    certificate: cert,
  });
  out = apply([complain(honest, 1), complain(weakCert, 1), complain(badSig, 1), complain(byOutsider, 1)]);
  assert.deepEqual(out.receipts.map(status), [
    "bad-evidence",
    "bad-evidence",
    "bad-evidence",
    "bad-evidence",
  ]);

  // Two statements of node 3 at one height with different roots.
  const conflicting = encodeEvidence({
    kind: "conflicting-statements",
    a: statement(3, 9n, trueRoot),
    b: statement(3, 9n, fakeRoot),
  });
  const same = encodeEvidence({
    kind: "conflicting-statements",
    a: statement(0, 9n, trueRoot),
    b: statement(0, 9n, trueRoot),
  });
  out = apply([complain(same, 0), complain(conflicting, 3)]);
  assert.deepEqual(out.receipts.map(status), ["bad-evidence", "accepted"]);
  assert.deepEqual(out.evicted, [3]);

  // A double vote by validator 1; one vote twice is no offence.
  const v1 = vote(1, 4, new Uint8Array(32).fill(4));
  const v2 = vote(1, 4, new Uint8Array(32).fill(5));
  out = apply([
    complain(encodeEvidence({ kind: "double-vote", first: v1, second: v1 }), 1),
    complain(encodeEvidence({ kind: "double-vote", first: v1, second: v2 }), 1),
  ]);
  assert.deepEqual(out.receipts.map(status), ["bad-evidence", "accepted"]);
  assert.deepEqual(out.evicted, [1]);
});

test("a double proposal evicts its leader, once: its double vote in that round is already-evicted", () => {
  const r = new Replicas([[""], ["0"], ["1"]], 64, trust);
  const complain = complainer(r);
  const apply = applier(r);
  const a = proposal(2, 7, 1);
  const b = proposal(2, 7, 2);
  // One proposal twice, and two of different rounds, prove nothing.
  let out = apply([
    complain(encodeEvidence({ kind: "double-proposal", first: a, second: a }), 2),
    complain(encodeEvidence({ kind: "double-proposal", first: a, second: proposal(2, 8, 2) }), 2),
  ]);
  assert.deepEqual(out.receipts.map(status), ["bad-evidence", "bad-evidence"]);
  assert.deepEqual(out.evicted, []);
  out = apply([complain(encodeEvidence({ kind: "double-proposal", first: a, second: b }), 2)]);
  assert.deepEqual(out.receipts.map(status), ["accepted"]);
  assert.deepEqual(out.evicted, [2]);
  assert.ok(r.full.history.tree.get(evictedKey(2)) !== undefined);
  // A double vote in the same round is another offence, but the node is evicted already.
  const v1 = vote(2, 7, new Uint8Array(32).fill(4));
  const v2 = vote(2, 7, new Uint8Array(32).fill(5));
  out = apply([complain(encodeEvidence({ kind: "double-vote", first: v1, second: v2 }), 2)]);
  assert.deepEqual(out.receipts.map(status), ["already-evicted"]);
  assert.deepEqual(out.evicted, []);
});

test("a proven complaint the membership cannot carry out is refused and changes nothing", () => {
  const refusing = {
    ...trust,
    refuseEviction: (_h: bigint, ids: readonly number[]) =>
      ids.includes(1) ? "it would leave no validator" : null,
  };
  const r = new Replicas([[""], ["1"]], 64, refusing);
  const complain = complainer(r);
  const v1 = vote(1, 4, new Uint8Array(32).fill(4));
  const v2 = vote(1, 4, new Uint8Array(32).fill(5));
  const before = toHex(r.full.history.tree.rootLabel);
  const outs = r.block([complain(encodeEvidence({ kind: "double-vote", first: v1, second: v2 }), 1)]);
  for (const o of outs) {
    assert.deepEqual(o.receipts.map(status), ["eviction-refused"]);
    assert.deepEqual(o.evicted, []);
  }
  assert.equal(toHex(r.full.history.tree.rootLabel), before);
  assert.equal(r.full.history.tree.get(evictedKey(1)), undefined);
});
