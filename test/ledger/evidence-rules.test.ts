// Each rule of evidence checking refuses what it must: statements of one node at two heights or of
// two nodes are not a contradiction; a certificate for another height or with fewer than 2f+1
// signatures proves nothing; votes in two rounds are not a double vote; proposals of two rounds or
// two authors, or one proposal twice, are not a double proposal. An honest node's ordinary signed
// answers must never be enough to evict it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sha256 } from "../../node/common/hash.js";
import { encodeEvidence, verifyEvidence, type EvidenceContext } from "../../node/ledger/evidence.js";
import {
  encodeCertifiedHeader,
  headerSigningMessage,
  validatorsHash,
  type Header,
  type Validator,
} from "../../node/ledger/header.js";
import {
  encodeStatement,
  statementSigningMessage,
  ROOT_STATEMENT_DIGEST,
} from "../../node/ledger/statement.js";
import { computeBlockId, encodeMessage, encodeSignedHeader } from "../../node/tob/core/wire.js";
import { proposalSigningBytes, voteSigningBytes } from "../../node/tob/core/crypto.js";
import type { Block } from "../../node/tob/core/types.js";
import { EvidenceBook } from "../../node/evidence-book.js";
import { toHex } from "../../node/common/bytes.js";
import { keyPairFromSeed, signWith } from "../../node/keys.js";
import { nodeEd25519Verify } from "../../node/platform.js";

const chain = sha256(new TextEncoder().encode("evidence-rules"));
const keys = [0, 1, 2, 3].map((i) => keyPairFromSeed(new Uint8Array(32).fill(i + 1)));
const validators: Validator[] = keys.map((k, id) => ({ id, publicKey: k.publicKey }));
const ctx: EvidenceContext = {
  chain,
  members: new Map(keys.map((k, id) => [id, k.publicKey])),
  validatorsAt: () => validators,
  epochValidators: (e) => (e === 0 ? keys.map((k) => k.publicKey) : undefined),
  verifier: { verify: nodeEd25519Verify },
};
const root = (n: number) => sha256(new Uint8Array([n]));

function statement(node: number, height: bigint, r: Uint8Array) {
  const bytes = encodeStatement({
    chain,
    node,
    height,
    timestamp: height,
    root: r,
    proofDigest: ROOT_STATEMENT_DIGEST,
  });
  return { statement: bytes, signature: signWith(keys[node]!, statementSigningMessage(bytes)) };
}

function certificate(height: bigint, r: Uint8Array, signers: number[]): Uint8Array {
  const header: Header = {
    chain,
    height,
    timestamp: height,
    root: r,
    receiptsRoot: new Uint8Array(32),
    indexRoot: new Uint8Array(32),
    validatorsHash: validatorsHash(validators),
    previous: new Uint8Array(32),
    nextValidatorsHash: new Uint8Array(32),
    nextFromHeight: 0n,
  };
  const msg = headerSigningMessage(header);
  return encodeCertifiedHeader({
    header,
    signatures: signers.map((s) => ({ signer: s, signature: signWith(keys[s]!, msg) })),
  });
}

function vote(signer: number, round: number, block: number): Uint8Array {
  const blockId = root(block);
  const sig = signWith(keys[signer]!, voteSigningBytes(chain, 0, round, blockId));
  return encodeMessage({ kind: "vote", vote: { epoch: 0, round, blockId, signer, sig } });
}

/** A block of `round` by `author` carrying `requests`, signed by `signer` (the author by default). */
function block(author: number, round: number, requests: Uint8Array[], epoch = 0, signer = author): Block {
  const parentId = root(100 + round);
  const body = {
    epoch,
    round,
    height: round,
    parentId,
    qc: { epoch, round: round - 1, blockId: parentId, votes: [] },
    author,
    requests,
  };
  const id = computeBlockId(body);
  return { ...body, id, signature: signWith(keys[signer]!, proposalSigningBytes(chain, id)) };
}

const req = (n: number) => new Uint8Array(16).fill(n);
const proposal = (author: number, round: number, requests = [req(1)], epoch = 0, signer = author) =>
  encodeSignedHeader(block(author, round, requests, epoch, signer));

const verdict = (e: Parameters<typeof encodeEvidence>[0]) => verifyEvidence(encodeEvidence(e), ctx);

