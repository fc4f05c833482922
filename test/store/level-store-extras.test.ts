// Extras committed with a block (LevelStore.commit): written, overwritten and deleted (a null
// value) in the block's own batch, and read back the same after the store is reopened.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LevelStore } from "../../node/store/level-store.js";
import { Partition } from "../../node/store/core/partition.js";

test("an extra committed with a null value is deleted with its block", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-extras-"));
  const open = () => LevelStore.open(dir, { partition: Partition.whole(), T: 16, genesis: [] });
  try {
    let s = await open();
    await s.commit(1n, [
      { key: "kept", value: Uint8Array.of(1) },
      { key: "gone", value: Uint8Array.of(2) },
    ]);
    assert.deepEqual([...((await s.extra("gone")) ?? [])], [2]);
    await s.commit(2n, [
      { key: "gone", value: null },
      { key: "kept", value: Uint8Array.of(3) },
      { key: "never", value: null },
    ]);
    assert.equal(await s.extra("gone"), undefined);
    assert.equal(await s.extra("never"), undefined, "deleting an absent extra is harmless");
    await s.close();
    s = await open();
    assert.equal(s.height, 2n);
    assert.equal(await s.extra("gone"), undefined);
    assert.deepEqual([...((await s.extra("kept")) ?? [])], [3]);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
