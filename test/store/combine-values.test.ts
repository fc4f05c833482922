// Joins keep every value: when the newest answer shows a record only as a leaf summary (a leaf
// beside its own path, as EXECUTE proofs carry) or as a hash (a hashes-only GET), and an older
// answer proves the same record with its value, the joined proof carries the value. A value that
// does not hash to what the other side commits to is never taken.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MerkleTree } from "../../node/store/core/tree.js";
import { labelOf, prove, provenState, type ProofNode } from "../../node/store/core/proof.js";
import { extendProof, mergeProofs } from "../../node/store/core/combine.js";
import { decodeProof, encodeProof } from "../../node/store/core/proof-codec.js";
import { bitAt, keyPath } from "../../node/store/core/path.js";
import { bytesEqual, utf8 } from "../../node/common/bytes.js";
import { joinAnswers } from "../../client/proofs.js";

/** Three keys: a and b share the first bit and part at the second; c has the other first bit. */
function siblingKeys(): { a: string; b: string; c: string } {
  const found: Record<string, string> = {};
  for (let i = 0; Object.keys(found).length < 3; i++) {
    const k = `j/k${i}`;
    const p = keyPath(k);
    const slot = bitAt(p, 0) ? "c" : bitAt(p, 1) ? "b" : "a";
    found[slot] ??= k;
  }
  return found as { a: string; b: string; c: string };
}

const { a, b, c } = siblingKeys();

function trees(): { older: MerkleTree; newer: MerkleTree } {
  const older = new MerkleTree();
  older.set(a, utf8("va"));
  older.set(b, utf8("vb"));
  older.set(c, utf8("vc"));
  const newer = new MerkleTree();
  newer.set(a, utf8("va"));
  newer.set(b, utf8("vb"));
  newer.set(c, utf8("vc2"));
  return { older, newer };
}

function valueOf(root: ProofNode, key: string): Uint8Array | null {
  const s = provenState(root, keyPath(key));
  assert.ok(s.covered && s.present, `${key} is proven present`);
  return s.value;
}

test("the newest answer shows the record as a leaf summary: the join keeps the older answer's value", () => {
  const { older, newer } = trees();
  const newest = prove(newer, [keyPath(a), keyPath(c)], { leafSiblings: true });
  assert.equal(valueOf(newest, b), null, "the newest answer shows b only as a summary");
  const old = prove(older, [keyPath(b)]);
  const r = extendProof(newest, old, [keyPath(b)]);
  assert.ok(r.ok);
  assert.deepEqual(valueOf(r.proof, b), utf8("vb"));
  assert.deepEqual(valueOf(r.proof, a), utf8("va"));
  const d = decodeProof(encodeProof(r.proof));
  assert.ok(bytesEqual(d.rootLabel, newer.rootLabel));
  assert.deepEqual(valueOf(d.root, b), utf8("vb"));
});

test("the client's join of two heights keeps the value (SDK path)", () => {
  const { older, newer } = trees();
  const joined = joinAnswers([
    {
      timestamp: 5n,
      root: prove(newer, [keyPath(a), keyPath(c)], { leafSiblings: true }),
      paths: [keyPath(a), keyPath(c)],
    },
    { timestamp: 4n, root: prove(older, [keyPath(b)], { leafSiblings: true }), paths: [keyPath(b)] },
  ]);
  assert.ok(joined !== null);
  assert.deepEqual(valueOf(joined, b), utf8("vb"));
  assert.deepEqual(valueOf(joined, c), utf8("vc2"));
});

test("the newest answer carries only the hash (hashes-only GET): the join keeps the value", () => {
  const { older, newer } = trees();
  const newest = prove(newer, [keyPath(b), keyPath(c)], { values: false });
  assert.equal(valueOf(newest, b), null);
  const r = extendProof(newest, prove(older, [keyPath(b)]), [keyPath(b)]);
  assert.ok(r.ok);
  assert.deepEqual(valueOf(r.proof, b), utf8("vb"));
});

test("the older answer shows only a summary: the newest answer's value stays", () => {
  const { older, newer } = trees();
  const newest = prove(newer, [keyPath(b)]);
  const old = prove(older, [keyPath(a)], { leafSiblings: true });
  const r = extendProof(newest, old, [keyPath(b)]);
  assert.ok(r.ok);
  assert.deepEqual(valueOf(r.proof, b), utf8("vb"));
});

test("merging answers of one root keeps the value whichever side carries it", () => {
  const { newer } = trees();
  const summary = prove(newer, [keyPath(a)], { leafSiblings: true });
  const full = prove(newer, [keyPath(b)]);
  assert.deepEqual(valueOf(mergeProofs(summary, full), b), utf8("vb"));
  assert.deepEqual(valueOf(mergeProofs(full, summary), b), utf8("vb"));
  const hashOnly = prove(newer, [keyPath(b)], { values: false });
  assert.deepEqual(valueOf(mergeProofs(hashOnly, full), b), utf8("vb"));
});

test("a value that does not hash to the committed value hash is never taken", () => {
  const { older, newer } = trees();
  const newest = prove(newer, [keyPath(a), keyPath(c)], { leafSiblings: true });
  const forge = (n: ProofNode): ProofNode => {
    if (n.t === "internal") return { t: "internal", left: forge(n.left), right: forge(n.right) };
    if (n.t === "leaf" && n.value !== null) return { ...n, value: utf8("forged"), label: labelOf(n) };
    return n;
  };
  const old = forge(prove(older, [keyPath(b)]));
  const r = extendProof(newest, old, [keyPath(b)]);
  assert.ok(!r.ok || valueOf(r.proof, b) === null, "a forged value is not carried");
  assert.throws(() =>
    mergeProofs(prove(newer, [keyPath(a)], { leafSiblings: true }), forge(prove(newer, [keyPath(b)]))),
  );
});
