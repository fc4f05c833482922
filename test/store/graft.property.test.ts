// Taking on a prefix (node/store/core/graft.ts): a replica whose partition grows fetches chunks
// from a holder and grafts them until it lacks nothing inside its partition; it then holds exactly
// the full tree's records there, with the same root throughout. Forged and truncated chunks are
// refused with typed errors, and hostile chunk bytes only ever give a DecodeError.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MerkleTree } from "../../node/store/core/tree.js";
import { HistoryTree } from "../../node/store/core/history.js";
import { Partition, parsePrefix } from "../../node/store/core/partition.js";
import {
  decodeChunk,
  encodeChunk,
  extractChunk,
  formatPosition,
  graftChunk,
  GraftError,
  positionOf,
  prefixFor,
  chunkSources,
  needStands,
  treeNeeds,
  type Chunk,
} from "../../node/store/core/graft.js";
import type { ProofNode } from "../../node/store/core/proof.js";
import { leafLabel } from "../../node/store/core/label.js";
import { keyPath } from "../../node/store/core/path.js";
import { ArborError, DecodeError } from "../../node/common/errors.js";
import { bytesEqual, toHex, utf8 } from "../../node/common/bytes.js";
import { MAX_GRAFT_CHUNK_BYTES } from "../../node/common/limits.js";

const prefixArb = fc.stringMatching(/^[01]{0,4}$/);

function records(n: number, salt: number): Array<{ key: string; value: Uint8Array }> {
  return Array.from({ length: n }, (_, i) => ({ key: `g/k${i}`, value: utf8(`v${i}.${salt}`) }));
}

function under(key: string, prefixes: readonly string[]): boolean {
  return new Partition(prefixes).holdsKey(keyPath(key));
}

/** Grafts from `holder` into `receiver` until nothing is missing; returns the chunks used. */
function acquire(receiver: MerkleTree, holder: MerkleTree, maxLeaves: number): number {
  let chunks = 0;
  for (let round = 0; round < 10_000; round++) {
    const needs = treeNeeds(receiver, 8);
    if (needs.length === 0) return chunks;
    for (const at of needs) {
      const within = prefixFor(receiver.partition, at);
      assert.ok(within, `a need at "${formatPosition(at)}" lies on a prefix`);
      const chunk = decodeChunk(encodeChunk(extractChunk(holder, at, within, maxLeaves)));
      try {
        graftChunk(receiver, chunk);
        chunks++;
      } catch (e) {
        // A need earlier in this round may have filled this one already.
        assert.ok(e instanceof GraftError && e.refusal !== "label-mismatch", String(e));
      }
    }
  }
  throw new Error("acquisition did not end");
}

test("grafting a holder's chunks fills a grown partition exactly, root unchanged", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 60 }),
      fc.uniqueArray(prefixArb, { minLength: 0, maxLength: 3 }),
      fc.uniqueArray(prefixArb, { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 1, max: 8 }),
      (n, held, wanted, maxLeaves) => {
        const recs = records(n, 1);
        const full = new MerkleTree();
        for (const r of recs) full.set(r.key, r.value);
        // The receiver forgot everything outside its partition; the holder holds the wanted prefixes.
        const receiver = HistoryTree.genesis(new Partition(held), 4, recs).tree;
        const holder = HistoryTree.genesis(new Partition(wanted), 4, recs).tree;
        const root = toHex(receiver.rootLabel);
        assert.equal(root, toHex(full.rootLabel));
        receiver.widen(receiver.partition.widen(wanted));
        acquire(receiver, holder, maxLeaves);
        assert.equal(toHex(receiver.rootLabel), root, "grafts never change the root");
        assert.equal(treeNeeds(receiver).length, 0);
        const got = new Map([...receiver.records()].map((r) => [r.key, toHex(r.value)]));
        for (const r of recs)
          if (under(r.key, [...held, ...wanted])) assert.equal(got.get(r.key), toHex(r.value), r.key);
        for (const k of got.keys()) assert.ok(under(k, [...held, ...wanted]), `${k} is not held`);
      },
    ),
    { numRuns: 150 },
  );
});

