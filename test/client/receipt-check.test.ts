// The SDK's pure receipt checks (client/receipt-check.ts): a receipt from one node is trusted only
// when its path leads to the certified header's receipt root at its own height; a forged path,
// another request's receipt, or undecodable bytes are typed errors; and only receipts that are a
// request's one outcome may be trusted through the header alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeReceipt, type Receipt } from "../../node/ledger/receipt.js";
import { ReceiptTree } from "../../node/ledger/receipts-root.js";
import type { Header } from "../../node/ledger/header.js";
import { checkAgainstHeader, openReceipt, outcomeByPath } from "../../client/receipt-check.js";
import { VerificationError } from "../../client/errors.js";

const id = (b: number) => new Uint8Array(32).fill(b);
const HEIGHT = 12n;
const receipts: Receipt[] = [1, 2, 3].map((b, index) => ({
  status: "accepted",
  requestId: id(b),
  height: HEIGHT,
  index,
  gasUsed: 10n,
  timestamp: 40n + BigInt(index),
  writesDigest: new Uint8Array(32).fill(b),
}));
const encoded = receipts.map(encodeReceipt);
const tree = ReceiptTree.of(encoded);
const header: Header = {
  chain: new Uint8Array(32),
  height: HEIGHT,
  timestamp: 42n,
  root: new Uint8Array(32),
  receiptsRoot: tree.root,
  indexRoot: new Uint8Array(32),
  validatorsHash: new Uint8Array(32),
  previous: new Uint8Array(32),
  nextValidatorsHash: new Uint8Array(32),
  nextFromHeight: 0n,
};
const answer = (i: number) => ({
  receipt: encoded[i]!,
  node: 2,
  signature: new Uint8Array(0),
  leafCount: tree.count,
  path: tree.path(i),
});
const refused = (code: string) => (e: unknown) => e instanceof VerificationError && e.code === code;

test("a receipt whose path leads to the certified receipt root is trusted", () => {
  const o = openReceipt(id(2), answer(1));
  assert.equal(o.receipt.index, 1);
  checkAgainstHeader(o, header, 2);
});

test("a forged path, another request's receipt, garbage, or another height: typed errors", () => {
  const a = answer(1);
  const forged = { ...a, path: a.path.map((h, k) => (k === 1 ? h.map((x) => x ^ 0x80) : h)) };
  assert.throws(
    () => checkAgainstHeader(openReceipt(id(2), forged), header, 2),
    refused("client/bad-receipt-path"),
  );
  assert.throws(() => openReceipt(id(2), answer(0)), refused("client/bad-receipt"));
  assert.throws(() => openReceipt(id(2), { ...a, path: a.path.slice(1) }), refused("client/bad-receipt"));
  assert.throws(() => openReceipt(id(2), { ...a, leafCount: 0 }), refused("client/bad-receipt"));
  assert.throws(
    () => openReceipt(id(2), { ...a, receipt: new Uint8Array([1, 2, 3]) }),
    refused("client/bad-receipt"),
  );
  const o = openReceipt(id(2), a);
  assert.throws(
    () => checkAgainstHeader(o, { ...header, height: HEIGHT + 1n }, 2),
    refused("client/bad-receipt-path"),
  );
});

test("only a request's one outcome is trusted through the header alone", () => {
  const base = { requestId: id(1), height: 1n, index: 0, gasUsed: 0n, message: "" };
  assert.ok(outcomeByPath(receipts[0]!));
  for (const reason of [
    "malformed-request",
    "bad-signature",
    "record-changed",
    "stale-root",
    "bad-proof",
  ] as const)
    assert.ok(outcomeByPath({ ...base, status: "rejected", reason }), reason);
  for (const reason of ["replay", "expired", "bad-lifetime"] as const)
    assert.ok(!outcomeByPath({ ...base, status: "rejected", reason }), reason);
});
