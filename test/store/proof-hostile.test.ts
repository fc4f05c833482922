// Hostile proofs: mutated and random encodings plus hand-made attacks. Only ProofError or
// DecodeError may come out of decoding; the compatibility check refuses what does not prove.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MerkleTree } from "../../node/store/core/tree.js";
import { HistoryTree } from "../../node/store/core/history.js";
import { Partition } from "../../node/store/core/partition.js";
import { labelOf, prove, provenState, type ProofNode } from "../../node/store/core/proof.js";
import { decodeProof, encodeProof } from "../../node/store/core/proof-codec.js";
import { bitAt, keyPath } from "../../node/store/core/path.js";
import { DecodeError, ProofError } from "../../node/common/errors.js";
import { utf8 } from "../../node/common/bytes.js";
import { MAX_PROOF_BYTES } from "../../node/common/limits.js";

function sampleTree(n = 50): MerkleTree {
  const t = new MerkleTree();
  for (let i = 0; i < n; i++) t.set(`h/k${i}`, utf8(`value-${i}`));
  return t;
}

function onlyTypedErrors(bytes: Uint8Array): void {
  try {
    decodeProof(bytes);
  } catch (e) {
    assert.ok(e instanceof ProofError || e instanceof DecodeError, `unexpected ${String(e)}`);
  }
}

test("mutated proofs give only typed errors", () => {
  const t = sampleTree();
  const valid = [1, 2, 5].map((k) =>
    encodeProof(
      prove(
        t,
        Array.from({ length: k }, (_, i) => keyPath(`h/k${i * 7}`)),
      ),
    ),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: valid.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      fc.boolean(),
      (which, flips, cut, truncate) => {
        const b = new Uint8Array(valid[which]!);
        for (const [pos, v] of flips) b[pos % b.length] = v;
        onlyTypedErrors(truncate ? b.subarray(0, cut % b.length) : b);
      },
    ),
    { seed: 31, numRuns: 5000 },
  );
});

test("random bytes give only typed errors", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyTypedErrors(b)),
    { seed: 32, numRuns: 5000 },
  );
});

function expectCode(bytes: Uint8Array, code: string): void {
  assert.throws(
    () => decodeProof(bytes),
    (e: unknown) => (e instanceof ProofError || e instanceof DecodeError) && e.code === code,
    code,
  );
}

test("a leaf on the wrong path is rejected", () => {
  const t = sampleTree(2);
  const p = prove(t, [keyPath("h/k0"), keyPath("h/k1")]);
  // swap the two children of the node where the two keys part
  const swap = (n: ProofNode): ProofNode =>
    n.t !== "internal"
      ? n
      : n.left.t === "leaf" && n.right.t === "leaf"
        ? { t: "internal", left: n.right, right: n.left }
        : { t: "internal", left: swap(n.left), right: swap(n.right) };
  expectCode(encodeProof(swap(p)), "proof/leaf-off-path");
});

test("duplicate leaves cannot both sit on their path", () => {
  const t = sampleTree(1);
  const leaf = prove(t, [keyPath("h/k0")]);
  const b = bitAt(keyPath("h/k0"), 0);
  const dup: ProofNode = b
    ? { t: "internal", left: leaf, right: leaf }
    : { t: "internal", left: leaf, right: leaf };
  expectCode(encodeProof(dup), "proof/leaf-off-path");
});

test("non-canonical shapes are rejected", () => {
  const t = sampleTree(1);
  const leaf = prove(t, [keyPath("h/k0")]);
  const b = bitAt(keyPath("h/k0"), 0);
  const single: ProofNode = b
    ? { t: "internal", left: { t: "empty" }, right: leaf }
    : { t: "internal", left: leaf, right: { t: "empty" } };
  expectCode(encodeProof(single), "proof/non-canonical");
  expectCode(
    encodeProof({ t: "internal", left: { t: "empty" }, right: { t: "empty" } }),
    "proof/non-canonical",
  );
  const stubLeaf = { t: "stub" as const, label: labelOf(leaf) };
  expectCode(encodeProof({ t: "internal", left: { t: "empty" }, right: stubLeaf }), "proof/non-canonical");
  const s = { t: "stub" as const, label: labelOf(prove(sampleTree(5), [])) };
  expectCode(encodeProof({ t: "internal", left: s, right: s }), "proof/non-canonical");
  expectCode(encodeProof({ t: "stub", label: new Uint8Array(32) }), "proof/empty-stub");
});

test("truncation, trailing bytes and oversize are rejected", () => {
  const bytes = encodeProof(prove(sampleTree(), [keyPath("h/k3")]));
  expectCode(bytes.subarray(0, bytes.length - 1), "decode/truncated");
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  expectCode(longer, "decode/trailing-bytes");
  expectCode(new Uint8Array(MAX_PROOF_BYTES + 1), "proof/too-large");
});

test("excessive depth is rejected without exhausting the stack", () => {
  let n: ProofNode = { t: "stub", label: labelOf(prove(sampleTree(5), [])) };
  for (let i = 0; i < 400; i++) n = { t: "internal", left: n, right: { t: "empty" } };
  expectCode(encodeProof(n), "proof/too-deep");
});

