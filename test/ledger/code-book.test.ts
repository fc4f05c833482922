// Operation code by hash: a request's proof leaves the operation's record out (the operation
// table names the module the record holds now) or shows it with only its value hash (a pinned
// version), and every node, whatever its partition, takes the module from its code book. Book and
// table hold every module ever written (genesis included) and follow every write, are rebuilt at
// restart from what the blocks stored, and a miss is the same verdict everywhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Replicas, TestClient, opBytes, str } from "./harness.js";
import { Ledger, type BlockOutcome } from "../../node/ledger/ledger.js";
import { CodeBook, OPERATION_ENTRY_BYTES, genesisBook, isModuleValue } from "../../node/ledger/code-book.js";
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

const open = (c: TestClient, name: string, opts: { withCode?: boolean; pinned?: boolean } = {}) =>
  c.request("shop/open", [`shop/accounts/${name}`], str(`shop/accounts/${name}`), opts);

test("a request leaves its operation out, or names it by hash: small, and executed alike on every partition", () => {
  const { r, alice, deploy } = deployed();
  // The deploying block reports the module it added and the key that holds it, on every replica.
  const hash = toHex(sha256(opBytes("banking/open.wasm")));
  for (const o of deploy) {
    assert.equal(o.modules.length, 1);
    assert.equal(toHex(o.modules[0]!.hash), hash);
    assert.deepEqual(
      o.operations.map((e) => [e.key, e.hash && toHex(e.hash)]),
      [["shop/open", hash]],
    );
  }
  const unpinned = open(alice, "a");
  const pinned = open(alice, "b", { pinned: true });
  const withCode = open(alice, "c", { withCode: true });
  const code = opBytes("banking/open.wasm").length;
  // (In a tree this small the unpinned proof still shows the operation's leaf as a summary beside
  // a touched path; in a larger one it leaves the operation's path out, bench:e2e's requestBytes.)
  for (const req of [unpinned, pinned]) assert.ok(req.length < 1024, `${req.length} bytes`);
  assert.ok(withCode.length > code, "the oldest form carries the module");
  assert.equal(decodeSignedRequest(pinned).proof.length + code < withCode.length + 64, true);
  assert.deepEqual(agree(r.block([unpinned, pinned, withCode])), ["accepted", "accepted", "accepted"]);
});

test("the operation table follows every write to the operation's key; a pinned request keeps its version", () => {
  const { r, alice } = deployed();
  const statuses = (reqs: Uint8Array[]) => agree(r.block(reqs));
  const pinnedBefore = open(alice, "p", { pinned: true });
  // The record becomes data: unpinned requests find no module, the pinned one an outdated record.
  assert.deepEqual(statuses([alice.baseRule("shop", [["shop/open", str("not code")]])]), ["accepted"]);
  for (const l of r.ledgers) assert.equal(l.code.operation("shop/open"), undefined);
  assert.deepEqual(statuses([open(alice, "a")]), ["op-missing"]);
  assert.notEqual(statuses([pinnedBefore])[0], "accepted");
  // Removed, then deployed again: the table names the module again.
  assert.deepEqual(statuses([alice.baseRule("shop", [["shop/open", null]])]), ["accepted"]);
  assert.deepEqual(statuses([open(alice, "b")]), ["op-missing"]);
  assert.deepEqual(statuses([alice.baseRule("shop", [["shop/open", opBytes("banking/open.wasm")]])]), [
    "accepted",
  ]);
  assert.deepEqual(statuses([open(alice, "c"), open(alice, "d", { pinned: true })]), [
    "accepted",
    "accepted",
  ]);
  // Another key holding the same module is an operation too (the book holds the module once).
  const size = r.full.code.size;
  assert.deepEqual(statuses([alice.baseRule("shop", [["shop/open2", opBytes("banking/open.wasm")]])]), [
    "accepted",
  ]);
  assert.equal(r.full.code.size, size);
  const other = alice.request("shop/open2", ["shop/accounts/e"], str("shop/accounts/e"));
  assert.deepEqual(statuses([other]), ["accepted"]);
});

