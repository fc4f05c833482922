// The chunked on-disk layout of the tree: terminal records round-trip through chunks; a tree
// rebuilt from every chunk ever written (newer records superseding older ones at, above or below
// their position) is the live tree, also after sweeps deleted old chunks; a LevelStore keeps its
// disk within bounds under overwrites; and a data directory of the per-terminal layout opens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { Level } from "level";
import { HistoryTree, type Write } from "../../node/store/core/history.js";
import { Journal } from "../../node/store/core/journal.js";
import { Partition } from "../../node/store/core/partition.js";
import { keyPath } from "../../node/store/core/path.js";
import { prove } from "../../node/store/core/proof.js";
import { Sweep } from "../../node/store/core/sweep.js";
import { forEachTerminal, MerkleTree } from "../../node/store/core/tree.js";
import { EmptyNode, LeafNode, StubNode, type TerminalNode } from "../../node/store/core/node.js";
import {
  buildFromStored,
  ChunkWriter,
  decodeChunk,
  type StoredTerminal,
} from "../../node/store/core/terminal-codec.js";
import { LevelStore } from "../../node/store/level-store.js";
import { bytesToLatin1, toHex, utf8 } from "../../node/common/bytes.js";
import { sha256Latin1 } from "../../node/common/hash.js";

function sameTerminal(a: TerminalNode, b: TerminalNode): void {
  assert.equal(a.kind, b.kind);
  assert.equal(a.ts, b.ts);
  assert.equal(toHex(a.label), toHex(b.label));
  if (a instanceof LeafNode && b instanceof LeafNode) {
    assert.equal(a.key, b.key);
    assert.equal(a.value === null ? null : toHex(a.value), b.value === null ? null : toHex(b.value));
  }
}

test("terminal records round-trip through a chunk, at own and sibling positions", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          kind: fc.constantFrom("empty", "leaf", "summary", "stub"),
          key: fc.string({ minLength: 1, maxLength: 300, unit: "grapheme" }),
          value: fc.uint8Array({ maxLength: 300 }),
          ts: fc.nat(),
          depth: fc.integer({ min: 1, max: 256 }),
          sibling: fc.boolean(),
        }),
        { minLength: 1, maxLength: 20 },
      ),
      fc.integer({ min: 0, max: 2 ** 40 }),
      (items, version) => {
        const w = new ChunkWriter(64);
        const expected: Array<{ node: TerminalNode; prefix: string; depth: number }> = [];
        for (const it of items) {
          const path = keyPath(it.key);
          const pathL = bytesToLatin1(path);
          let node: TerminalNode;
          if (it.kind === "empty") node = new EmptyNode(it.ts);
          else if (it.kind === "leaf")
            node = new LeafNode(pathL, sha256Latin1(it.value), it.key, it.value, it.ts);
          else if (it.kind === "summary")
            node = new LeafNode(pathL, sha256Latin1(it.value), null, null, it.ts);
          else node = new StubNode(String.fromCharCode(0x12) + pathL.slice(1), it.ts);
          const bits = Array.from({ length: it.depth }, (_, i) => (path[i >> 3]! >> (7 - (i & 7))) & 1);
          if (it.sibling) bits[it.depth - 1] ^= 1;
          w.put(node, pathL, it.sibling ? -it.depth : it.depth);
          expected.push({ node, prefix: bits.join(""), depth: it.depth });
        }
        const out: StoredTerminal[] = [];
        decodeChunk(w.take(), version, out);
        assert.equal(out.length, expected.length);
        out.forEach((t, i) => {
          const e = expected[i]!;
          assert.equal(t.depth, e.depth);
          assert.equal(t.version, version);
          const bits = Array.from({ length: 256 }, (_, j) => (t.prefix[j >> 3]! >> (7 - (j & 7))) & 1);
          assert.equal(bits.slice(0, e.depth).join(""), e.prefix);
          assert.ok(
            bits.slice(e.depth).every((b) => b === 0),
            "bits past the depth are zero",
          );
          sameTerminal(t.node, e.node);
        });
      },
    ),
    { numRuns: 200 },
  );
});

