// Key histories on disk are kept by the holders of their keys: every node stores a block's change
// list and the new index entries, only a holder stores a change (and its value); a history page of a
// key the node does not keep is refused as unavailable, and the change feed lists such a change
// without its bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LevelStore } from "../../node/store/level-store.js";
import { Partition } from "../../node/store/core/partition.js";
import { HistoryReader, indexRecords, loadIndex, readBlockChanges } from "../../node/index-store.js";
import { recordWrites } from "../../node/ledger/key-index.js";
import { OrderedIndex } from "../../node/store/core/ordered-index.js";
import { utf8 } from "../../node/common/bytes.js";
import { ArborError } from "../../node/common/errors.js";
import { installNodeSha256 } from "../../node/platform.js";

installNodeSha256();

const HELD = "a/held";
const OTHER = "a/other";

test("a node stores the changes of the keys it holds, and lists every change of a block", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-index-store-"));
  const store = await LevelStore.open(dir, { partition: Partition.whole(), T: 16 });
  try {
    const index = new OrderedIndex();
    for (const height of [1n, 2n]) {
      const changes = recordWrites(
        index,
        [
          { key: HELD, value: utf8(`held ${height}`) },
          { key: OTHER, value: utf8(`other ${height}`) },
        ],
        { height, index: 0, requestId: new Uint8Array(32).fill(1), signer: new Uint8Array(32).fill(2) },
      );
      await store.appWrite(indexRecords(height, changes, (k) => k === HELD));
    }

    // The index is whole: both keys' entries are stored.
    const loaded = await loadIndex(store, []);
    assert.deepEqual(
      [loaded.get(HELD)?.changes, loaded.get(OTHER)?.changes],
      [2n, 2n],
      "every node keeps every key's entry",
    );
    assert.deepEqual(loaded.rootHash(), index.rootHash());

    const history = new HistoryReader(store, []);
    const page = await history.page(HELD, 2n, 2);
    assert.equal(page.changes.length, 2);
    assert.equal(new TextDecoder().decode(page.changes[0]!.value!), "held 2");
    // Past its byte bound a page keeps its changes and leaves their values out, newest kept first.
    const tight = await history.page(HELD, 2n, 2, [], page.changes[0]!.change.length + 6);
    assert.deepEqual(
      tight.changes.map((c) => (c.value === null ? null : new TextDecoder().decode(c.value))),
      ["held 2", null],
    );
    assert.deepEqual(tight.headBefore, page.headBefore);
    await assert.rejects(
      history.page(OTHER, 2n, 2),
      (e: unknown) => e instanceof ArborError && e.code === "history/unavailable",
    );

    const feed = await readBlockChanges(store, 1n, 10, 100);
    assert.deepEqual(
      feed.map((b) => b.height),
      [1n, 2n],
    );
    for (const b of feed) {
      assert.deepEqual(
        b.changes.map((c) => [c.key, c.number, c.change.length > 0, c.value !== null]),
        [
          [HELD, b.height, true, true],
          [OTHER, b.height, false, false],
        ],
        "a change of a key not held is listed without its bytes",
      );
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a change-feed reply is bounded in bytes: values left out past the bound, then no next block", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-index-store-"));
  const store = await LevelStore.open(dir, { partition: Partition.whole(), T: 16 });
  try {
    const index = new OrderedIndex();
    const big = (n: number) => new Uint8Array(1000).fill(n);
    for (const height of [1n, 2n, 3n]) {
      const changes = recordWrites(
        index,
        [0, 1, 2].map((i) => ({ key: `b/${height}/${i}`, value: big(i) })),
        { height, index: 0, requestId: new Uint8Array(32).fill(1), signer: new Uint8Array(32).fill(2) },
      );
      await store.appWrite(indexRecords(height, changes, () => true));
    }
    const whole = await readBlockChanges(store, 1n, 10, 100);
    assert.equal(whole.length, 3);
    assert.ok(
      whole.every((b) => b.changes.every((c) => c.value !== null)),
      "under the bound: every value",
    );
    // Room for the first block's changes and two of its values: the third value is left out (its
    // change stays), and the next block, whose changes no longer fit, waits for the next reply.
    const changeBytes = whole[0]!.changes.reduce((s, c) => s + 32 + c.key.length * 3 + c.change.length, 0);
    const cut = await readBlockChanges(store, 1n, 10, 100, changeBytes + 2100);
    assert.equal(cut.length, 1);
    assert.deepEqual(
      cut[0]!.changes.map((c) => [c.change.length > 0, c.value?.length ?? null]),
      [
        [true, 1000],
        [true, 1000],
        [true, null],
      ],
    );
    // A first block is always given, whatever the bound.
    assert.equal((await readBlockChanges(store, 2n, 10, 100, 1)).length, 1);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