test("a restarted ledger has the modules and entries stored with the blocks; without them it would differ", () => {
  const { r, alice, deploy } = deployed();
  const verifier = { verify: nodeEd25519Verify };
  const genesis = genesisBook(systemGenesisRecords());
  const stored = deploy[0]!;
  const start = (operations: typeof genesis.operations) => ({
    chain: r.chain,
    height: r.height,
    decided: [],
    modules: [...genesis.modules, ...stored.modules.map((m) => m.code)],
    operations,
    index: r.full.index.entries(),
  });
  const pinned = open(alice, "c", { pinned: true });
  const unpinned = open(alice, "d"); // against the same state as `pinned`
  // Over the same state, a ledger given what the blocks stored (as a restarted node is) accepts…
  const knows = new Ledger(
    r.full.history,
    createExecutor(),
    verifier,
    undefined,
    start([...genesis.operations, ...stored.operations]),
  );
  assert.equal(knows.code.size, genesis.modules.length + 1);
  assert.deepEqual(knows.applyBlock(r.height + 1n, [unpinned]).receipts.map(status), ["accepted"]);
  // …one that lost the entries refuses the unpinned request, and one that lost the modules any
  // request by hash: so both are stored with their blocks.
  const noEntries = new Ledger(
    r.ledgers[1]!.history,
    createExecutor(),
    verifier,
    undefined,
    start(genesis.operations),
  );
  assert.deepEqual(noEntries.applyBlock(r.height + 1n, [unpinned]).receipts.map(status), ["op-missing"]);
  const noModules = new Ledger(r.ledgers[2]!.history, createExecutor(), verifier, undefined, {
    chain: r.chain,
    height: r.height,
    decided: [],
    ...genesis,
    index: r.full.index.entries(),
  });
  assert.deepEqual(noModules.applyBlock(r.height + 1n, [pinned]).receipts.map(status), ["op-missing"]);
});

test("an operation record that holds no known module is op-missing on every replica", () => {
  const { r, alice } = deployed();
  // A data record (not a module) named as an operation: no entry, and by hash nothing in the book.
  assert.deepEqual(agree(r.block([alice.baseRule("shop", [["shop/data", str("not code")]])])), ["accepted"]);
  const req = alice.request("shop/data", ["shop/accounts/x"], new Uint8Array(0));
  const byHash = alice.request("shop/data", ["shop/accounts/w"], new Uint8Array(0), { pinned: true });
  assert.deepEqual(agree(r.block([req, byHash])), ["op-missing", "op-missing"]);
  // The same record given with its value in the proof is not a module either.
  const withValue = alice.request("shop/data", ["shop/accounts/y"], new Uint8Array(0), { withCode: true });
  assert.deepEqual(agree(r.block([withValue])), ["invalid-module"]);
});

test("the code book holds Wasm values once each, by hash, and charges each table entry", () => {
  const m = opBytes("banking/open.wasm");
  assert.equal(isModuleValue(m), true);
  assert.equal(isModuleValue(str("asm")), false);
  assert.equal(isModuleValue(Uint8Array.of(0, 0x61, 0x73, 0x6d, 2, 0, 0, 0)), false, "version 1 only");
  const book = new CodeBook([m], [{ key: "a/op", hash: sha256(m) }]);
  assert.equal(book.size, 1);
  assert.equal(book.bytes, m.length + 4 + OPERATION_ENTRY_BYTES);
  const t = opBytes("banking/transfer.wasm");
  const plan = book.plan([
    { key: "a/x", value: m },
    { key: "a/y", value: t },
    { key: "a/z", value: t },
    { key: "a/op", value: str("data") },
    { key: "a/z", value: null },
  ])!;
  assert.deepEqual(
    plan.modules.map((e) => toHex(e.hash)),
    [toHex(sha256(t))],
  );
  assert.deepEqual(
    plan.operations.map((e) => [e.key, e.hash && toHex(e.hash)]),
    [
      ["a/x", toHex(sha256(m))],
      ["a/y", toHex(sha256(t))],
      ["a/z", toHex(sha256(t))],
      ["a/op", null],
      ["a/z", null],
    ],
  );
  assert.equal(book.size, 1, "plan changes nothing");
  book.apply(plan);
  assert.equal(toHex(sha256(book.get(sha256(t))!)), toHex(sha256(t)));
  assert.equal(book.operation("a/op"), undefined);
  assert.equal(book.operation("a/z"), undefined);
  assert.equal(toHex(book.operation("a/y")!), toHex(sha256(t)));
  assert.equal(book.operations, 2);
  assert.equal(book.bytes, m.length + t.length + 2 * (3 + OPERATION_ENTRY_BYTES));
  // A write that stores no module to a key without an entry changes nothing.
  assert.deepEqual(book.plan([{ key: "a/data", value: str("x") }]), { modules: [], operations: [] });
});
