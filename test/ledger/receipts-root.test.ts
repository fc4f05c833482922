// The receipt root (docs/protocol.md §6): the checked-in vectors (docs/vectors/receipts.json) are
// what the code produces; the tree agrees with a recursive split at the largest power of two below
// the count (written here independently) for every count up to 70; every path of every such tree
// verifies, and a path altered in any way (a hash, its order, its length, the index, the count)
// is refused without throwing anything but a typed error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { decodeReceipt, encodeReceipt, type Receipt } from "../../node/ledger/receipt.js";
import {
  ReceiptTree,
  receiptLeafHash,
  receiptPathRoot,
  receiptsRoot,
  verifyReceiptPath,
} from "../../node/ledger/receipts-root.js";
import { concatBytes, fromHex, toHex, utf8 } from "../../node/common/bytes.js";
import { ProofError } from "../../node/common/errors.js";
import { sha256 } from "../../node/common/hash.js";

const v = JSON.parse(readFileSync("docs/vectors/receipts.json", "utf8"));

function fromJson(x: Record<string, string | number>): Receipt {
  const base = {
    requestId: fromHex(x.requestId as string),
    height: BigInt(x.height!),
    index: x.index as number,
    gasUsed: BigInt(x.gasUsed!),
  };
  return x.status === "accepted"
    ? {
        ...base,
        status: "accepted",
        timestamp: BigInt(x.timestamp!),
        writesDigest: fromHex(x.writesDigest as string),
      }
    : { ...base, status: "rejected", reason: x.reason as never, message: x.message as string };
}

test("receipt vectors: encodings, leaf hashes, roots of 0, 1, 2, 3 and 5 receipts, paths", () => {
  const enc: Uint8Array[] = [];
  for (const x of v.receipts) {
    const b = encodeReceipt(fromJson(x));
    assert.equal(toHex(b), x.encoded);
    assert.deepEqual(decodeReceipt(b), fromJson(x));
    assert.equal(toHex(receiptLeafHash(b)), x.leafHash);
    enc.push(b);
  }
  for (const r of v.roots)
    assert.equal(toHex(receiptsRoot(enc.slice(0, r.count))), r.root, `root of ${r.count}`);
  const five = v.roots.find((r: { count: number }) => r.count === 5).root;
  for (const p of v.paths) {
    const tree = ReceiptTree.of(enc.slice(0, p.count));
    assert.deepEqual(tree.path(p.index).map(toHex), p.path);
    assert.ok(verifyReceiptPath(enc[p.index]!, p.index, p.count, p.path.map(fromHex), fromHex(five)));
  }
});

/** The tree by recursive split, independent of ReceiptTree's level-by-level pairing. */
function reference(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return sha256(concatBytes(new Uint8Array([0]), leaves[0]!));
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(concatBytes(new Uint8Array([1]), reference(leaves.slice(0, k)), reference(leaves.slice(k))));
}

function referenceRoot(leaves: Uint8Array[]): Uint8Array {
  const count = new Uint8Array(8);
  new DataView(count.buffer).setBigUint64(0, BigInt(leaves.length));
  const top = leaves.length === 0 ? new Uint8Array(32) : reference(leaves);
  return sha256(concatBytes(utf8("arbor:receipts:v1"), count, top));
}

const leaves = (n: number) => Array.from({ length: n }, (_, i) => utf8(`receipt ${i}`));

test("the tree is the recursive split at the largest power of two; every path verifies", () => {
  for (let n = 0; n <= 70; n++) {
    const ls = leaves(n);
    const tree = ReceiptTree.of(ls);
    assert.equal(toHex(tree.root), toHex(referenceRoot(ls)), `root of ${n}`);
    for (let i = 0; i < n; i++) {
      const path = tree.path(i);
      assert.ok(path.length <= Math.ceil(Math.log2(n)));
      assert.ok(verifyReceiptPath(ls[i]!, i, n, path, tree.root), `path ${i} of ${n}`);
    }
  }
});

test("a forged path is refused: another receipt, index, count, hash, order or length", () => {
  const ls = leaves(13);
  const tree = ReceiptTree.of(ls);
  const root = tree.root;
  const path = tree.path(6);
  assert.ok(verifyReceiptPath(ls[6]!, 6, 13, path, root));
  assert.ok(!verifyReceiptPath(ls[7]!, 6, 13, path, root), "another receipt");
  assert.ok(!verifyReceiptPath(ls[6]!, 7, 13, path, root), "another index");
  assert.ok(!verifyReceiptPath(ls[6]!, 6, 14, path, root), "another count");
  assert.ok(!verifyReceiptPath(ls[6]!, 6, 13, [...path].reverse(), root), "hashes reordered");
  assert.ok(!verifyReceiptPath(ls[6]!, 6, 13, path.slice(1), root), "a hash left out");
  assert.ok(!verifyReceiptPath(ls[6]!, 6, 13, [...path, path[0]!], root), "a hash added");
  for (let k = 0; k < path.length; k++) {
    const bad = path.map((h) => h.slice());
    bad[k]![5]! ^= 1;
    assert.ok(!verifyReceiptPath(ls[6]!, 6, 13, bad, root), `hash ${k} altered`);
  }
  // A leaf of the tree is not an inner node: an inner node's preimage as a "receipt" does not fit.
  const inner = concatBytes(tree.path(1)[0]!, receiptLeafHash(ls[1]!));
  assert.ok(!verifyReceiptPath(inner, 0, 7, tree.path(0).slice(1), root));
  // Shapes no block has: typed errors, never anything else.
  for (const [index, count, p] of [
    [0, 0, []],
    [-1, 13, path],
    [13, 13, path],
    [0, 1 << 20, []],
    [6, 13, [new Uint8Array(31), ...path.slice(1)]],
  ] as const)
    assert.throws(
      () => receiptPathRoot(ls[6]!, index, count, p as Uint8Array[]),
      (e: unknown) => e instanceof ProofError && e.code === "receipt/bad-path",
    );
});
