// Durable receipts: written with their block through the store's application records, found again
// after the store is reopened, one receipt per request id by the rule (an accepted receipt is never
// replaced, a rejected one never replaces another), pruned by height with no stale index entry;
// the receipt cache answers waits from the store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LevelStore } from "../../node/store/level-store.js";
import { Partition } from "../../node/store/core/partition.js";
import { ReceiptStore } from "../../node/receipt-store.js";
import { ReceiptBook } from "../../node/receipts.js";
import { encodeReceipt, type Receipt } from "../../node/ledger/receipt.js";
import { ReceiptTree, verifyReceiptPath } from "../../node/ledger/receipts-root.js";
import { installNodeSha256 } from "../../node/platform.js";
import { toHex } from "../../node/common/bytes.js";

installNodeSha256();
const open = (dir: string) => LevelStore.open(dir, { partition: new Partition(["0", "1"]), T: 16 });
const hex = (b: Uint8Array | undefined) => (b === undefined ? "none" : toHex(b));
const id = (b: number) => new Uint8Array(32).fill(b);
const accepted = (rid: number, height: bigint): Receipt => ({
  status: "accepted",
  requestId: id(rid),
  height,
  index: 0,
  gasUsed: 5n,
  timestamp: height,
  writesDigest: new Uint8Array(32).fill(9),
});
const rejected = (rid: number, height: bigint, reason: "replay" | "stale-root"): Receipt => ({
  status: "rejected",
  requestId: id(rid),
  height,
  index: 1,
  gasUsed: 0n,
  reason,
  message: reason,
});

async function block(s: LevelStore, rs: ReceiptStore, height: bigint, receipts: Receipt[]) {
  const encoded = receipts.map(encodeReceipt);
  const w = await rs.prepare(receipts, encoded, ReceiptTree.of(encoded), () => undefined);
  await s.commit(height, [], w.records);
  return w.kept;
}

