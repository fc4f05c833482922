// Exactly once, forever: a request applies at most once however the state comes back around (the
// root depends on the records alone, so an old proof can become valid again), within its signed
// lifetime (`replay`) and after it (`expired`), and across a restart from the stored id records.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Replicas, TestClient, opBytes } from "./harness.js";
import { Ledger } from "../../node/ledger/ledger.js";
import { createExecutor } from "../../node/exec/index.js";
import { nodeEd25519Verify } from "../../node/exec/host-crypto.js";
import { Writer } from "../../node/common/codec.js";
import { toHex } from "../../node/common/bytes.js";
import { MAX_REQUEST_LIFETIME_BLOCKS } from "../../node/common/limits.js";
import { decodeDecidedIds, encodeDecidedIds, type DecidedId } from "../../node/ledger/decided-ids.js";
import type { BlockOutcome } from "../../node/ledger/ledger.js";
import type { Receipt } from "../../node/ledger/receipt.js";
import { installNodeSha256 } from "../../node/platform.js";

installNodeSha256();

const status = (r: Receipt) => (r.status === "accepted" ? "accepted" : r.reason);
const one = (outs: BlockOutcome[]) => {
  for (const o of outs) assert.equal(toHex(o.root), toHex(outs[0]!.root), "replicas disagree");
  return outs[0]!.receipts.map(status);
};
const KEYS = ["bank/accounts/alice", "bank/accounts/bob"];

/** A bank with alice (100) and bob (0) on replicas with different partitions, history T = 4. */
function bank() {
  const r = new Replicas([[""], ["0"], ["1"]], 4);
  const owner = new TestClient(r);
  const decided: DecidedId[] = [];
  const block = (reqs: Uint8Array[]) => {
    const outs = r.block(reqs);
    decided.push(...outs[0]!.decided);
    return one(outs);
  };
  assert.deepEqual(block([owner.createDomain("bank")]), ["accepted"]);
  assert.deepEqual(
    block([
      owner.baseRule("bank", [
        ["bank/open", opBytes("banking/open.wasm")],
        ["bank/mint", opBytes("banking/mint.wasm")],
        ["bank/transfer", opBytes("banking/transfer.wasm")],
      ]),
    ]),
    ["accepted"],
  );
  const open = (name: string) =>
    owner.request(
      "bank/open",
      [`bank/accounts/${name}`],
      new Writer().string(`bank/accounts/${name}`).finish(),
    );
  assert.deepEqual(block([open("alice"), open("bob")]), ["accepted", "accepted"]);
  const mint = owner.request(
    "bank/mint",
    ["bank/.owner", "bank/accounts/alice"],
    new Writer().string("bank/accounts/alice").varint(100).finish(),
  );
  assert.deepEqual(block([mint]), ["accepted"]);
  const transfer = (from: string, to: string, opts: { validUntil?: bigint } = {}) =>
    owner.request(
      "bank/transfer",
      KEYS,
      new Writer().string(`bank/accounts/${from}`).string(`bank/accounts/${to}`).varint(10).finish(),
      opts,
    );
  /** Moves 10 to bob and back, `n` times: the state (and root) ends where it started. */
  const roundTrips = (n: number) => {
    for (let i = 0; i < n; i++) {
      assert.deepEqual(block([transfer("alice", "bob")]), ["accepted"]);
      assert.deepEqual(block([transfer("bob", "alice")]), ["accepted"]);
    }
  };
  return { r, block, transfer, roundTrips, decided };
}

test("a request whose proof is valid again after the history window is refused as a replay", () => {
  const { r, block, transfer, roundTrips } = bank();
  const start = toHex(r.full.history.rootLabel);
  const t = transfer("alice", "bob");
  assert.deepEqual(block([t]), ["accepted"]);
  assert.deepEqual(block([transfer("bob", "alice")]), ["accepted"]);
  roundTrips(5); // 10 more timestamps: far past T = 4
  assert.equal(toHex(r.full.history.rootLabel), start, "the state came back to the one t was read against");
  assert.deepEqual(block([t]), ["replay"]);
  const a = r.full.admit(t);
  assert.equal(a.ok ? "admitted" : a.reason, "replay");
});

