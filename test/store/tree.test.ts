// Tree basics: canonical shape (root independent of order), get/set/remove, proofs round trip.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MerkleTree } from "../../node/store/core/tree.js";
import { Kind, type TreeNode } from "../../node/store/core/node.js";
import { prove, provenState } from "../../node/store/core/proof.js";
import { decodeProof, encodeProof } from "../../node/store/core/proof-codec.js";
import { keyPath, keyPathLatin1 } from "../../node/store/core/path.js";
import { sha256 } from "../../node/common/hash.js";
import { LimitError } from "../../node/common/errors.js";
import { EMPTY_LABEL } from "../../node/store/core/label.js";
import { bytesEqual, latin1ToBytes, toHex, utf8 } from "../../node/common/bytes.js";

const keyArb = fc.stringMatching(/^[a-z]{1,3}(\/[a-z0-9]{1,4})?$/);

test("empty tree has the empty label", () => {
  assert.ok(bytesEqual(new MerkleTree().rootLabel, EMPTY_LABEL));
});

test("root depends only on the set of records", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(keyArb, fc.uint8Array({ maxLength: 8 })), {
        selector: (x) => x[0],
        maxLength: 40,
      }),
      fc.nat(),
      (recs, seed) => {
        const a = new MerkleTree();
        for (const [k, v] of recs) a.set(k, v);
        const shuffled = [...recs].sort(
          (x, y) => ((x[0].charCodeAt(0) * 31 + seed) % 7) - ((y[0].charCodeAt(0) * 31 + seed) % 7),
        );
        const b = new MerkleTree();
        // b also inserts and removes noise first
        b.set("noise/x", utf8("n"));
        for (const [k, v] of shuffled) b.set(k, v);
        b.remove("noise/x");
        if (recs.some(([k]) => k === "noise/x")) return;
        assert.equal(toHex(a.rootLabel), toHex(b.rootLabel));
        // removing everything gets back to empty
        for (const [k] of recs) assert.ok(a.remove(k));
        assert.ok(bytesEqual(a.rootLabel, EMPTY_LABEL));
      },
    ),
    { seed: 11, numRuns: 300 },
  );
});

test("get, overwrite, remove", () => {
  const t = new MerkleTree();
  t.set("bank/alice", utf8("1"));
  t.set("bank/bob", utf8("2"));
  assert.deepEqual(t.get("bank/alice"), utf8("1"));
  t.set("bank/alice", utf8("3"));
  assert.deepEqual(t.get("bank/alice"), utf8("3"));
  assert.ok(t.remove("bank/alice"));
  assert.equal(t.get("bank/alice"), undefined);
  assert.ok(!t.remove("bank/alice"));
  assert.deepEqual(t.get("bank/bob"), utf8("2"));
});

test("multi-key proofs of presence and absence verify and round trip", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(keyArb, { maxLength: 60 }),
      fc.array(keyArb, { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      fc.boolean(),
      (present, asked, values, leafSiblings) => {
        const t = new MerkleTree();
        for (const k of present) t.set(k, utf8("v:" + k));
        const p = prove(t, asked.map(keyPath), { values, leafSiblings });
        const bytes = encodeProof(p);
        const d = decodeProof(bytes);
        assert.equal(toHex(d.rootLabel), toHex(t.rootLabel));
        assert.deepEqual(encodeProof(d.root), bytes);
        for (const k of asked) {
          const s = provenState(d.root, keyPath(k));
          assert.ok(s.covered);
          assert.equal(s.present, present.includes(k));
          if (s.present) {
            if (values) assert.deepEqual(s.value, utf8("v:" + k));
            else assert.equal(s.value, null);
          }
        }
      },
    ),
    { seed: 12, numRuns: 400 },
  );
});

test("every internal node's timestamp is the newest of its children's, and labels asked between writes match a fresh tree's", () => {
  // Timestamps here go backwards as well as forwards: the shortcut that spares reading the other
  // child applies only when the new child is at least as new as the one it replaces.
  const op = fc.record({ remove: fc.boolean(), key: keyArb, ts: fc.nat(50), label: fc.boolean() });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const t = new MerkleTree();
      const live = new Map<string, Uint8Array>();
      for (const o of ops) {
        if (o.remove) {
          t.remove(o.key, o.ts);
          live.delete(o.key);
        } else {
          const v = utf8(`${o.key}@${o.ts}`);
          t.set(o.key, v, o.ts);
          live.set(o.key, v);
        }
        if (o.label) void t.rootLabel;
      }
      const check = (n: TreeNode): number => {
        if (n.kind !== Kind.Internal) return n.ts;
        const newest = Math.max(check(n.left), check(n.right));
        assert.equal(n.ts, newest);
        return n.ts;
      };
      check(t.root);
      const fresh = new MerkleTree();
      for (const [k, v] of live) fresh.set(k, v);
      assert.equal(toHex(t.rootLabel), toHex(fresh.rootLabel));
    }),
  );
});

test("a key's path is SHA-256 of its UTF-8 bytes whether or not it was just computed for a check", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ minLength: 1, maxLength: 20, unit: "grapheme" }), { maxLength: 30 }),
      (ks) => {
        for (const k of ks) {
          const fresh = toHex(sha256(utf8(k)));
          assert.equal(toHex(latin1ToBytes(keyPathLatin1(k))), fresh);
          assert.equal(toHex(keyPath(k)), fresh);
          assert.equal(toHex(latin1ToBytes(keyPathLatin1(k))), fresh);
        }
      },
    ),
  );
  assert.throws(() => keyPathLatin1(""), LimitError);
  assert.throws(() => keyPath("\ud800"), LimitError);
  assert.throws(() => keyPathLatin1("\ud800"), LimitError);
});