test("a grown prefix is filled from holders of finer prefixes only (none holds all of it)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 60 }),
      fc.uniqueArray(prefixArb, { minLength: 0, maxLength: 2 }),
      fc.stringMatching(/^[01]{0,2}$/),
      fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 1, max: 8 }),
      (n, held, wanted, extra, maxLeaves) => {
        const recs = records(n, 3);
        const receiver = HistoryTree.genesis(new Partition(held), 4, recs).tree;
        const root = toHex(receiver.rootLabel);
        // The wanted prefix's 2^extra extensions, dealt alternately to two holders.
        const parts = Array.from(
          { length: 1 << extra },
          (_, i) => wanted + i.toString(2).padStart(extra, "0"),
        );
        const holders = [0, 1].map((h) => {
          const prefixes = parts.filter((_, i) => i % 2 === h);
          return {
            holder: HistoryTree.genesis(new Partition(prefixes), 4, recs).tree,
            prefixes: prefixes.map(parsePrefix),
          };
        });
        receiver.widen(receiver.partition.widen([wanted]));
        let turn = 0;
        for (let round = 0; treeNeeds(receiver, 1).length > 0; round++) {
          assert.ok(round < 10_000, "acquisition did not end");
          for (const need of treeNeeds(receiver, 8)) {
            const sources = chunkSources(receiver.partition, need, holders);
            assert.ok(sources.length > 0, `a holder for "${formatPosition(need)}"`);
            for (const s of sources)
              assert.ok(s.holder.partition.covers(s.within), "asked for what it holds");
            const { holder, within } = sources[turn++ % sources.length]!;
            const cut = extractChunk(holder, need, within, maxLeaves);
            assert.equal(cut.lacking, false, "a holder lacks nothing in what it holds");
            try {
              graftChunk(receiver, decodeChunk(encodeChunk(cut)));
            } catch (e) {
              assert.ok(e instanceof GraftError && e.refusal !== "label-mismatch", String(e));
            }
          }
        }
        assert.equal(toHex(receiver.rootLabel), root);
        const got = new Map([...receiver.records()].map((r) => [r.key, toHex(r.value)]));
        for (const r of recs)
          if (under(r.key, [...held, wanted])) assert.equal(got.get(r.key), toHex(r.value), r.key);
      },
    ),
    { numRuns: 150 },
  );
});

test("chunk sources: one per holder, a holder of the whole prefix first; a taker still lacking it says so", () => {
  const recs = records(40, 4);
  const receiver = HistoryTree.genesis(new Partition(["00"]), 4, recs).tree;
  receiver.widen(receiver.partition.widen(["1"]));
  const need = treeNeeds(receiver, 1)[0]!;
  const coarse = { holder: "coarse", prefixes: [parsePrefix("1")] };
  const fine = { holder: "fine", prefixes: [parsePrefix("10"), parsePrefix("0")] };
  const off = { holder: "off", prefixes: [parsePrefix("0")] };
  assert.deepEqual(
    chunkSources(receiver.partition, need, [fine, coarse, off]).map((s) => [s.holder, s.within.bits]),
    [
      ["coarse", 1],
      ["fine", 2],
    ],
  );
  assert.deepEqual(
    chunkSources(receiver.partition, need, [fine, off]).map((s) => s.holder),
    ["fine"],
  );
  // The receiver itself, mid-acquisition, would serve "1" lacking most of it.
  assert.equal(extractChunk(receiver, need, parsePrefix("1")).lacking, true);
});

/** An honest chunk with at least one full leaf, for a receiver that holds nothing yet. */
function setup(): { receiver: MerkleTree; chunk: Chunk; holder: MerkleTree } {
  const recs = records(40, 2);
  const receiver = HistoryTree.genesis(new Partition(["1111"]), 4, recs).tree;
  const holder = HistoryTree.genesis(Partition.whole(), 4, recs).tree;
  receiver.widen(receiver.partition.widen(["0"]));
  const at = treeNeeds(receiver, 1)[0]!;
  const chunk = extractChunk(holder, at, parsePrefix("0"), 4);
  return { receiver, chunk, holder };
}

function mapLeaves(n: ProofNode, f: (l: ProofNode & { t: "leaf" }) => ProofNode | null): ProofNode {
  let done = false;
  const go = (m: ProofNode): ProofNode => {
    if (done) return m;
    if (m.t === "internal") {
      const left = go(m.left);
      return { t: "internal", left, right: go(m.right) };
    }
    if (m.t === "leaf" && m.value !== null) {
      const r = f(m);
      if (r !== null) {
        done = true;
        return r;
      }
    }
    return m;
  };
  return go(n);
}

