// The thesis's scenarios (§6.1) on replicas with different partitions: disjoint and read-only
// sharing accepted, modified records rejected, modified-then-restored accepted, presence/absence
// changes rejected, and stubs appearing exactly at age T, never earlier, never inside the partition.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HistoryTree, type Write } from "../../node/store/core/history.js";
import { Partition } from "../../node/store/core/partition.js";
import { prove, type ProofNode } from "../../node/store/core/proof.js";
import { decodeProof, encodeProof } from "../../node/store/core/proof-codec.js";
import { bitAt, keyPath } from "../../node/store/core/path.js";
import { Kind } from "../../node/store/core/node.js";
import { toHex, utf8 } from "../../node/common/bytes.js";

const T = 4;

interface Proof {
  root: ProofNode;
  label: Uint8Array;
}

class Cluster {
  readonly full: HistoryTree;
  readonly replicas: HistoryTree[];
  constructor(genesis: Record<string, string>) {
    const recs = Object.entries(genesis).map(([key, v]) => ({ key, value: utf8(v) }));
    this.full = HistoryTree.genesis(Partition.whole(), T, recs);
    this.replicas = [
      this.full,
      ...[["0"], ["1"], ["00", "11"], []].map((p) => HistoryTree.genesis(new Partition(p), T, recs)),
    ];
  }
  proof(keys: string[]): Proof {
    const d = decodeProof(encodeProof(prove(this.full.tree, keys.map(keyPath), { leafSiblings: true })));
    return { root: d.root, label: d.rootLabel };
  }
  exec(p: Proof, keys: string[], writes: Write[]): string {
    const vs = this.replicas.map((r) => {
      const v = r.execute(p.root, p.label, keys, writes);
      return v.ok ? "ok" : v.reason;
    });
    assert.equal(new Set(vs).size, 1, `replicas disagree: ${vs.join(",")}`);
    assert.equal(new Set(this.replicas.map((r) => toHex(r.rootLabel))).size, 1, "roots differ");
    return vs[0]!;
  }
}

const w = (key: string, v: string | null): Write => ({ key, value: v === null ? null : utf8(v) });

test("concurrent operations on disjoint records are all accepted", () => {
  const c = new Cluster({ "bank/alice": "10", "bank/bob": "10", "bank/carol": "10", "bank/dave": "10" });
  const p1 = c.proof(["bank/alice", "bank/bob"]);
  const p2 = c.proof(["bank/carol", "bank/dave"]);
  assert.equal(c.exec(p1, ["bank/alice", "bank/bob"], [w("bank/alice", "5"), w("bank/bob", "15")]), "ok");
  assert.equal(c.exec(p2, ["bank/carol", "bank/dave"], [w("bank/carol", "5"), w("bank/dave", "15")]), "ok");
});

test("records only read by others are accepted", () => {
  const c = new Cluster({ "hr/salary": "3", "bank/bob": "10", "bank/eve": "10" });
  const p1 = c.proof(["hr/salary", "bank/bob"]);
  const p2 = c.proof(["hr/salary", "bank/eve"]);
  assert.equal(c.exec(p1, ["hr/salary", "bank/bob"], [w("bank/bob", "13")]), "ok");
  assert.equal(c.exec(p2, ["hr/salary", "bank/eve"], [w("bank/eve", "13")]), "ok");
});

test("a record modified after the proof was taken is rejected", () => {
  const c = new Cluster({ "bank/alice": "10", "bank/bob": "10" });
  const p1 = c.proof(["bank/alice"]);
  const p2 = c.proof(["bank/alice", "bank/bob"]);
  assert.equal(c.exec(p1, ["bank/alice"], [w("bank/alice", "0")]), "ok");
  assert.equal(c.exec(p2, ["bank/alice", "bank/bob"], [w("bank/alice", "-10")]), "record-changed");
});

