// Theorem 1 as a property: replicas with different random partitions, fed the same random
// operations with proofs up to (and beyond) T old, always reach the same verdicts and the same
// roots; the verdicts equal the oracle's (is each touched record the same in the proof's tree as
// now?); every replica's proofs verify against the shared root; and what a replica stores outside
// its partition stays within the stated O(T) bound.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MerkleTree } from "../../node/store/core/tree.js";
import { HistoryTree } from "../../node/store/core/history.js";
import { Partition } from "../../node/store/core/partition.js";
import { prove, provenState } from "../../node/store/core/proof.js";
import { decodeProof, encodeProof } from "../../node/store/core/proof-codec.js";
import { keyPath } from "../../node/store/core/path.js";
import { bytesEqual, toHex, utf8 } from "../../node/common/bytes.js";

const KEYS = Array.from({ length: 24 }, (_, i) => `d/k${i}`);

type Snapshot = Map<string, Uint8Array>;

function treeOf(s: Snapshot): MerkleTree {
  const t = new MerkleTree();
  for (const [k, v] of s) t.set(k, v);
  return t;
}

const opArb = fc.record({
  touched: fc.uniqueArray(fc.integer({ min: 0, max: KEYS.length - 1 }), { minLength: 1, maxLength: 4 }),
  writes: fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 3 }))), {
    maxLength: 3,
  }),
  age: fc.integer({ min: 0, max: 9 }),
});

const prefixArb = fc.stringMatching(/^[01]{0,3}$/);

function boundOutside(T: number, touchedPerOp: number, prefixes: number): number {
  // Nodes outside the partition: the paths (and siblings) of keys touched in the last T
  // operations, plus the boundary of the partition (siblings along its prefixes).
  return 2 * 257 * touchedPerOp * (T + 1) + 2 * 257 * prefixes;
}

test("replicas with different partitions agree with each other and with the oracle", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.uniqueArray(prefixArb, { minLength: 0, maxLength: 3 }), { minLength: 3, maxLength: 4 }),
      fc.array(opArb, { minLength: 1, maxLength: 40 }),
      (T, partitions, ops) => {
        const genesis: Snapshot = new Map([
          ["d/k0", utf8("g0")],
          ["d/k1", utf8("g1")],
          ["d/k5", utf8("g5")],
        ]);
        const replicas = [
          HistoryTree.genesis(
            Partition.whole(),
            T,
            [...genesis].map(([key, value]) => ({ key, value })),
          ),
          ...partitions.map((ps) =>
            HistoryTree.genesis(
              new Partition(ps),
              T,
              [...genesis].map(([key, value]) => ({ key, value })),
            ),
          ),
        ];
        const history: Snapshot[] = [genesis];
        for (const op of ops) {
          const now = history.length - 1;
          const m = Math.max(0, now - op.age);
          const then = history[m]!;
          const thenTree = treeOf(then);
          const keys = op.touched.map((i) => KEYS[i]!);
          const paths = keys.map(keyPath);
          const proof = decodeProof(encodeProof(prove(thenTree, paths, { leafSiblings: true })));
          const current = history[now]!;
          const fresh = now - m < T;
          const same = keys.every((k) => {
            const a = then.get(k);
            const b = current.get(k);
            return a === b || (a !== undefined && b !== undefined && bytesEqual(a, b));
          });
          const writes = op.writes.map(([i, v]) => ({
            key: keys[i % keys.length]!,
            value: v === null ? null : utf8(`v${v}`),
          }));
          const verdicts = replicas.map((r) => {
            const v = r.execute(proof.root, proof.rootLabel, keys, writes);
            return v.ok ? "ok" : v.reason;
          });
          const oracle = !fresh ? "stale-root" : same ? "ok" : "record-changed";
          // a repeated root can make an old proof fresh again: the replicas then accept, and so must the oracle
          const expected =
            !fresh &&
            history
              .slice(Math.max(0, now - T + 1))
              .some((s) => bytesEqual(treeOf(s).rootLabel, thenTree.rootLabel))
              ? same
                ? "ok"
                : "record-changed"
              : oracle;
          for (const v of verdicts)
            assert.equal(v, expected, `verdicts ${verdicts.join(",")} oracle ${expected}`);
          if (expected === "ok") {
            const next = new Map(current);
            for (const w of writes) {
              if (w.value === null) next.delete(w.key);
              else next.set(w.key, w.value);
            }
            history.push(next);
          }
          const root = toHex(treeOf(history[history.length - 1]!).rootLabel);
          for (const r of replicas) assert.equal(toHex(r.rootLabel), root);
        }
        // Every replica's proofs for keys it holds verify against the shared root.
        const finalState = history[history.length - 1]!;
        for (const r of replicas) {
          const held = KEYS.filter((k) => r.partition.holdsKey(keyPath(k)));
          if (held.length === 0) continue;
          const d = decodeProof(encodeProof(prove(r.tree, held.map(keyPath))));
          assert.ok(bytesEqual(d.rootLabel, r.rootLabel));
          for (const k of held) {
            const s = provenState(d.root, keyPath(k));
            assert.ok(s.covered && s.present === finalState.has(k));
          }
          const c = r.tree.census();
          assert.ok(c.outside <= boundOutside(T, 4, r.partition.prefixes.length), `outside ${c.outside}`);
        }
      },
    ),
    { seed: 2024, numRuns: 1500 },
  );
});