test("a stub where a touched key's leaf must be does not prove the key", () => {
  const t = sampleTree();
  const path = keyPath("h/k4");
  const p = prove(t, [path], { leafSiblings: true });
  const hide = (n: ProofNode, d: number): ProofNode =>
    n.t === "internal"
      ? bitAt(path, d)
        ? { t: "internal", left: n.left, right: hide(n.right, d + 1) }
        : { t: "internal", left: hide(n.left, d + 1), right: n.right }
      : { t: "stub", label: labelOf(n) };
  // hide the leaf one level up: replace the parent of the leaf by a stub
  const hidden = decodeProof(encodeProof(hide(p, 0)));
  assert.ok(!provenState(hidden.root, path).covered);
  const h = HistoryTree.genesis(Partition.whole(), 4, [...t.records()]);
  const v = h.check(hidden.root, hidden.rootLabel, [path]);
  assert.deepEqual(v.ok ? "ok" : v.reason, "path-not-proven");
});

test("a stub with the same label as a local stub does not pass for the path", () => {
  const recs = Array.from({ length: 40 }, (_, i) => ({ key: `h/k${i}`, value: utf8(`v${i}`) }));
  const full = HistoryTree.genesis(Partition.whole(), 4, recs);
  const part = HistoryTree.genesis(new Partition(["0"]), 4, recs);
  const k = recs.map((r) => r.key).find((key) => bitAt(keyPath(key), 0) === 1)!;
  const path = keyPath(k);
  const local = part.tree.walk(path);
  assert.equal(local.depth, 1, "the replica stubs the whole right half");
  // The proof offers, at the stub's position, a stub with exactly the local stub's label.
  const honest = prove(full.tree, [path], { leafSiblings: true });
  assert.ok(honest.t === "internal");
  const forged: ProofNode = {
    t: "internal",
    left: honest.left,
    right: { t: "stub", label: labelOf(honest.right) },
  };
  assert.throws(
    () => decodeProof(encodeProof(forged)),
    (e: unknown) => e instanceof ProofError && e.code === "proof/non-canonical",
  );
  // The same forgery inside a proof that does prove some other key decodes, and is refused.
  const other = recs.map((r) => r.key).find((key) => bitAt(keyPath(key), 0) === 0)!;
  const both = prove(full.tree, [keyPath(other), path], { leafSiblings: true });
  assert.ok(both.t === "internal");
  const forged2: ProofNode = {
    t: "internal",
    left: both.left,
    right: { t: "stub", label: labelOf(both.right) },
  };
  const d = decodeProof(encodeProof(forged2));
  const v = part.check(d.root, d.rootLabel, [path]);
  assert.equal(v.ok ? "ok" : v.reason, "path-not-proven");
  // The honest proof passes on both.
  const hd = decodeProof(encodeProof(honest));
  assert.ok(part.check(hd.root, hd.rootLabel, [path]).ok);
  assert.ok(full.check(hd.root, hd.rootLabel, [path]).ok);
});

test("a leaf beside a touched path given only as a stub is refused for EXECUTE", () => {
  const t = sampleTree(3);
  const h = HistoryTree.genesis(Partition.whole(), 4, [...t.records()]);
  const path = keyPath("h/k0");
  const compact = decodeProof(encodeProof(prove(t, [path], { leafSiblings: false })));
  const full = decodeProof(encodeProof(prove(t, [path], { leafSiblings: true })));
  const hasLeafStub = (n: ProofNode): boolean =>
    n.t === "internal"
      ? hasLeafStub(n.left) || hasLeafStub(n.right)
      : n.t === "stub" && (n.label[0]! & 0x80) !== 0;
  if (hasLeafStub(compact.root)) {
    const v = h.check(compact.root, compact.rootLabel, [path]);
    assert.equal(v.ok ? "ok" : v.reason, "leaf-sibling-hidden");
  }
  assert.ok(h.check(full.root, full.rootLabel, [path]).ok);
});

test("the unused bits of the last tag byte must be zero", () => {
  const t = sampleTree(5);
  // A proof of one key in a 5-leaf tree has 2 + 2k tags for some k: never a multiple of 4 here
  // unless the shape says so, so check the padding of whichever tag byte comes last.
  for (let i = 0; i < 5; i++) {
    const tree = prove(t, [keyPath(`h/k${i}`)]);
    const bytes = encodeProof(tree);
    const tags = countTags(tree);
    if (tags % 4 === 0) continue;
    const lastTagByte = lastTagByteOffset(tree);
    assert.equal(bytes[lastTagByte]! >> (2 * (tags % 4)), 0, "encoders write zero padding");
    const bad = new Uint8Array(bytes);
    bad[lastTagByte] = bad[lastTagByte]! | 0x80;
    expectCode(bad, "proof/non-canonical");
    return;
  }
  assert.fail("no proof with a partly used tag byte");
});

function countTags(n: ProofNode): number {
  return n.t === "internal" ? 1 + countTags(n.left) + countTags(n.right) : 1;
}

/** Offset of the last tag byte in the encoding of `root` (tag bytes come where their first tag is needed). */
function lastTagByteOffset(root: ProofNode): number {
  let offset = 0;
  let tags = 0;
  let last = -1;
  const visit = (n: ProofNode): void => {
    if (tags++ % 4 === 0) last = offset++;
    if (n.t === "internal") {
      visit(n.left);
      visit(n.right);
    } else offset += encodeProof(n).length - 1;
  };
  visit(root);
  return last;
}
