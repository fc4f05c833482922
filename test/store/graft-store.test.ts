// A store taking on a prefix: the grown partition and the grafted records are written with the
// next commit and survive a reopen (the stored partition wins over the one the caller gives); a
// store reopened mid-acquisition still knows what it lacks and finishes; grafts not yet committed
// are lost with the process, never half-written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HistoryTree } from "../../node/store/core/history.js";
import { Partition, parsePrefix } from "../../node/store/core/partition.js";
import { keyPath } from "../../node/store/core/path.js";
import {
  decodeChunk,
  encodeChunk,
  extractChunk,
  graftChunk,
  prefixFor,
  treeNeeds,
} from "../../node/store/core/graft.js";
import type { MerkleTree } from "../../node/store/core/tree.js";
import { LevelStore } from "../../node/store/level-store.js";
import { toHex, utf8 } from "../../node/common/bytes.js";

const RECORDS = Array.from({ length: 300 }, (_, i) => ({ key: `s/k${i}`, value: utf8(`value ${i}`) }));
const T = 8;

/** Grafts up to `chunks` chunks of at most 8 leaves from `holder`; returns how many it grafted. */
function graftSome(tree: MerkleTree, holder: MerkleTree, chunks: number): number {
  let done = 0;
  while (done < chunks) {
    const at = treeNeeds(tree, 1)[0];
    if (!at) break;
    graftChunk(tree, decodeChunk(encodeChunk(extractChunk(holder, at, prefixFor(tree.partition, at)!, 8))));
    done++;
  }
  return done;
}

test("a grown partition and grafted records survive reopening; acquisition resumes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-graft-"));
  const holder = HistoryTree.genesis(Partition.whole(), T, RECORDS).tree;
  const opts = { partition: new Partition(["11"]), T, genesis: RECORDS };
  try {
    let store = await LevelStore.open(dir, opts);
    const root = toHex(store.history.rootLabel);
    await store.commit(1n);
    assert.equal(store.widen(["0"]), true);
    assert.equal(store.widen(["01"]), false, "already inside the partition");
    const before = treeNeeds(store.history.tree).length;
    assert.ok(before > 0);
    assert.equal(graftSome(store.history.tree, holder, 3), 3);
    await store.commit(2n);
    // Grafted but not committed: lost with the process.
    graftSome(store.history.tree, holder, 2);
    const committedNeeds = await (async () => {
      await store.close();
      store = await LevelStore.open(dir, opts);
      return treeNeeds(store.history.tree).length;
    })();
    assert.deepEqual(store.partition.toStrings(), ["0", "11"], "the stored partition wins");
    assert.equal(toHex(store.history.rootLabel), root);
    assert.ok(committedNeeds > 0, "still acquiring after the reopen");
    // Finish, commit, reopen: nothing lacking, every record under the prefixes full.
    while (graftSome(store.history.tree, holder, 50) > 0);
    await store.commit(3n);
    await store.close();
    store = await LevelStore.open(dir, opts);
    assert.equal(treeNeeds(store.history.tree).length, 0);
    assert.equal(toHex(store.history.rootLabel), root);
    const part = new Partition(["0", "11"]);
    const held = new Map([...store.history.tree.records()].map((r) => [r.key, toHex(r.value)]));
    for (const r of RECORDS)
      if (part.holdsKey(keyPath(r.key))) assert.equal(held.get(r.key), toHex(r.value), r.key);
    assert.ok(part.covers(parsePrefix("010")));
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
