// Finding the key histories a node lacks: for each key it holds, the changes below the oldest it
// stores, down to the first (the second for a genesis record, whose first change comes from the
// genesis document); keys it does not hold, and whole histories, are left alone; a batch still
// being written counts as not stored. Read from a real store's change records.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LevelStore } from "../../node/store/level-store.js";
import { Partition } from "../../node/store/core/partition.js";
import {
  changeRecord,
  indexRecords,
  lateValueRecord,
  lowestStoredChange,
  pruneValues,
  storedChange,
  storesChanges,
} from "../../node/index-store.js";
import { historyGaps } from "../../node/history-backfill.js";
import { recordWrites } from "../../node/ledger/key-index.js";
import { OrderedIndex } from "../../node/store/core/ordered-index.js";
import { utf8 } from "../../node/common/bytes.js";
import { installNodeSha256 } from "../../node/platform.js";

installNodeSha256();

test("the gaps in the histories of held keys, from the store's change records", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-backfill-"));
  const store = await LevelStore.open(dir, { partition: Partition.whole(), T: 16 });
  try {
    const index = new OrderedIndex();
    // Heights 1–3 change every key; the node stored a's changes from height 1, b's from height 3
    // (it took b on then), none of c's (it never held c), and g is a genesis record it holds.
    for (const height of [1n, 2n, 3n]) {
      const changes = recordWrites(
        index,
        ["a", "b", "c", "g"].map((key) => ({ key, value: utf8(`${key} ${height}`) })),
        { height, index: 0, requestId: new Uint8Array(32).fill(1), signer: new Uint8Array(32).fill(2) },
      );
      const stores = (k: string): boolean => k === "a" || (k === "b" && height === 3n) || k === "g";
      await store.appWrite(indexRecords(height, changes, stores));
    }
    const floors = new Map<string, bigint>();
    for (const k of ["a", "b", "c", "g"]) {
      const n = await lowestStoredChange(store, k);
      if (n !== undefined) floors.set(k, n);
    }
    assert.deepEqual([...floors].sort(), [
      ["a", 1n],
      ["b", 3n],
      ["g", 1n],
    ]);
    assert.deepEqual(
      await storesChanges(store, [
        { key: "a", number: 1n },
        { key: "b", number: 1n },
        { key: "b", number: 3n },
        { key: "c", number: 3n },
      ]),
      [true, false, true, false],
    );
    const holds = (k: string): boolean => k !== "c";
    const gaps = historyGaps(index.entries(), floors, holds, new Set(["g"]));
    assert.deepEqual(
      gaps.map((g) => [g.key, g.top, g.floor]),
      [["b", 2n, 1n]],
      "b lacks changes 2 down to 1; a and g are whole, c is not held",
    );
    // A genesis key whose stored changes start at 3 lacks change 2 only (1 is the genesis record's).
    const genesisGap = historyGaps(index.entries(), new Map([["g", 3n]]), (k) => k === "g", new Set(["g"]));
    assert.deepEqual(
      genesisGap.map((g) => [g.key, g.top, g.floor]),
      [["g", 2n, 2n]],
    );
    // A key whose only change is in a batch still being written lacks nothing; one with older
    // changes is taken as it was before that batch.
    const first = index.get("c")!;
    const pending = historyGaps(
      index.entries(),
      new Map(),
      (k) => k === "c",
      new Set(),
      new Map([["c", { number: 1n, headBefore: new Uint8Array(32) }]]),
    );
    assert.deepEqual(pending, [], "a new key's first change is being written");
    const older = historyGaps(
      index.entries(),
      new Map(),
      (k) => k === "c",
      new Set(),
      new Map([["c", { number: 3n, headBefore: first.head }]]),
    );
    assert.deepEqual(
      older.map((g) => [g.key, g.top, g.floor, g.changes]),
      [["c", 2n, 1n, 2n]],
    );
    assert.deepEqual(older[0]!.head, first.head, "the head before the batch");
    // A held key with no stored change lacks its whole history.
    const none = historyGaps(index.entries(), new Map(), (k) => k === "c", new Set());
    assert.deepEqual(
      none.map((g) => [g.key, g.top, g.floor]),
      [["c", 3n, 1n]],
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a back-filled value superseded at a height without a change list is dropped when that height leaves the window", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-late-"));
  const store = await LevelStore.open(dir, { partition: Partition.whole(), T: 16 });
  try {
    const head = new Uint8Array(32);
    const change = utf8("change bytes");
    // Change 1 of `a` set "old", superseded by change 2 at height 5; this node has no change list
    // for height 5 (it was synced at 8), so only the late record can have its value dropped.
    await store.appWrite([
      changeRecord("a", 1n, head, change, utf8("old")),
      lateValueRecord(5n, "a", 1n),
      changeRecord("b", 1n, head, change, utf8("kept")),
      lateValueRecord(9n, "b", 1n),
    ]);
    await pruneValues(store, 4n);
    assert.deepEqual(
      (await storedChange(store, "a", 1n))?.value,
      utf8("old"),
      "height 5 is still in the window",
    );
    await pruneValues(store, 5n);
    assert.equal((await storedChange(store, "a", 1n))?.value, null, "dropped once height 5 left it");
    assert.deepEqual((await storedChange(store, "a", 1n))?.change, change, "the change itself stays");
    assert.deepEqual(
      (await storedChange(store, "b", 1n))?.value,
      utf8("kept"),
      "b's is needed until height 9",
    );
    await pruneValues(store, 9n);
    assert.equal((await storedChange(store, "b", 1n))?.value, null);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