test("two statements of one node at one height with different roots convict it", () => {
  const v = verdict({
    kind: "conflicting-statements",
    a: statement(1, 5n, root(1)),
    b: statement(1, 5n, root(2)),
  });
  assert.equal(v.ok && v.accused, 1);
});

test("two statements of one node at different heights are not a contradiction", () => {
  const v = verdict({
    kind: "conflicting-statements",
    a: statement(1, 5n, root(1)),
    b: statement(1, 6n, root(2)),
  });
  assert.deepEqual(v, { ok: false, reason: "evidence/not-comparable" });
});

test("statements of two nodes are not a contradiction", () => {
  const v = verdict({
    kind: "conflicting-statements",
    a: statement(1, 5n, root(1)),
    b: statement(2, 5n, root(2)),
  });
  assert.deepEqual(v, { ok: false, reason: "evidence/not-comparable" });
});

test("a statement contradicting the certified root at its height convicts", () => {
  const v = verdict({
    kind: "forged-statement",
    signed: statement(2, 7n, root(9)),
    certificate: certificate(7n, root(1), [0, 1, 3]),
  });
  assert.equal(v.ok && v.accused, 2);
});

test("a certificate for another height proves nothing", () => {
  const v = verdict({
    kind: "forged-statement",
    signed: statement(2, 7n, root(9)),
    certificate: certificate(8n, root(1), [0, 1, 3]),
  });
  assert.deepEqual(v, { ok: false, reason: "evidence/height-mismatch" });
});

test("a certificate with f+1 signatures proves nothing", () => {
  const v = verdict({
    kind: "forged-statement",
    signed: statement(2, 7n, root(9)),
    certificate: certificate(7n, root(1), [0, 1]),
  });
  assert.deepEqual(v, { ok: false, reason: "evidence/bad-certificate" });
});

test("a certificate whose root equals the statement's is no contradiction", () => {
  const v = verdict({
    kind: "forged-statement",
    signed: statement(2, 7n, root(1)),
    certificate: certificate(7n, root(1), [0, 1, 3]),
  });
  assert.deepEqual(v, { ok: false, reason: "evidence/no-contradiction" });
});

test("two votes of one validator in one round for different blocks convict it", () => {
  const v = verdict({ kind: "double-vote", first: vote(3, 4, 1), second: vote(3, 4, 2) });
  assert.equal(v.ok && v.accused, 3);
});

test("votes in two rounds, of two validators, or for one block are no double vote", () => {
  assert.deepEqual(verdict({ kind: "double-vote", first: vote(3, 4, 1), second: vote(3, 5, 2) }), {
    ok: false,
    reason: "evidence/not-comparable",
  });
  assert.deepEqual(verdict({ kind: "double-vote", first: vote(3, 4, 1), second: vote(2, 4, 2) }), {
    ok: false,
    reason: "evidence/not-comparable",
  });
  assert.deepEqual(verdict({ kind: "double-vote", first: vote(3, 4, 1), second: vote(3, 4, 1) }), {
    ok: false,
    reason: "evidence/no-contradiction",
  });
});

test("a statement signed by another key convicts nobody", () => {
  const s = statement(1, 5n, root(1));
  const forged = {
    statement: s.statement,
    signature: signWith(keys[0]!, statementSigningMessage(s.statement)),
  };
  const v = verdict({ kind: "conflicting-statements", a: forged, b: statement(1, 5n, root(2)) });
  assert.deepEqual(v, { ok: false, reason: "evidence/bad-statement" });
});

test("two signed proposals of one leader in one round for different blocks convict it", () => {
  const v = verdict({ kind: "double-proposal", first: proposal(2, 6), second: proposal(2, 6, [req(2)]) });
  assert.equal(v.ok && v.accused, 2);
  // Another offence than a double vote in the same round (kind 4, not 3), the same for either order.
  const dv = verdict({ kind: "double-vote", first: vote(2, 6, 1), second: vote(2, 6, 2) });
  const swapped = verdict({
    kind: "double-proposal",
    first: proposal(2, 6, [req(2)]),
    second: proposal(2, 6),
  });
  assert.ok(v.ok && dv.ok && swapped.ok);
  assert.notDeepEqual(v.offence, dv.offence);
  assert.deepEqual(v.offence, swapped.offence);
});