test("a request is refused as expired past its validUntil, forever", () => {
  const { r, block, transfer, roundTrips } = bank();
  const t = transfer("alice", "bob", { validUntil: r.height + 20n });
  assert.deepEqual(block([t]), ["accepted"]);
  assert.deepEqual(block([transfer("bob", "alice")]), ["accepted"]);
  roundTrips(12); // 24 more blocks: past t's validUntil, state as t's proof read it
  assert.deepEqual(block([t]), ["expired"]);
  const a = r.full.admit(t);
  assert.equal(a.ok ? "admitted" : a.reason, "expired");
  // Never seen before, but expired: it cannot apply any more either.
  const late = transfer("alice", "bob", { validUntil: r.height });
  assert.deepEqual(block([late]), ["expired"]);
});

test("a lifetime of MAX_REQUEST_LIFETIME_BLOCKS or more is refused at the door and in a block", () => {
  const { r, block, transfer } = bank();
  const max = BigInt(MAX_REQUEST_LIFETIME_BLOCKS);
  const tooLong = transfer("alice", "bob", { validUntil: r.height + 1n + max });
  const a = r.full.admit(tooLong);
  assert.equal(a.ok ? "admitted" : a.reason, "bad-lifetime");
  assert.deepEqual(block([tooLong]), ["bad-lifetime"]);
  // The longest allowed lifetime applies.
  assert.deepEqual(block([transfer("alice", "bob", { validUntil: r.height + max })]), ["accepted"]);
});

test("the decided ids survive a restart: a ledger started from the stored records refuses the replay", () => {
  const { r, block, transfer, roundTrips, decided } = bank();
  const t = transfer("alice", "bob");
  assert.deepEqual(block([t]), ["accepted"]);
  assert.deepEqual(block([transfer("bob", "alice")]), ["accepted"]);
  roundTrips(3);
  // What a node stores with each block, decoded back as it is at start.
  const stored = decodeDecidedIds(encodeDecidedIds(r.height, decided));
  assert.equal(stored.height, r.height);
  const verifier = { verify: nodeEd25519Verify };
  const forgetful = new Ledger(r.full.history, createExecutor(), verifier, undefined, {
    chain: r.chain,
    height: r.height,
    decided: [],
    modules: r.full.code.modules(),
    operations: r.full.code.operationEntries(),
    index: r.full.index.entries(),
  });
  const restarted = new Ledger(r.full.history, createExecutor(), verifier, undefined, {
    chain: r.chain,
    height: r.height,
    decided: stored.decided,
    modules: r.full.code.modules(),
    operations: r.full.code.operationEntries(),
    index: r.full.index.entries(),
  });
  assert.ok(forgetful.admit(t).ok, "without the stored ids the replay would be admitted");
  const a = restarted.admit(t);
  assert.equal(a.ok ? "admitted" : a.reason, "replay");
  assert.ok(restarted.rememberedIds >= decided.length - 1);
  const out = restarted.applyBlock(r.height + 1n, [t]);
  assert.deepEqual(out.receipts.map(status), ["replay"]);
});

test("a rejection is final too: the same bytes are a replay once the state would let them apply", () => {
  const { block, transfer } = bank();
  // Bob has nothing: his transfer traps.
  const t = transfer("bob", "alice");
  assert.deepEqual(block([t]), ["trap"]);
  assert.deepEqual(block([transfer("alice", "bob")]), ["accepted"]);
  // Bob now has 10, but t was decided: it never applies.
  assert.deepEqual(block([t]), ["replay"]);
});

test("a copy of a decided request is refused as a replay without verifying its signature again", () => {
  const { r, block, transfer, decided } = bank();
  const t = transfer("alice", "bob");
  assert.deepEqual(block([t]), ["accepted"]);
  // The same ledger state, with a verifier that counts.
  let verified = 0;
  const counting = new Ledger(
    r.full.history,
    createExecutor(),
    {
      verify: (k, m, s) => {
        verified++;
        return nodeEd25519Verify(k, m, s);
      },
    },
    undefined,
    {
      chain: r.chain,
      height: r.height,
      decided,
      modules: r.full.code.modules(),
      operations: r.full.code.operationEntries(),
      index: r.full.index.entries(),
    },
  );
  const a = counting.admit(t);
  assert.equal(a.ok ? "admitted" : a.reason, "replay");
  assert.equal(verified, 0, "no signature verified for a decided id");
  // A request not decided yet is verified as always.
  counting.admit(transfer("bob", "alice"));
  assert.equal(verified, 1);
});