test("a forged chunk (one value changed) is refused: its label is not the tree's", () => {
  const { receiver, chunk } = setup();
  const root = receiver.rootLabel;
  const forged: Chunk = {
    at: chunk.at,
    root: mapLeaves(chunk.root, (l) => {
      const value = l.value!.slice();
      value[0]! ^= 1;
      return { t: "leaf", keyHash: l.keyHash, valueHash: new Uint8Array(32), key: l.key, value };
    }),
  };
  // Through the codec: the value hash is recomputed from the value, as a receiver would.
  const decoded = decodeChunk(encodeChunk(forged));
  assert.throws(
    () => graftChunk(receiver, decoded),
    (e: unknown) => e instanceof GraftError && e.code === "graft/label-mismatch",
  );
  assert.ok(bytesEqual(receiver.rootLabel, root));
  assert.ok(treeNeeds(receiver).length > 0, "nothing was grafted");
  // The honest chunk grafts.
  assert.ok(graftChunk(receiver, decodeChunk(encodeChunk(chunk))).filled > 0);
});

test("a truncated chunk (a leaf dropped, no stub for it) is refused", () => {
  const { receiver, chunk } = setup();
  const truncated: Chunk = { at: chunk.at, root: mapLeaves(chunk.root, () => ({ t: "empty" })) };
  assert.throws(
    () => graftChunk(receiver, decodeChunk(encodeChunk(truncated))),
    (e: unknown) =>
      (e instanceof GraftError && e.code === "graft/label-mismatch") ||
      (e instanceof DecodeError && e.code === "graft/non-canonical"),
  );
});

test("a chunk that fills nothing is refused, and a position the tree lacks is stale", () => {
  const { receiver, chunk } = setup();
  const need = treeNeeds(receiver, 1)[0]!;
  assert.equal(needStands(receiver, need), true);
  graftChunk(receiver, decodeChunk(encodeChunk(chunk)));
  assert.throws(
    () => graftChunk(receiver, decodeChunk(encodeChunk(chunk))),
    (e: unknown) => e instanceof GraftError && e.refusal === "no-progress",
  );
  // The need it filled no longer stands (a second honest chunk for it is stale, not a lie); one
  // it left does.
  assert.equal(needStands(receiver, need), false);
  const left = treeNeeds(receiver, 1)[0];
  if (left) assert.equal(needStands(receiver, left), true);
  const tiny = new MerkleTree(new Partition(["0"]));
  tiny.set("only", utf8("one"));
  assert.throws(
    () => graftChunk(tiny, { at: positionOf("0101"), root: chunk.root }),
    (e: unknown) => e instanceof GraftError && e.refusal === "position-absent",
  );
});

test("hostile chunk bytes give a DecodeError, bounded", () => {
  const { chunk } = setup();
  const good = encodeChunk(chunk);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (noise, at) => {
      for (const bytes of [noise, spliced(good, noise, at)])
        try {
          decodeChunk(bytes);
        } catch (e) {
          assert.ok(e instanceof DecodeError, `${String(e)}`);
        }
    }),
    { numRuns: 500 },
  );
  assert.throws(
    () => decodeChunk(new Uint8Array(MAX_GRAFT_CHUNK_BYTES + 65)),
    (e: unknown) => e instanceof ArborError && e.code === "graft/too-large",
  );
  // A stub standing for a leaf is refused: a chunk never hides a record behind a bare label.
  const leafStub = encodeChunk({
    at: chunk.at,
    root: mapLeaves(chunk.root, (l) => ({ t: "stub", label: leafLabelOf(l) })),
  });
  assert.throws(
    () => decodeChunk(leafStub),
    (e: unknown) =>
      e instanceof DecodeError && (e.code === "graft/leaf-stub" || e.code === "graft/non-canonical"),
  );
});

function spliced(good: Uint8Array, noise: Uint8Array, at: number): Uint8Array {
  const i = at % (good.length + 1);
  const out = new Uint8Array(good.length + noise.length);
  out.set(good.subarray(0, i));
  out.set(noise, i);
  out.set(good.subarray(i), i + noise.length);
  return out.subarray(0, Math.max(1, good.length - (at % 7)) + noise.length);
}

function leafLabelOf(l: ProofNode & { t: "leaf" }): Uint8Array {
  return leafLabel(l.keyHash, l.valueHash);
}