test("proposals of two rounds, two authors or two epochs, or one proposal twice, are no double proposal", () => {
  const no = (first: Uint8Array, second: Uint8Array) => verdict({ kind: "double-proposal", first, second });
  const notComparable = { ok: false, reason: "evidence/not-comparable" };
  assert.deepEqual(no(proposal(2, 6), proposal(2, 7, [req(2)])), notComparable);
  assert.deepEqual(no(proposal(2, 6), proposal(1, 6, [req(2)])), notComparable);
  assert.deepEqual(no(proposal(2, 6), proposal(2, 6, [req(2)], 1)), notComparable);
  assert.deepEqual(no(proposal(2, 6), proposal(2, 6)), { ok: false, reason: "evidence/no-contradiction" });
});

test("a double proposal with a signature not the author's, or by no known key, convicts nobody", () => {
  const no = (first: Uint8Array, second: Uint8Array, c = ctx) =>
    verifyEvidence(encodeEvidence({ kind: "double-proposal", first, second }), c);
  // signed by validator 0 on behalf of author 2
  assert.deepEqual(no(proposal(2, 6), proposal(2, 6, [req(2)], 0, 0)), {
    ok: false,
    reason: "evidence/bad-signature",
  });
  // an epoch whose keys are unknown, and a position outside epoch 0's set
  assert.deepEqual(no(proposal(2, 6, [req(1)], 1), proposal(2, 6, [req(2)], 1)), {
    ok: false,
    reason: "evidence/unknown-signer",
  });
  assert.deepEqual(no(proposal(4, 6, [req(1)], 0, 0), proposal(4, 6, [req(2)], 0, 0)), {
    ok: false,
    reason: "evidence/unknown-signer",
  });
  // the key of no node ever a member
  const strangers = { ...ctx, members: new Map([[0, keys[0]!.publicKey]]) };
  assert.deepEqual(no(proposal(2, 6), proposal(2, 6, [req(2)]), strangers), {
    ok: false,
    reason: "evidence/unknown-signer",
  });
});

test("a proposal header that does not decode within its bounds is refused with the codec's code", () => {
  const no = (first: Uint8Array, second: Uint8Array) => verdict({ kind: "double-proposal", first, second });
  const p = proposal(2, 6);
  assert.deepEqual(no(p.subarray(0, p.length - 1), proposal(2, 6, [req(2)])), {
    ok: false,
    reason: "decode/truncated",
  });
  assert.deepEqual(no(p, Uint8Array.of(...proposal(2, 6, [req(2)]), 0)), {
    ok: false,
    reason: "decode/trailing-bytes",
  });
  // an author position past TOB_MAX_VALIDATORS − 1
  assert.deepEqual(no(proposal(300, 6, [req(1)], 0, 0), proposal(300, 6, [req(2)], 0, 0)), {
    ok: false,
    reason: "decode/out-of-range",
  });
  assert.deepEqual(verifyEvidence(Uint8Array.of(5), ctx), { ok: false, reason: "evidence/unknown-kind" });
});

test("the evidence book keeps a witnessed double proposal as small evidence that convicts", () => {
  // Blocks far past the evidence bound: the book keeps their signed headers only.
  const big = (n: number) => Array.from({ length: 100 }, (_, i) => new Uint8Array(1024).fill((i + n) % 251));
  const a = block(1, 9, big(1));
  const b = block(1, 9, big(2));
  const book = new EvidenceBook();
  const e = {
    kind: "double-proposal" as const,
    epoch: 0,
    round: 9,
    signer: toHex(keys[1]!.publicKey),
    first: encodeMessage({ kind: "proposal", block: a, tc: null }),
    second: encodeMessage({ kind: "proposal", block: b, tc: null }),
  };
  assert.ok(e.first.length > 64 * 1024);
  assert.equal(
    book.add(e, () => 1),
    true,
  );
  assert.equal(
    book.add(e, () => 1),
    false,
    "one offence is kept once",
  );
  const [kept] = book.list();
  assert.ok(kept && kept.evidence.length < 1024);
  const v = verifyEvidence(kept.evidence, ctx);
  assert.equal(v.ok && v.accused, 1);
});
