// Replication repair as a pure function: whichever members leave, every cell of the key space is
// held again by min(k, members left) of the others, the result is a function of its input alone,
// and a member whose prefixes did not change keeps its very record.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { assignPrefixes, type GenesisNode } from "../../node/ledger/genesis.js";
import { reassignPrefixes } from "../../node/ledger/reassign.js";

function coverage(recs: readonly GenesisNode[], depth: number): number {
  let min = Infinity;
  for (let i = 0; i < 1 << depth; i++) {
    const cell = i.toString(2).padStart(depth, "0");
    min = Math.min(min, recs.filter((r) => r.prefixes.some((p) => cell.startsWith(p))).length);
  }
  return min;
}

const arb = fc
  .record({ n: fc.integer({ min: 1, max: 9 }), k: fc.integer({ min: 1, max: 9 }), seed: fc.integer() })
  .filter((x) => x.k <= x.n)
  .chain((x) =>
    fc.record({
      n: fc.constant(x.n),
      k: fc.constant(x.k),
      leaving: fc.subarray(Array.from({ length: x.n }, (_, i) => i)),
    }),
  );

test("after any departure every cell is held by min(k, members left)", () => {
  fc.assert(
    fc.property(arb, ({ n, k, leaving }) => {
      const nodes: GenesisNode[] = assignPrefixes(n, k).map((prefixes, id) => ({
        id,
        publicKey: new Uint8Array(32).fill(id),
        address: `h:${id}`,
        prefixes,
      }));
      const after = reassignPrefixes(nodes, leaving, k);
      assert.deepEqual(
        after.map((r) => r.id),
        nodes.filter((r) => !leaving.includes(r.id)).map((r) => r.id),
      );
      if (after.length > 0) assert.ok(coverage(after, 7) >= Math.min(k, after.length));
      assert.deepEqual(reassignPrefixes([...nodes].reverse(), [...leaving].reverse(), k), after);
      for (const r of after) {
        const was = nodes.find((x) => x.id === r.id)!;
        if (r.prefixes.join() === was.prefixes.join()) assert.equal(r, was);
      }
    }),
    { numRuns: 300 },
  );
});

test("nothing leaves: nothing changes", () => {
  const nodes: GenesisNode[] = assignPrefixes(4, 2).map((prefixes, id) => ({
    id,
    publicKey: new Uint8Array(32).fill(id),
    address: `h:${id}`,
    prefixes,
  }));
  const after = reassignPrefixes(nodes, [], 2);
  after.forEach((r, i) => assert.equal(r, nodes[i]));
});
