// What a leader learns about operations' gas (node/gas-weigher.ts): a request is weighed by the
// limit it declares; calls of an operation that used more than LIGHT_USED_GAS are held back until
// its calls have been cheap for a while; other kinds and undecodable bytes weigh nothing; the
// memory of operations is bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GasWeigher } from "../../node/gas-weigher.js";
import { assembleSignedRequest, encodeRequestBody, peekGas } from "../../node/ledger/request.js";
import {
  BLOCK_GAS_PER_MODULE_BYTE,
  HEAVY_GAS_PER_PROPOSAL,
  MAX_ARGS_BYTES,
  PACKING_GAS_PER_REQUEST_BYTE,
  LIGHT_REQUEST_GAS,
  LIGHT_USED_GAS,
  MAX_GAS_HISTORY_OPERATIONS,
} from "../../node/common/limits.js";
import type { Receipt } from "../../node/ledger/receipt.js";

function request(op: string, gasLimit: bigint, argBytes = 3): Uint8Array {
  const body = encodeRequestBody({
    op,
    touched: ["a/x", "a/y"],
    proof: new Uint8Array(40).fill(7),
    args: new Uint8Array(argBytes).fill(3),
    gasLimit,
    caller: new Uint8Array(32).fill(1),
    nonce: 5n,
    validUntil: 100n,
  });
  return assembleSignedRequest(body, new Uint8Array(64));
}
const used = (gasUsed: bigint): Receipt => ({
  status: "rejected",
  requestId: new Uint8Array(32),
  height: 1n,
  index: 0,
  gasUsed,
  reason: "out-of-gas",
  message: "",
});

test("peekGas reads an EXECUTE's operation and limit, and nothing else", () => {
  assert.deepEqual(peekGas(request("a/op", 123n)), { op: "a/op", gasLimit: 123n, validUntil: 100n });
  assert.equal(peekGas(new Uint8Array([1, 2, 3])), null);
  const r = request("a/op", 123n);
  r[1] = 2; // not version 1 (a COMPLAIN's kind): never weighed by gas
  assert.equal(peekGas(r), null);
});

test("declared gas past LIGHT_REQUEST_GAS is heavy; an operation that used a lot is held back, then forgiven", () => {
  const w = new GasWeigher();
  assert.equal(w.heavy(w.weigh(request("a/op", LIGHT_REQUEST_GAS + 1n))), true);
  assert.deepEqual(w.weigh(new Uint8Array([9])), { gas: 0n, group: "" });
  // An operation not seen yet: light only if it declares little.
  assert.equal(w.heavy(w.weigh(request("a/op", LIGHT_USED_GAS))), false);
  assert.equal(w.heavy(w.weigh(request("a/op", LIGHT_USED_GAS + 1n))), true);
  w.learn([request("a/op", LIGHT_REQUEST_GAS)], [used(20_000n)]);
  assert.equal(w.heavy(w.weigh(request("a/op", LIGHT_REQUEST_GAS))), false, "seen to be cheap");

  const loop = request("a/loop", LIGHT_REQUEST_GAS);
  w.learn([loop, request("a/cheap", 1_000n)], [used(LIGHT_REQUEST_GAS), used(900n)]);
  assert.equal(w.heavy(w.weigh(loop)), true, "its calls used the whole limit");
  assert.equal(w.isHeavy("a/cheap"), false);
  // Cheap calls decay the memory by an eighth each: it takes a run of them to be light again.
  let calls = 0;
  while (w.isHeavy("a/loop")) {
    w.learn([loop], [used(10n)]);
    calls++;
  }
  assert.ok(calls > 5 && calls < 40, `forgiven after ${calls} cheap calls`);
  assert.ok(!w.isHeavy("a/loop"));
});

test("the weigher remembers at most MAX_GAS_HISTORY_OPERATIONS operations, least recent forgotten", () => {
  const w = new GasWeigher();
  w.learn([request("a/first", LIGHT_REQUEST_GAS)], [used(LIGHT_REQUEST_GAS)]);
  for (let i = 0; i < MAX_GAS_HISTORY_OPERATIONS; i++)
    w.learn([request(`a/op${i}`, LIGHT_REQUEST_GAS)], [used(LIGHT_REQUEST_GAS)]);
  assert.equal(w.isHeavy("a/first"), false, "forgotten");
  assert.equal(w.isHeavy(`a/op${MAX_GAS_HISTORY_OPERATIONS - 1}`), true);
  assert.equal(w.isHeavy("a/op0"), true);
});

test("a request weighs its module's size when that is more than its limit, as the block's budget counts it", () => {
  const w = new GasWeigher((op) => (op === "a/big" ? 200 * 1024 : undefined));
  const big = w.weigh(request("a/big", 1_000n));
  assert.equal(big.gas, 200n * 1024n * BLOCK_GAS_PER_MODULE_BYTE);
  assert.equal(w.heavy(big), true, "past LIGHT_REQUEST_GAS by its module alone");
  const small = request("a/small", 1_000n);
  assert.equal(
    w.weigh(small).gas,
    BigInt(small.length) * PACKING_GAS_PER_REQUEST_BYTE,
    "its size, more than 1,000",
  );
  assert.equal(w.weigh(small).declared, 1_000n);
});

test("a request weighs its size when that is more: a large one is heavy, whatever it declares; never past the heavy share", () => {
  const w = new GasWeigher();
  w.learn([request("a/put", 1_000n)], [used(900n)]);
  const small = request("a/put", 100_000n, 2_000);
  assert.equal(w.heavy(w.weigh(small)), false, "a 2 KB call of a cheap operation is light");
  const large = request("a/put", 100_000n, 64 * 1024);
  assert.ok(w.weigh(large).gas > LIGHT_REQUEST_GAS);
  assert.equal(w.heavy(w.weigh(large)), true, "64 KB is heavy by its size");
  const huge = request("a/put", 100_000n, MAX_ARGS_BYTES);
  assert.equal(
    w.weigh(huge).gas,
    HEAVY_GAS_PER_PROPOSAL,
    "capped: the largest request still fits the heavy share",
  );
  // Not seen yet, a 2 KB call declaring little is light: the size rule is not the loop rule.
  assert.equal(w.heavy(w.weigh(request("a/new", 100_000n, 2_000))), false);
});
