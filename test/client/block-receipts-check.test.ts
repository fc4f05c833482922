// A block's receipt list is trusted only whole: the honest list verifies against the certified
// receipt root; dropping, altering, adding or reordering a receipt fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { verifyBlockReceipts } from "../../client/block-receipts-check.js";
import { VerificationError } from "../../client/errors.js";
import { encodeReceipt, type Receipt } from "../../node/ledger/receipt.js";
import { receiptsRoot } from "../../node/ledger/receipts-root.js";
import type { Header } from "../../node/ledger/header.js";
import { installNodeSha256 } from "../../node/platform.js";

installNodeSha256();
const H = 7n;
const receipt = (b: number, index: number, height = H): Receipt =>
  b % 2 === 0
    ? {
        status: "accepted",
        requestId: new Uint8Array(32).fill(b),
        height,
        index,
        gasUsed: 5n,
        timestamp: 1n,
        writesDigest: new Uint8Array(32),
      }
    : {
        status: "rejected",
        requestId: new Uint8Array(32).fill(b),
        height,
        index,
        gasUsed: 0n,
        reason: "replay",
        message: "again",
      };
const honest = [0, 1, 2].map((b, i) => encodeReceipt(receipt(b, i)));
const headerOf = (receipts: readonly Uint8Array[]): Header => ({
  chain: new Uint8Array(32),
  height: H,
  timestamp: 0n,
  root: new Uint8Array(32),
  receiptsRoot: receiptsRoot(receipts),
  indexRoot: new Uint8Array(32),
  validatorsHash: new Uint8Array(32),
  previous: new Uint8Array(32),
  nextValidatorsHash: new Uint8Array(32),
  nextFromHeight: 0n,
});
const header = headerOf(honest);
const fails = (list: Uint8Array[]) =>
  assert.throws(
    () => verifyBlockReceipts(header, list),
    (e) => e instanceof VerificationError && e.code === "client/bad-block-receipts",
  );

test("the honest list verifies, decoded in block order; an empty block has none", () => {
  const rs = verifyBlockReceipts(header, honest);
  assert.deepEqual(
    rs.map((r) => [r.index, r.status]),
    [
      [0, "accepted"],
      [1, "rejected"],
      [2, "accepted"],
    ],
  );
  assert.deepEqual(verifyBlockReceipts(headerOf([]), []), []);
});

test("a dropped, altered, added or reordered receipt fails", () => {
  fails(honest.slice(1));
  fails(honest.slice(0, 2));
  const altered = honest.map((b) => b.slice());
  altered[1]![altered[1]!.length - 1]! ^= 1;
  fails(altered);
  fails([...honest, encodeReceipt(receipt(3, 3))]);
  fails([honest[1]!, honest[0]!, honest[2]!]);
  fails([]);
});

test("a list that hashes to the root but whose receipts claim another place fails", () => {
  const misplaced = [encodeReceipt(receipt(0, 1))];
  assert.throws(() => verifyBlockReceipts(headerOf(misplaced), misplaced), /claims height 7, index 1/);
});
