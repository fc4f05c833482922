// bench:receipts — what durable receipts add to a block's commit: blocks of 1,000 receipts
// committed with one fsync each, without receipts and with them (the existence lookup of every
// request id, the receipt and index records), a background prune pass of one block's receipts, and
// the block's receipt root (the Merkle tree each kept receipt's inclusion path is taken from).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { installNodeSha256 } from "../node/platform.js";
import { LevelStore } from "../node/store/level-store.js";
import { Partition } from "../node/store/core/partition.js";
import { ReceiptStore } from "../node/receipt-store.js";
import { encodeReceipt, type Receipt } from "../node/ledger/receipt.js";
import { ReceiptTree } from "../node/ledger/receipts-root.js";
import { machineLine, median, nowUs } from "./machine.js";
import { toHex } from "../node/common/bytes.js";

installNodeSha256();
const PER_BLOCK = 1000;
const BLOCKS = 40;

function receipts(height: bigint): Receipt[] {
  return Array.from({ length: PER_BLOCK }, (_, index) => ({
    status: "accepted" as const,
    requestId: new Uint8Array(randomBytes(32)),
    height,
    index,
    gasUsed: 12_345n,
    timestamp: height * 1000n + BigInt(index),
    writesDigest: new Uint8Array(randomBytes(32)),
  }));
}

async function run(
  withReceipts: boolean,
  decidedKnown = true,
): Promise<{ commitMs: number; pruneMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "arbor-bench-receipts-"));
  const store = await LevelStore.open(dir, { partition: new Partition(["0", "1"]), T: 16 });
  const rs = new ReceiptStore(store, BigInt(BLOCKS / 2));
  const commits: number[] = [];
  const prunes: number[] = [];
  for (let h = 1n; h <= BigInt(BLOCKS); h++) {
    const rcpts = receipts(h);
    const encoded = rcpts.map(encodeReceipt);
    const tree = ReceiptTree.of(encoded);
    const t0 = nowUs();
    // Every receipt here is a verdict: the ledger reports them decided (no lookups), unless the
    // run measures the lookup path.
    const decided = decidedKnown ? new Set(rcpts.map((r) => toHex(r.requestId))) : undefined;
    const records = withReceipts
      ? (await rs.prepare(rcpts, encoded, tree, () => undefined, decided)).records
      : [];
    await store.commit(h, [], records);
    commits.push((nowUs() - t0) / 1000);
    const t1 = nowUs();
    if (withReceipts) await rs.prune(h);
    if (h > BigInt(BLOCKS / 2)) prunes.push((nowUs() - t1) / 1000);
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { commitMs: median(commits), pruneMs: median(prunes) };
}

console.log(machineLine());
const bare = await run(false);
const durable = await run(true);
const looked = await run(true, false);
console.log(`blocks of ${PER_BLOCK} receipts, median of ${BLOCKS} blocks (one fsync each):`);
console.log(`  commit without receipts   ${bare.commitMs.toFixed(1)} ms`);
console.log(
  `  commit with receipts      ${durable.commitMs.toFixed(1)} ms (verdicts: 2 records per receipt)`,
);
console.log(`  with a lookup each        ${looked.commitMs.toFixed(1)} ms (refusals: looked up first)`);
console.log(`  prune of one block        ${durable.pruneMs.toFixed(1)} ms (background, between commits)`);
// The receipt root the header commits to: the block's Merkle tree (built once by the ledger; the
// commits above take each kept receipt's path from it).
const leaves = receipts(1n).map(encodeReceipt);
const treeUs = median(
  Array.from({ length: BLOCKS }, () => {
    const t0 = nowUs();
    ReceiptTree.of(leaves);
    return nowUs() - t0;
  }),
);
console.log(`  receipt root of a block   ${(treeUs / 1000).toFixed(2)} ms (Merkle tree of its receipts)`);