test("a record modified and then restored is accepted", () => {
  const c = new Cluster({ "bank/alice": "10", "bank/bob": "10" });
  const old = c.proof(["bank/alice", "bank/bob"]);
  assert.equal(c.exec(c.proof(["bank/alice"]), ["bank/alice"], [w("bank/alice", "99")]), "ok");
  assert.equal(c.exec(c.proof(["bank/alice"]), ["bank/alice"], [w("bank/alice", "10")]), "ok");
  assert.equal(c.exec(old, ["bank/alice", "bank/bob"], [w("bank/bob", "11")]), "ok");
});

test("absent in the proof but present now, or the reverse, is rejected", () => {
  const c = new Cluster({ "bank/alice": "10" });
  const absent = c.proof(["bank/zed"]);
  const present = c.proof(["bank/alice"]);
  assert.equal(c.exec(c.proof(["bank/zed"]), ["bank/zed"], [w("bank/zed", "1")]), "ok");
  assert.equal(c.exec(absent, ["bank/zed"], [w("bank/zed", "2")]), "record-changed");
  assert.equal(c.exec(c.proof(["bank/alice"]), ["bank/alice"], [w("bank/alice", null)]), "ok");
  assert.equal(c.exec(present, ["bank/alice"], [w("bank/alice", "11")]), "record-changed");
});

test("a proof is usable for T operations and stale after", () => {
  const c = new Cluster({ "a/x": "1" });
  const p = c.proof(["a/x"]);
  for (let i = 0; i < T - 1; i++)
    assert.equal(c.exec(c.proof([`a/f${i}`]), [`a/f${i}`], [w(`a/f${i}`, "1")]), "ok");
  const q = c.proof(["a/x"]);
  assert.equal(c.exec(p, ["a/x"], []), "ok"); // root T-1 operations old: still in the window
  for (let i = 0; i < T; i++)
    assert.equal(c.exec(c.proof([`a/g${i}`]), [`a/g${i}`], [w(`a/g${i}`, "1")]), "ok");
  assert.equal(c.exec(q, ["a/x"], []), "stale-root");
});

test("stubs appear exactly at age T, never earlier, never inside the partition", () => {
  // Keys on each side of the root's first bit.
  const ones: string[] = [];
  const zeros: string[] = [];
  for (let i = 0; ones.length < 3 || zeros.length < 40; i++) {
    const k = `s/k${i}`;
    (bitAt(keyPath(k), 0) ? ones : zeros).push(k);
  }
  const c = new Cluster({ [zeros[0]!]: "z", [zeros[1]!]: "z" });
  const r0 = c.replicas[1]!; // partition "0"
  assert.deepEqual(r0.partition.toStrings(), ["0"]);
  // Operation at time t0 writes two records under prefix 1 (outside r0's partition).
  assert.equal(
    c.exec(c.proof([ones[0]!, ones[1]!]), [ones[0]!, ones[1]!], [w(ones[0]!, "1"), w(ones[1]!, "1")]),
    "ok",
  );
  const stubbedAt = (k: string) => r0.tree.walk(keyPath(k)).node.kind === Kind.Stub;
  let zi = 2;
  for (let age = 0; age < T; age++) {
    assert.ok(!stubbedAt(ones[0]!), `stubbed too early, at age ${age}`);
    // Other operations touch only the partition's side.
    const k = zeros[zi++]!;
    assert.equal(c.exec(c.proof([k]), [k], [w(k, "z")]), "ok");
  }
  assert.ok(stubbedAt(ones[0]!), "not stubbed at age T");
  assert.ok(stubbedAt(ones[1]!));
  for (const k of zeros.slice(0, zi)) assert.ok(!stubbedAt(k), "a stub inside the partition");
  // A later operation on the stubbed side re-materialises the path from its proof and works.
  assert.equal(
    c.exec(c.proof([ones[0]!, ones[2]!]), [ones[0]!, ones[2]!], [w(ones[0]!, null), w(ones[2]!, "3")]),
    "ok",
  );
  for (let i = 0; i < T; i++) {
    const k = zeros[zi++]!;
    assert.equal(c.exec(c.proof([k]), [k], [w(k, "z")]), "ok");
  }
  assert.ok(stubbedAt(ones[2]!), "re-materialised nodes leak past age T");
  for (const k of zeros.slice(0, zi)) assert.ok(!stubbedAt(k));
});