/** Deterministic operations over a small key set: overwrites, removals and new keys. */
function opsFor(rnd: () => number, n: number): Write[][] {
  const ops: Write[][] = [];
  for (let i = 0; i < n; i++) {
    const writes: Write[] = [];
    for (let j = 0; j < 1 + Math.floor(rnd() * 3); j++)
      writes.push({ key: `k${Math.floor(rnd() * 60)}`, value: rnd() < 0.3 ? null : utf8(`v${i}.${j}`) });
    ops.push(writes);
  }
  return ops;
}

test("a tree rebuilt from every chunk kept on disk is the live tree (journal, sweeps, stubs)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2 ** 31 }),
      fc.constantFrom<string[]>([""], ["0"], ["01", "1"], ["110"]),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 40 }),
      (seed, prefixes, T, budget) => {
        let s = seed;
        const rnd = (): number => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
        const part = new Partition(prefixes);
        const mirror = HistoryTree.genesis(Partition.whole(), T, []);
        const h = HistoryTree.genesis(part, T, []);
        const tree = h.tree;
        const journal = new Journal();
        forEachTerminal(tree.root, new Uint8Array(32), 0, (t, pos) =>
          journal.attach(t, bytesToLatin1(pos.prefix), pos.depth, false),
        );
        tree.journal = journal;
        const chunks: Array<{ version: number; bytes: Uint8Array }> = [];
        let sweep: Sweep | null = null;
        const ops = opsFor(rnd, 120);
        for (let version = 0; version < 40; version++) {
          for (const writes of version === 0 ? [] : ops.slice((version - 1) * 3, version * 3)) {
            const paths = [...new Set(writes.map((x) => x.key))].map(keyPath);
            const proof = prove(mirror.tree, paths, { leafSiblings: true });
            mirror.apply(proof, paths, writes);
            h.apply(proof, paths, writes);
          }
          h.seal();
          const w = new ChunkWriter(64);
          const b = journal.take(version);
          for (let i = 0; i < b.nodes.length; i++) w.put(b.nodes[i]!, b.paths[i]!, b.depths[i]!);
          if (sweep === null && rnd() < 0.3) sweep = new Sweep(version);
          if (sweep !== null) {
            const done = sweep.step(tree.root, budget, (t, pos) => {
              w.putAt(t, pos);
              t.saved = version;
            });
            if (done) {
              const start = sweep.start;
              for (let i = chunks.length - 1; i >= 0; i--)
                if (chunks[i]!.version < start) chunks.splice(i, 1);
              sweep = null;
            }
          }
          chunks.push({ version, bytes: w.take() });
          const stored: StoredTerminal[] = [];
          for (const c of chunks) decodeChunk(c.bytes, c.version, stored);
          const rebuilt = new MerkleTree(part, buildFromStored(stored));
          assert.equal(toHex(rebuilt.rootLabel), toHex(tree.rootLabel), `root after version ${version}`);
          assert.equal(toHex(tree.rootLabel), toHex(mirror.tree.rootLabel));
        }
      },
    ),
    { numRuns: 40 },
  );
});

