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

test("at the total bound a newcomer from a less busy address takes the busiest address's oldest place", () => {
  const book = new ReceiptBook(() => new Uint8Array(64));
  const evicted: string[] = [];
  const hosts = MAX_RECEIPT_SUBSCRIPTIONS / MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST;
  for (let h = 0; h < hosts; h++)
    for (let i = 0; i < MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST; i++) {
      const r = book.subscribe(null, false, ignore, `10.0.3.${h}`, () => evicted.push(`10.0.3.${h}#${i}`));
      assert.equal(typeof r, "function");
    }
  // A few addresses hold every slot; a new one still gets in, at the busiest's oldest expense.
  open(book, "10.0.4.1");
  assert.deepEqual(evicted, ["10.0.3.0#0"]);
  assert.equal(book.evicted, 1);
  open(book, "10.0.4.2");
  assert.deepEqual(evicted, ["10.0.3.0#0", "10.0.3.1#0"]);
  // Every address now holding about as many as the newcomer's plus one: refused.
  const full = new ReceiptBook(() => new Uint8Array(64));
  for (let i = 0; i < MAX_RECEIPT_SUBSCRIPTIONS; i++) open(full, `10.1.${i >> 8}.${i & 0xff}`);
  assert.equal(full.subscribe(null, false, ignore, "10.2.0.1"), "too-many");
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
  // Full: a new address takes a place (the busiest gives way), one of the full addresses does not.
  assert.equal(book.subscribe(null, false, ignore, "10.0.1.0"), "too-many-from-host");
  open(book, "10.0.2.1");
  book.close();
  open(book, "10.0.2.1");
});
