// Receipt subscriptions' bounds: the node's total and one address's share, and slots given back.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ReceiptBook } from "../../node/receipts.js";
import { MAX_RECEIPT_SUBSCRIPTIONS, MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST } from "../../node/common/limits.js";

const ignore = (): void => undefined;

function open(book: ReceiptBook, host: string): () => void {
  const r = book.subscribe(null, false, ignore, host);
  assert.equal(typeof r, "function", `a subscription from ${host}`);
  return r as () => void;
}

test("one address holds at most its share; others still subscribe; a closed slot is given back", () => {
  const book = new ReceiptBook(() => new Uint8Array(64));
  const mine = Array.from({ length: MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST }, () => open(book, "10.0.0.1"));
  assert.equal(book.subscribe(null, false, ignore, "10.0.0.1"), "too-many-from-host");
  open(book, "10.0.0.2");
  mine[0]!();
  mine[0]!(); // twice: counted once
  open(book, "10.0.0.1");
  assert.equal(book.subscribe(null, false, ignore, "10.0.0.1"), "too-many-from-host");
});

test("the node's total bound holds across addresses", () => {
  const book = new ReceiptBook(() => new Uint8Array(64));
  const hosts = Math.ceil(MAX_RECEIPT_SUBSCRIPTIONS / MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST);
  let opened = 0;
  for (let h = 0; h < hosts; h++)
    for (
      let i = 0;
      i < MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST && opened < MAX_RECEIPT_SUBSCRIPTIONS;
      i++, opened++
    )
      open(book, `10.0.1.${h}`);
  assert.equal(book.subscribe(null, false, ignore, "10.0.2.1"), "too-many");
  book.close();
  open(book, "10.0.2.1");
});