test("a LevelStore under overwrites keeps disk within bounds and reopens at its root", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-chunks-"));
  try {
    let store = await LevelStore.open(dir, { partition: Partition.whole(), T: 8 });
    let seq = 0;
    for (let b = 1n; b <= 60n; b++) {
      for (let i = 0; i < 20; i++) {
        const key = `k${(seq * 7) % 50}`;
        const value = seq % 5 === 4 ? null : utf8(`v${seq}`);
        store.history.apply({ t: "empty" }, [keyPath(key)], [{ key, value }]);
        seq++;
      }
      await store.commit(b);
    }
    const root = toHex(store.history.rootLabel);
    let live = 0;
    forEachTerminal(store.history.tree.root, new Uint8Array(32), 0, () => live++);
    await store.close();
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    const stored: StoredTerminal[] = [];
    for await (const v of db.values({ gte: Uint8Array.of(0x63), lt: Uint8Array.of(0x64) }))
      decodeChunk(v, 0, stored);
    await db.close();
    // 1,200 writes of 20 terminals or so each went to disk; what stays is a few times the live set.
    assert.ok(stored.length <= 4 * live + 2 * 256, `${stored.length} records for ${live} live terminals`);
    store = await LevelStore.open(dir, { partition: Partition.whole(), T: 8 });
    assert.equal(toHex(store.history.rootLabel), root);
    assert.equal(store.height, 60n);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** 't' ‖ u16 depth ‖ prefix ‖ u64 version: the key of a terminal in the layout before chunks. */
function legacyKey(t: StoredTerminal): Uint8Array {
  const n = (t.depth + 7) >> 3;
  const k = new Uint8Array(3 + n + 8);
  k[0] = 0x74;
  k[1] = t.depth >> 8;
  k[2] = t.depth & 0xff;
  k.set(t.prefix.subarray(0, n), 3);
  new DataView(k.buffer).setBigUint64(3 + n, BigInt(t.version));
  return k;
}

test("a data directory of the per-terminal layout opens and is rewritten as chunks", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-legacy-"));
  try {
    const genesis = Array.from({ length: 30 }, (_, i) => ({ key: `g${i}`, value: utf8(`g${i}`) }));
    let store = await LevelStore.open(dir, { partition: Partition.whole(), T: 4, genesis });
    for (let b = 1n; b <= 5n; b++) {
      const key = `k${b}`;
      store.history.apply({ t: "empty" }, [keyPath(key)], [{ key, value: utf8(`v${b}`) }]);
      await store.commit(b);
    }
    const root = toHex(store.history.rootLabel);
    await store.close();
    // Turn the chunks into the old layout: one entry per live terminal, value = the terminal alone.
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    const stored: StoredTerminal[] = [];
    const chunkKeys: Uint8Array[] = [];
    for await (const [k, v] of db.iterator({ gte: Uint8Array.of(0x63), lt: Uint8Array.of(0x64) })) {
      decodeChunk(v, Number(new DataView(k.buffer, k.byteOffset).getBigUint64(1)), stored);
      chunkKeys.push(k);
    }
    const liveTree = new MerkleTree(Partition.whole(), buildFromStored(stored));
    const batch = db.batch();
    for (const k of chunkKeys) batch.del(k);
    forEachTerminal(liveTree.root, new Uint8Array(32), 0, (node, pos) => {
      const w = new ChunkWriter(64);
      w.putAt(node, pos);
      const rec = w.take();
      batch.put(
        legacyKey({ ...pos, node, version: Math.max(0, node.saved) }),
        rec.subarray(2 + ((pos.depth + 7) >> 3)),
      );
    });
    await batch.write();
    await db.close();

    store = await LevelStore.open(dir, { partition: Partition.whole(), T: 4 });
    assert.equal(toHex(store.history.rootLabel), root);
    assert.equal(store.height, 5n);
    store.history.apply({ t: "empty" }, [keyPath("k6")], [{ key: "k6", value: utf8("v6") }]);
    await store.commit(6n);
    const after = toHex(store.history.rootLabel);
    await store.close();
    const check = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    let legacyLeft = 0;
    for await (const _ of check.keys({ gte: Uint8Array.of(0x74), lt: Uint8Array.of(0x75) })) legacyLeft++;
    await check.close();
    assert.equal(legacyLeft, 0, "the per-terminal entries are gone");
    store = await LevelStore.open(dir, { partition: Partition.whole(), T: 4 });
    assert.equal(toHex(store.history.rootLabel), after);
    assert.equal(store.history.tree.get("g3")?.length, 2);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a chunk handed out as a view is the bytes written, and a LevelDB batch keeps them once the writer moves on", async () => {
  // The store reuses its chunk buffer from chunk to chunk: correct only because a chained batch
  // copies a value when it is added. Pinned here, against the real library.
  const w = new ChunkWriter(64);
  const a = new LeafNode(bytesToLatin1(keyPath("a")), sha256Latin1(utf8("va")), "a", utf8("va"), 3);
  const b = new LeafNode(bytesToLatin1(keyPath("b")), sha256Latin1(utf8("vb")), "b", utf8("vb"), 4);
  w.put(a, a.keyHash, 5);
  const copy = w.take();
  w.put(a, a.keyHash, 5);
  const view = w.takeView();
  assert.equal(toHex(view), toHex(copy));
  const dir = mkdtempSync(join(tmpdir(), "arbor-chunkview-"));
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  try {
    await db.open();
    const batch = db.batch();
    batch.put(Uint8Array.of(1), view);
    w.put(b, b.keyHash, 7); // overwrites the buffer the view shares
    assert.notEqual(toHex(view), toHex(copy));
    await batch.write();
    assert.equal(toHex((await db.get(Uint8Array.of(1)))!), toHex(copy));
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