test("receipts survive a reopen; accepted never replaced, rejected never replaces; pruning leaves no stale index", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-receipts-"));
  try {
    let s = await open(dir);
    let rs = new ReceiptStore(s, 2n);
    assert.equal((await block(s, rs, 1n, [accepted(1, 1n), rejected(2, 1n, "stale-root")])).length, 2);
    // A replay of 1 (accepted before) and of 2 within one block: only 2's acceptance counts.
    const second = [accepted(2, 2n), rejected(1, 2n, "replay"), rejected(2, 2n, "replay")];
    const kept = await block(s, rs, 2n, second);
    assert.deepEqual(
      kept.map((k) => k.id[0]),
      [2],
    );
    await s.close();
    s = await open(dir);
    rs = new ReceiptStore(s, 2n);
    assert.equal(hex((await rs.receipt(id(1)))?.receipt), hex(encodeReceipt(accepted(1, 1n))));
    assert.equal(hex((await rs.receipt(id(2)))?.receipt), hex(encodeReceipt(accepted(2, 2n))));
    // After the reopen the kept receipt still carries its path under its block's receipt root.
    const proven = (await rs.receipt(id(2)))!;
    assert.equal(proven.count, 3);
    const root2 = ReceiptTree.of(second.map(encodeReceipt)).root;
    assert.ok(verifyReceiptPath(proven.receipt, 0, proven.count, proven.path, root2));
    assert.ok(!verifyReceiptPath(proven.receipt, 1, proven.count, proven.path, root2));
    // A rejection of a request with a receipt on disk only (not in memory) does not replace it either.
    assert.equal((await block(s, rs, 3n, [accepted(3, 3n), rejected(2, 3n, "replay")])).length, 1);
    assert.equal(hex((await rs.receipt(id(2)))?.receipt), hex(encodeReceipt(accepted(2, 2n))));
    // Retention 2: at height 4, heights 1 and 2 go (receipts, index entries, own headers).
    await s.commit(4n, [], [rs.headerRecord({ ...header, height: 4n })]);
    await rs.prune(4n);
    assert.equal(await rs.receipt(id(1)), undefined);
    assert.equal(await rs.receipt(id(2)), undefined);
    assert.equal(hex((await rs.receipt(id(3)))?.receipt), hex(encodeReceipt(accepted(3, 3n))));
    const index = await s.appRange(new Uint8Array([0x69]), new Uint8Array([0x6a]));
    assert.deepEqual(
      index.map((r) => r.key[40]),
      [3],
      "one index entry, for the receipt kept",
    );
    const leafLists = await s.appRange(new Uint8Array([0x4c]), new Uint8Array([0x4d]));
    assert.deepEqual(
      leafLists.map((r) => r.key[8]),
      [3],
      "the leaf hashes of height 3 only",
    );
    assert.equal((await rs.header(4n))?.height, 4n);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const header = {
  chain: new Uint8Array(32),
  height: 0n,
  timestamp: 0n,
  root: new Uint8Array(32),
  receiptsRoot: new Uint8Array(32),
  indexRoot: new Uint8Array(32),
  validatorsHash: new Uint8Array(32),
  previous: new Uint8Array(32),
  nextValidatorsHash: new Uint8Array(32),
  nextFromHeight: 0n,
};

test("a receipt not in the cache is answered from the store with its path, signed only when asked", async () => {
  const encoded = [encodeReceipt(accepted(6, 9n)), encodeReceipt(accepted(7, 9n))];
  const tree = ReceiptTree.of(encoded);
  const stored = { receipt: encoded[1]!, count: 2, path: tree.path(1) };
  let signs = 0;
  const book = new ReceiptBook(
    () => new Uint8Array(64).fill(++signs),
    async (rid) => (rid[0] === 7 ? stored : undefined),
  );
  const r = await book.wait(id(7), 1000);
  assert.deepEqual(r?.receipt, stored.receipt);
  assert.equal(r?.signature.length, 0, "no signature unless asked");
  assert.ok(verifyReceiptPath(r!.receipt, 1, r!.count, r!.path, tree.root));
  assert.equal(await book.wait(id(8), 50), undefined);
  // Asked signed: one signature, kept for later askers.
  assert.equal((await book.wait(id(7), 1000, true))?.signature[0], 1);
  assert.equal((await book.wait(id(7), 1000, true))?.signature[0], 1);
  assert.equal(signs, 1);
  book.close();
});

test("with the block's decided ids: verdicts are written as they are, replay and bad-lifetime refusals never", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-receipts-"));
  try {
    const s = await open(dir);
    const rs = new ReceiptStore(s, 10n);
    const commit = async (height: bigint, receipts: Receipt[], decided: number[]) => {
      const set = new Set(decided.map((b) => toHex(id(b))));
      const w = await rs.prepare(
        receipts,
        receipts.map(encodeReceipt),
        ReceiptTree.of(receipts.map(encodeReceipt)),
        () => undefined,
        set,
      );
      await s.commit(height, [], w.records);
      return w.kept.map((k) => k.id[0]);
    };
    assert.deepEqual(await commit(1n, [accepted(1, 1n), rejected(2, 1n, "stale-root")], [1, 2]), [1, 2]);
    const lifetime: Receipt = {
      status: "rejected",
      requestId: id(3),
      height: 2n,
      index: 1,
      gasUsed: 0n,
      reason: "bad-lifetime",
      message: "far",
    };
    assert.deepEqual(await commit(2n, [rejected(1, 2n, "replay"), lifetime], []), []);
    assert.equal(hex((await rs.receipt(id(1)))?.receipt), hex(encodeReceipt(accepted(1, 1n))));
    assert.equal(await rs.receipt(id(3)), undefined);
    // A later verdict for the bytes once refused for their lifetime is their first kept receipt.
    assert.deepEqual(await commit(3n, [accepted(3, 3n)], [3]), [3]);
    assert.equal(hex((await rs.receipt(id(3)))?.receipt), hex(encodeReceipt(accepted(3, 3n))));
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
