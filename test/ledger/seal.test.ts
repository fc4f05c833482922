// Sealing a block into its header (node/ledger/seal.ts): every field comes from the outcome, the
// previous hash and the validator sets; a decided change commits to the next set and the height it
// takes effect; a change that would take effect at or before the block sealing it is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sealHeader } from "../../node/ledger/seal.js";
import { validatorsHash } from "../../node/ledger/header.js";
import { ReceiptTree } from "../../node/ledger/receipts-root.js";
import type { BlockOutcome } from "../../node/ledger/ledger.js";

const validators = [1, 0, 2, 3].map((id) => ({ id, publicKey: new Uint8Array(32).fill(id + 1) }));
const outcome = {
  height: 7n,
  receipts: [],
  encodedReceipts: [new Uint8Array([1, 2, 3])],
  receiptTree: ReceiptTree.of([new Uint8Array([1, 2, 3])]),
  root: new Uint8Array(32).fill(9),
  timestamp: 42,
  evicted: [],
  decided: [],
  modules: [],
} as unknown as BlockOutcome;
const chain = new Uint8Array(32).fill(5);
const previous = new Uint8Array(32).fill(6);

test("a header takes every field from the outcome, the previous hash and the validators", () => {
  const h = sealHeader({ chain, outcome, previous, validators, change: null });
  assert.deepEqual(h.chain, chain);
  assert.equal(h.height, 7n);
  assert.equal(h.timestamp, 42n);
  assert.deepEqual(h.root, outcome.root);
  assert.deepEqual(h.receiptsRoot, outcome.receiptTree.root);
  assert.deepEqual(h.validatorsHash, validatorsHash(validators));
  assert.deepEqual(h.previous, previous);
  assert.deepEqual(h.nextValidatorsHash, new Uint8Array(32));
  assert.equal(h.nextFromHeight, 0n);
});

test("a decided change commits to the next set and where it takes effect", () => {
  const next = validators.filter((v) => v.id !== 2);
  const h = sealHeader({
    chain,
    outcome,
    previous,
    validators,
    change: { fromHeight: 10n, validators: next },
  });
  assert.deepEqual(h.nextValidatorsHash, validatorsHash(next));
  assert.notDeepEqual(h.nextValidatorsHash, h.validatorsHash);
  assert.equal(h.nextFromHeight, 10n);
});

test("a change taking effect at the sealed height, or a short previous hash, is refused", () => {
  assert.throws(
    () => sealHeader({ chain, outcome, previous, validators, change: { fromHeight: 7n, validators } }),
    RangeError,
  );
  assert.throws(
    () => sealHeader({ chain, outcome, previous: new Uint8Array(31), validators, change: null }),
    RangeError,
  );
});
