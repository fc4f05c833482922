// Each rule of evidence checking refuses what it must: statements of one node at two heights or of
// two nodes are not a contradiction; a certificate for another height or with fewer than 2f+1
// signatures proves nothing; votes in two rounds are not a double vote. An honest node's ordinary
// signed answers must never be enough to evict it.
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
import { encodeMessage } from "../../node/tob/core/wire.js";
import { voteSigningBytes } from "../../node/tob/core/crypto.js";
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
