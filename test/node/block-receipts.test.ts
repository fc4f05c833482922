// Every receipt of a block, from the receipt store: the kept ones and the others (refused copies,
// a refusal later replaced by its request's acceptance), in block order, after a reopen too; a block
// without requests has none; pruning removes the others with the rest. The GetBlockReceipts handler.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LevelStore } from "../../node/store/level-store.js";
import { Partition } from "../../node/store/core/partition.js";
import { ReceiptStore } from "../../node/receipt-store.js";
import { encodeReceipt, type Receipt } from "../../node/ledger/receipt.js";
import { ReceiptTree } from "../../node/ledger/receipts-root.js";
import { installNodeSha256 } from "../../node/platform.js";
import { toHex } from "../../node/common/bytes.js";
import { serveBlockReceipts } from "../../node/block-receipts-api.js";
import { BlockReceiptsRequestSchema } from "../../proto/gen/arbor/v1/client_pb.js";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

installNodeSha256();
const open = (dir: string) => LevelStore.open(dir, { partition: new Partition(["0", "1"]), T: 16 });
const id = (b: number) => new Uint8Array(32).fill(b);
const accepted = (rid: number, height: bigint, index: number): Receipt => ({
  status: "accepted",
  requestId: id(rid),
  height,
  index,
  gasUsed: 5n,
  timestamp: height,
  writesDigest: new Uint8Array(32).fill(9),
});
const rejected = (rid: number, height: bigint, index: number, reason: "replay" | "stale-root"): Receipt => ({
  status: "rejected",
  requestId: id(rid),
  height,
  index,
  gasUsed: 0n,
  reason,
  message: reason,
});
const hexes = (bs: readonly Uint8Array[]) => bs.map(toHex);

async function block(
  s: LevelStore,
  rs: ReceiptStore,
  height: bigint,
  receipts: Receipt[],
  decided?: number[],
) {
  const encoded = receipts.map(encodeReceipt);
  const set = decided && new Set(decided.map((b) => toHex(id(b))));
  const w = await rs.prepare(receipts, encoded, ReceiptTree.of(encoded), () => undefined, set);
  await s.commit(height, [], w.records);
  return encoded;
}

test("a block's receipts: kept and not kept, in block order, across a reopen; none for an empty block", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-block-receipts-"));
  try {
    let s = await open(dir);
    let rs = new ReceiptStore(s, 3n);
    const b1 = await block(s, rs, 1n, [accepted(1, 1n, 0), rejected(2, 1n, 1, "stale-root")]);
    // 2's acceptance replaces its refusal under 'r'; the refusal stays one of block 1's receipts.
    const b2 = await block(s, rs, 2n, [
      rejected(1, 2n, 0, "replay"),
      accepted(2, 2n, 1),
      rejected(2, 2n, 2, "replay"),
    ]);
    // With the decided ids (the node's path): a replay refusal is not kept, but is in the block.
    const b3 = await block(s, rs, 3n, [rejected(3, 3n, 0, "replay"), accepted(4, 3n, 1)], [4]);
    await s.commit(4n, [], []);
    assert.deepEqual(hexes(await rs.blockReceipts(1n)), hexes(b1));
    assert.deepEqual(hexes(await rs.blockReceipts(2n)), hexes(b2));
    assert.deepEqual(hexes(await rs.blockReceipts(3n)), hexes(b3));
    assert.deepEqual(await rs.blockReceipts(4n), []);
    await s.close();
    s = await open(dir);
    rs = new ReceiptStore(s, 3n);
    assert.deepEqual(hexes(await rs.blockReceipts(2n)), hexes(b2));
    assert.equal(toHex((await rs.receipt(id(2)))!.receipt), toHex(b2[1]!));
    // Retention 3 at height 4: heights 1 goes, its other receipts with it.
    await rs.prune(4n);
    const others = await s.appRange(new Uint8Array([0x42]), new Uint8Array([0x43]));
    assert.deepEqual(
      others.map((r) => Number(r.key[8])),
      [2, 2, 3],
      "the not-kept receipts of heights 2 and 3 only",
    );
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("GetBlockReceipts: the list, NOT_FOUND outside the retention or above the applied height, the Byzantine drop", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-block-receipts-"));
  try {
    const s = await open(dir);
    const rs = new ReceiptStore(s, 2n);
    const b1 = await block(s, rs, 1n, [accepted(1, 1n, 0), accepted(2, 1n, 1)]);
    await s.commit(2n, [], []);
    const call = (height: bigint, applied: bigint, byzantine?: "drop-block-receipt") =>
      new Promise<{ code?: number; message?: string; receipts?: Uint8Array[] }>((resolve) =>
        serveBlockReceipts(
          { receiptStore: rs, height: () => applied, byzantine },
          create(BlockReceiptsRequestSchema, { height }),
          (e, r) => resolve(e ? { code: e.code, message: e.details } : (r as { receipts: Uint8Array[] })),
        ),
      );
    assert.deepEqual(hexes((await call(1n, 2n)).receipts!), hexes(b1));
    assert.deepEqual((await call(2n, 2n)).receipts, []);
    assert.deepEqual(hexes((await call(1n, 2n, "drop-block-receipt")).receipts!), hexes(b1.slice(1)));
    const above = await call(3n, 2n);
    assert.equal(above.code, grpc.status.NOT_FOUND);
    assert.match(above.message!, /^receipts\/not-applied/);
    const pruned = await call(1n, 3n);
    assert.equal(pruned.code, grpc.status.NOT_FOUND);
    assert.match(pruned.message!, /^receipts\/pruned/);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
