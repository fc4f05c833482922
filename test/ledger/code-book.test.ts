// Operation code by hash: a request's proof shows the operation's record with only its value
// hash and every node, whatever its partition, takes the module from its code book. The book
// holds every module ever written (genesis included), is rebuilt at restart from what the blocks
// stored, and a miss is the same verdict everywhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Replicas, TestClient, opBytes, str } from "./harness.js";
import { Ledger, type BlockOutcome } from "../../node/ledger/ledger.js";
import { CodeBook, isModuleValue } from "../../node/ledger/code-book.js";
import { createExecutor } from "../../node/exec/index.js";
import { nodeEd25519Verify } from "../../node/exec/host-crypto.js";
import { decodeSignedRequest } from "../../node/ledger/request.js";
import { toHex } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";
import type { Receipt } from "../../node/ledger/receipt.js";
import { installNodeSha256 } from "../../node/platform.js";
import { systemGenesisRecords } from "../../node/exec/built-ops.js";

installNodeSha256();

const status = (r: Receipt) => (r.status === "accepted" ? "accepted" : r.reason);
const agree = (outs: BlockOutcome[]) => {
  for (const o of outs) assert.equal(toHex(o.root), toHex(outs[0]!.root), "replicas disagree");
  return outs[0]!.receipts.map(status);
};

function deployed() {
  const r = new Replicas([[""], ["0"], ["1"], ["00", "11"]]);
  const alice = new TestClient(r);
  assert.deepEqual(agree(r.block([alice.createDomain("shop")])), ["accepted"]);
  const deploy = r.block([alice.baseRule("shop", [["shop/open", opBytes("banking/open.wasm")]])]);
  assert.deepEqual(agree(deploy), ["accepted"]);
  return { r, alice, deploy };
}

const open = (c: TestClient, name: string, withCode = false) =>
  c.request("shop/open", [`shop/accounts/${name}`], str(`shop/accounts/${name}`), { withCode });

test("a request names its module by hash: small, and executed alike on every partition", () => {
  const { r, alice, deploy } = deployed();
  // The deploying block reports the module it added, once, on every replica.
  for (const o of deploy) {
    assert.equal(o.modules.length, 1);
    assert.equal(toHex(o.modules[0]!.hash), toHex(sha256(opBytes("banking/open.wasm"))));
  }
  const byHash = open(alice, "a");
  const withCode = open(alice, "b", true);
  const code = opBytes("banking/open.wasm").length;
  assert.ok(byHash.length < 1024, `${byHash.length} bytes`);
  assert.ok(withCode.length > code, "the older form carries the module");
  assert.equal(decodeSignedRequest(byHash).proof.length + code < withCode.length + 64, true);
  assert.deepEqual(agree(r.block([byHash, withCode])), ["accepted", "accepted"]);
});

test("a restarted ledger has the modules stored with the blocks; without them it would differ", () => {
  const { r, alice, deploy } = deployed();
  const verifier = { verify: nodeEd25519Verify };
  const genesis = systemGenesisRecords().map((g) => g.value);
  const stored = deploy[0]!.modules.map((m) => m.code);
  const req = open(alice, "c");
  const other = open(alice, "d"); // against the same state as `req`
  // Over the same state, a ledger given the stored modules (as a restarted node is) accepts…
  const knows = new Ledger(r.full.history, createExecutor(), verifier, undefined, {
    height: r.height,
    decided: [],
    modules: [...genesis, ...stored],
  });
  assert.equal(knows.code.size, genesis.length + 1);
  assert.deepEqual(knows.applyBlock(r.height + 1n, [req]).receipts.map(status), ["accepted"]);
  // …and one that lost them refuses it: so the book is stored with its blocks.
  const forgot = new Ledger(r.ledgers[1]!.history, createExecutor(), verifier, undefined, {
    height: r.height,
    decided: [],
    modules: genesis,
  });
  assert.deepEqual(forgot.applyBlock(r.height + 1n, [other]).receipts.map(status), ["op-missing"]);
});

test("an operation record that holds no known module is op-missing on every replica", () => {
  const { r, alice } = deployed();
  // A data record (not a module) named as an operation: proven by hash, nothing in the book.
  assert.deepEqual(agree(r.block([alice.baseRule("shop", [["shop/data", str("not code")]])])), ["accepted"]);
  const req = alice.request("shop/data", ["shop/accounts/x"], new Uint8Array(0));
  assert.deepEqual(agree(r.block([req])), ["op-missing"]);
  // The same record given with its value in the proof is not a module either.
  const withValue = alice.request("shop/data", ["shop/accounts/y"], new Uint8Array(0), { withCode: true });
  assert.deepEqual(agree(r.block([withValue])), ["invalid-module"]);
});

test("the code book holds Wasm values once each, by hash", () => {
  const m = opBytes("banking/open.wasm");
  assert.equal(isModuleValue(m), true);
  assert.equal(isModuleValue(str("asm")), false);
  assert.equal(isModuleValue(Uint8Array.of(0, 0x61, 0x73, 0x6d, 2, 0, 0, 0)), false, "version 1 only");
  const book = new CodeBook([m]);
  assert.equal(book.size, 1);
  assert.equal(book.bytes, m.length);
  const t = opBytes("banking/transfer.wasm");
  const fresh = book.newModules([m, t, t, str("data")])!;
  assert.deepEqual(
    fresh.map((e) => toHex(e.hash)),
    [toHex(sha256(t))],
  );
  assert.equal(book.size, 1, "newModules changes nothing");
  book.add(fresh);
  assert.equal(toHex(sha256(book.get(sha256(t))!)), toHex(sha256(t)));
});
