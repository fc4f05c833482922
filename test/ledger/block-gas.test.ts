// The block's gas budget as a rule of execution: requests run while the gas limits of those that
// ran fit in BLOCK_GAS_BUDGET; the next is decided `block-gas-full` without running, finally (its
// bytes are a replay afterwards), and every replica, whatever its partition, decides alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Replicas, TestClient, opBytes } from "./harness.js";
import { Writer } from "../../node/common/codec.js";
import { toHex } from "../../node/common/bytes.js";
import { BLOCK_GAS_BUDGET, BLOCK_GAS_PER_MODULE_BYTE, MAX_GAS_LIMIT } from "../../node/common/limits.js";
import { requestWeight } from "../../node/ledger/request-weight.js";
import { build, op } from "../exec/wasm-builder.js";
import type { BlockOutcome } from "../../node/ledger/ledger.js";
import type { Receipt } from "../../node/ledger/receipt.js";
import { installNodeSha256 } from "../../node/platform.js";

installNodeSha256();

const status = (r: Receipt) => (r.status === "accepted" ? "accepted" : r.reason);
const one = (outs: BlockOutcome[]) => {
  for (const o of outs) assert.equal(toHex(o.root), toHex(outs[0]!.root), "replicas disagree");
  return outs[0]!.receipts;
};

function bank(T = 16) {
  const r = new Replicas([[""], ["0"], ["1"]], T);
  const owner = new TestClient(r);
  assert.equal(status(one(r.block([owner.createDomain("bank")]))[0]!), "accepted");
  const deploy = owner.baseRule("bank", [["bank/open", opBytes("banking/open.wasm")]]);
  assert.equal(status(one(r.block([deploy]))[0]!), "accepted");
  const open = (name: string, gas: bigint) =>
    owner.request(
      "bank/open",
      [`bank/accounts/${name}`],
      new Writer().string(`bank/accounts/${name}`).finish(),
      {
        gas,
      },
    );
  return { r, open };
}

test("requests past the block's declared gas are decided block-gas-full without running", () => {
  const { r, open } = bank();
  const full = Number(BLOCK_GAS_BUDGET / MAX_GAS_LIMIT);
  const big = Array.from({ length: full }, (_, i) => open(`big${i}`, MAX_GAS_LIMIT));
  const over = open("over", MAX_GAS_LIMIT);
  const small = open("small", 1n); // cannot even pay the base charge, but it does not fit either
  const receipts = one(r.block([...big, over, small]));
  assert.deepEqual(receipts.map(status), [...big.map(() => "accepted"), "block-gas-full", "block-gas-full"]);
  const cut = receipts[full]!;
  assert.equal(cut.gasUsed, 0n, "a request that did not run used no gas");
  assert.ok(cut.status === "rejected" && cut.message.includes(String(BLOCK_GAS_BUDGET)));
  // Final, like any verdict past the admission checks: the same bytes are a replay now.
  assert.deepEqual(one(r.block([over])).map(status), ["replay"]);
  // A new block has the whole budget again.
  assert.deepEqual(one(r.block([open("over", MAX_GAS_LIMIT)])).map(status), ["accepted"]);
});

test("requests refused before running take none of the block's gas", () => {
  const { r, open } = bank();
  const first = open("a", MAX_GAS_LIMIT);
  assert.deepEqual(one(r.block([first])).map(status), ["accepted"]);
  const full = Number(BLOCK_GAS_BUDGET / MAX_GAS_LIMIT);
  const again = Array.from({ length: 3 }, () => first); // replays: never run
  const fresh = Array.from({ length: full }, (_, i) => open(`f${i}`, MAX_GAS_LIMIT));
  assert.deepEqual(one(r.block([...again, ...fresh])).map(status), [
    ...again.map(() => "replay"),
    ...fresh.map(() => "accepted"),
  ]);
});

test("a request weighs its module's size when that is more than its limit: compiling is not metered", () => {
  assert.equal(requestWeight(5n, 1000), 1000n * BLOCK_GAS_PER_MODULE_BYTE);
  assert.equal(requestWeight(MAX_GAS_LIMIT, 1000), MAX_GAS_LIMIT);
  const { r, open } = bank(1024);
  const owner = new TestClient(r);
  assert.equal(status(one(r.block([owner.createDomain("big")]))[0]!), "accepted");
  // run() returns an empty result; a custom section makes the module about 200 KiB.
  const code = build({
    funcs: [{ type: 0, body: op.i32_const(16) }],
    data: [{ offset: 16, bytes: [1, 0, 0, 0, 0] }],
    custom: [{ name: "pad", bytes: new Array<number>(200 * 1024).fill(7) }],
  });
  assert.equal(status(one(r.block([owner.baseRule("big", [["big/op", code]])]))[0]!), "accepted");
  const weight = BigInt(code.length) * BLOCK_GAS_PER_MODULE_BYTE;
  const heavy = Array.from({ length: 3 }, (_, i) => open(`h${i}`, MAX_GAS_LIMIT));
  const room = Number((BLOCK_GAS_BUDGET - 3n * MAX_GAS_LIMIT) / weight);
  const calls = Array.from({ length: room + 2 }, () =>
    owner.request("big/op", [], new Uint8Array(0), { gas: 2_000n }),
  );
  const verdicts = one(r.block([...heavy, ...calls])).map(status);
  assert.deepEqual(verdicts, [
    ...heavy.map(() => "accepted"),
    ...Array.from({ length: room }, () => "accepted"),
    "block-gas-full",
    "block-gas-full",
  ]);
});
