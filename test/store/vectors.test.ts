// Checked-in test vectors (docs/vectors/store.json) for key paths, value hashes, labels, a tree
// root and proof encodings, computed with both SHA-256 implementations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { keyPath } from "../../node/store/core/path.js";
import { internalLabel, leafLabel, valueHash } from "../../node/store/core/label.js";
import { MerkleTree } from "../../node/store/core/tree.js";
import { prove } from "../../node/store/core/proof.js";
import { decodeProof, encodeProof } from "../../node/store/core/proof-codec.js";
import { fromHex, toHex, utf8 } from "../../node/common/bytes.js";
import { installSha256, portableSha256 } from "../../node/common/hash.js";
import { nodeSha256 } from "../../node/platform.js";

const v = JSON.parse(readFileSync("docs/vectors/store.json", "utf8"));

for (const [name, impl] of [
  ["portable", portableSha256],
  ["node:crypto", nodeSha256],
] as const) {
  test(`store vectors with ${name} SHA-256`, () => {
    installSha256(impl);
    try {
      assert.equal(toHex(keyPath(v.keyPath.key)), v.keyPath.path);
      assert.equal(toHex(valueHash(fromHex(v.valueHash.valueHex))), v.valueHash.hash);
      assert.equal(
        toHex(leafLabel(fromHex(v.leafLabel.keyHash), fromHex(v.leafLabel.valueHash))),
        v.leafLabel.label,
      );
      assert.equal(
        toHex(internalLabel(fromHex(v.internalLabel.left), fromHex(v.internalLabel.right))),
        v.internalLabel.label,
      );
      const t = new MerkleTree();
      for (const [k, val] of v.tree.records) t.set(k, utf8(val));
      assert.equal(toHex(t.rootLabel), v.tree.root);
      for (const p of v.proofs) {
        const bytes = encodeProof(
          prove(t, p.keys.map(keyPath), { values: p.values, leafSiblings: p.leafSiblings }),
        );
        assert.equal(toHex(bytes), p.hex);
        assert.equal(toHex(decodeProof(fromHex(p.hex)).rootLabel), v.tree.root);
      }
    } finally {
      installSha256(portableSha256);
    }
  });
}
