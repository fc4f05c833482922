// Joining answers never loses a value: for random trees, random asked keys and random changes in
// between, every value that either input proves for a record still current at the newest root is
// carried by the joined proof (whatever form the newest answer shows that record in), and the
// joined proof verifies against the newest root.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MerkleTree } from "../../node/store/core/tree.js";
import { prove, provenState, type ProofNode } from "../../node/store/core/proof.js";
import { extendProof, mergeProofs } from "../../node/store/core/combine.js";
import { decodeProof, encodeProof } from "../../node/store/core/proof-codec.js";
import { keyPath } from "../../node/store/core/path.js";
import { bytesEqual, utf8 } from "../../node/common/bytes.js";

const KEYS = Array.from({ length: 16 }, (_, i) => `p/k${i}`);

/** Keys whose value `proof` carries, with the value. */
function carried(proof: ProofNode, keys: readonly string[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const k of keys) {
    const s = provenState(proof, keyPath(k));
    if (s.covered && s.present && s.value !== null) out.set(k, s.value);
  }
  return out;
}

const answerArb = fc.record({
  asked: fc.uniqueArray(fc.nat(KEYS.length - 1), { minLength: 1, maxLength: 5 }),
  values: fc.boolean(),
  leafSiblings: fc.boolean(),
});

test("a join keeps every value either side proves that is still current", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.nat(KEYS.length - 1), { minLength: 1 }),
      fc.array(fc.tuple(fc.nat(KEYS.length - 1), fc.option(fc.nat(3))), { maxLength: 3 }),
      answerArb,
      answerArb,
      (present, changes, newestAsk, olderAsk) => {
        const t = new MerkleTree();
        for (const i of present) t.set(KEYS[i]!, utf8(`v${i}`));
        const before = new Map(present.map((i) => [KEYS[i]!, utf8(`v${i}`)]));
        const olderPaths = olderAsk.asked.map((i) => keyPath(KEYS[i]!));
        const older = prove(t, olderPaths, olderAsk);
        for (const [i, v] of changes) {
          if (v === null) t.remove(KEYS[i]!);
          else t.set(KEYS[i]!, utf8(`w${v}`));
        }
        const now = new Map<string, Uint8Array>();
        for (const k of KEYS) {
          const s = provenState(prove(t, [keyPath(k)]), keyPath(k));
          if (s.covered && s.present && s.value !== null) now.set(k, s.value);
        }
        const newest = prove(
          t,
          newestAsk.asked.map((i) => keyPath(KEYS[i]!)),
          newestAsk,
        );
        const sameRoot = bytesEqual(t.rootLabel, decodeProof(encodeProof(older)).rootLabel);
        let joined: ProofNode;
        if (sameRoot) joined = mergeProofs(newest, older);
        else {
          const r = extendProof(newest, older, olderPaths);
          if (!r.ok) return; // a record changed in between: the client asks again
          joined = r.proof;
        }
        const d = decodeProof(encodeProof(joined));
        assert.ok(bytesEqual(d.rootLabel, t.rootLabel), "the join is against the newest root");
        const want = new Map<string, Uint8Array>();
        for (const [k, v] of carried(older, KEYS))
          if (now.has(k) && bytesEqual(now.get(k)!, v) && bytesEqual(before.get(k)!, v)) want.set(k, v);
        for (const [k, v] of carried(newest, KEYS)) want.set(k, v);
        const got = carried(d.root, KEYS);
        for (const [k, v] of want) {
          assert.ok(got.has(k), `the join dropped the value of ${k}`);
          assert.ok(bytesEqual(got.get(k)!, v), `the join changed the value of ${k}`);
        }
      },
    ),
    { seed: 12, numRuns: 1500 },
  );
});
