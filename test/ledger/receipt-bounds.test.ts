// A receipt's decoder refuses what a node never makes: a message over MAX_RECEIPT_MESSAGE_BYTES (a
// node cuts a longer one when it makes the receipt) and a status byte other than 0 or 1.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  boundReceiptMessage,
  decodeReceipt,
  encodeReceipt,
  type Receipt,
} from "../../node/ledger/receipt.js";
import { MAX_RECEIPT_MESSAGE_BYTES } from "../../node/common/limits.js";
import { utf8 } from "../../node/common/bytes.js";
import { ArborError } from "../../node/common/errors.js";

const rejected = (message: string): Receipt => ({
  status: "rejected",
  requestId: new Uint8Array(32).fill(1),
  height: 5n,
  index: 0,
  gasUsed: 0n,
  reason: "trap",
  message,
});

test("boundReceiptMessage keeps a message within the bound and cuts a longer one on a character boundary", () => {
  const fits = "x".repeat(MAX_RECEIPT_MESSAGE_BYTES);
  assert.equal(boundReceiptMessage(fits), fits);
  for (const unit of ["a", "é", "€", "😀"]) {
    const long = unit.repeat(MAX_RECEIPT_MESSAGE_BYTES + 1);
    const cut = boundReceiptMessage(long);
    const bytes = utf8(cut).length;
    assert.ok(
      bytes <= MAX_RECEIPT_MESSAGE_BYTES && bytes > MAX_RECEIPT_MESSAGE_BYTES - 8,
      `${unit}: ${bytes}`,
    );
    assert.ok(cut.endsWith("…"));
    assert.ok(long.startsWith(cut.slice(0, -1)), `${unit}: a prefix of whole characters`);
    assert.deepEqual(decodeReceipt(encodeReceipt(rejected(cut))), rejected(cut));
  }
});

test("a receipt with a longer message, or a status byte other than 0 or 1, is refused by the decoder", () => {
  const tooLong = encodeReceipt(rejected("y".repeat(MAX_RECEIPT_MESSAGE_BYTES + 1)));
  assert.throws(
    () => decodeReceipt(tooLong),
    (e: unknown) => e instanceof ArborError && /decode\/too-large/.test(e.message),
  );
  const good = encodeReceipt(rejected("z"));
  const statusAt = 32 + 8 + 1 + 1; // request id, u64 height, varint index 0, varint gas 0
  assert.equal(good[statusAt], 1);
  const bad = good.slice();
  bad[statusAt] = 2;
  assert.throws(
    () => decodeReceipt(bad),
    (e: unknown) => e instanceof ArborError && /decode\/non-canonical/.test(e.message),
  );
});
