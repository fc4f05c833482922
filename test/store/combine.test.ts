// Combining proofs: merge of same-root proofs, and Algorithm 1 across timestamps.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MerkleTree } from "../../node/store/core/tree.js";
import { labelOf, prove, provenState } from "../../node/store/core/proof.js";
import { extendProof, mergeProofs } from "../../node/store/core/combine.js";
import { decodeProof, encodeProof } from "../../node/store/core/proof-codec.js";
import { keyPath } from "../../node/store/core/path.js";
import { bytesEqual, utf8 } from "../../node/common/bytes.js";

const keys = Array.from({ length: 30 }, (_, i) => `c/k${i}`);

test("merging proofs of one root proves the union", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.nat(29)),
      fc.uniqueArray(fc.nat(29), { minLength: 1, maxLength: 5 }),
      fc.uniqueArray(fc.nat(29), { minLength: 1, maxLength: 5 }),
      (present, a, b) => {
        const t = new MerkleTree();
        for (const i of present) t.set(keys[i]!, utf8(`v${i}`));
        const pa = prove(
          t,
          a.map((i) => keyPath(keys[i]!)),
        );
        const pb = prove(
          t,
          b.map((i) => keyPath(keys[i]!)),
        );
        const m = decodeProof(encodeProof(mergeProofs(pa, pb)));
        assert.ok(bytesEqual(m.rootLabel, t.rootLabel));
        for (const i of [...a, ...b]) {
          const s = provenState(m.root, keyPath(keys[i]!));
          assert.ok(s.covered && s.present === present.includes(i));
        }
      },
    ),
    { seed: 41, numRuns: 300 },
  );
});

test("an older proof extends the newest one only where its records did not change", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.nat(29), { minLength: 2 }),
      fc.nat(29),
      fc.nat(29),
      fc.nat(29),
      (present, asked, changed, newestKey) => {
        const t = new MerkleTree();
        for (const i of present) t.set(keys[i]!, utf8(`v${i}`));
        const older = prove(t, [keyPath(keys[asked]!)]);
        t.set(keys[changed]!, utf8("new"));
        const newest = prove(t, [keyPath(keys[newestKey]!)]);
        const r = extendProof(newest, older, [keyPath(keys[asked]!)]);
        const sameRecord = changed !== asked;
        if (!sameRecord) assert.ok(!r.ok, "a changed record must not extend");
        if (r.ok) {
          const d = decodeProof(encodeProof(r.proof));
          assert.ok(bytesEqual(d.rootLabel, t.rootLabel), "extended proof is against the newest root");
          const s = provenState(d.root, keyPath(keys[asked]!));
          assert.ok(s.covered && s.present === present.includes(asked));
          assert.ok(bytesEqual(labelOf(r.proof), labelOf(newest)));
        }
      },
    ),
    { seed: 42, numRuns: 500 },
  );
});
