// The ledger over real operations on replicas with different partitions: domain creation,
// deployment through .base_rule, banking, double spends, replays, domain violations — identical
// receipts and roots on every replica.
import { genesisEntries } from "../../node/ledger/key-index.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { Replicas, TestClient, opBytes } from "./harness.js";
import { Ledger } from "../../node/ledger/ledger.js";
import { HistoryTree } from "../../node/store/core/history.js";
import { Partition } from "../../node/store/core/partition.js";
import { createExecutor } from "../../node/exec/index.js";
import { nodeEd25519Verify } from "../../node/exec/host-crypto.js";
import { Writer } from "../../node/common/codec.js";
import { bytesEqual, toHex } from "../../node/common/bytes.js";
import { type Receipt } from "../../node/ledger/receipt.js";
import type { BlockOutcome } from "../../node/ledger/ledger.js";
import { installNodeSha256 } from "../../node/platform.js";
import { sha256 } from "../../node/common/hash.js";
import { systemGenesisRecords } from "../../node/exec/built-ops.js";
import { genesisBook } from "../../node/ledger/code-book.js";
import { decodeAnyRequest } from "../../node/ledger/any-request.js";
import { assembleSignedRequest, requestSigningMessage } from "../../node/ledger/request.js";
import { signWith } from "../../node/keys.js";
import { resultModule } from "../exec/wasm-builder.js";
import { decodeReceipt, encodeReceipt } from "../../node/ledger/receipt.js";
import { MAX_RECEIPT_MESSAGE_BYTES } from "../../node/common/limits.js";

installNodeSha256();

function agree(outs: BlockOutcome[]): Receipt[] {
  const first = outs[0]!;
  for (const o of outs) {
    assert.equal(toHex(o.root), toHex(first.root), "roots differ between replicas");
    assert.deepEqual(
      o.encodedReceipts.map(toHex),
      first.encodedReceipts.map(toHex),
      "receipts differ between replicas",
    );
    assert.equal(toHex(o.receiptTree.root), toHex(first.receiptTree.root));
  }
  return [...first.receipts];
}

const status = (r: Receipt) => (r.status === "accepted" ? "accepted" : r.reason);
const transferArgs = (from: string, to: string, amount: number) =>
  new Writer().string(from).string(to).varint(amount).finish();

test("banking on replicas with different partitions", () => {
  const r = new Replicas([[""], ["0"], ["1"], ["00", "11"]]);
  const bank = new TestClient(r);
  const alice = bank;
  const bob = new TestClient(r);
  const eve = new TestClient(r);

  assert.deepEqual(agree(r.block([bank.createDomain("bank")])).map(status), ["accepted"]);
  // A second creation of the same domain is refused by the op.
  assert.deepEqual(agree(r.block([eve.createDomain("bank")])).map(status), ["trap"]);
  const deploy = bank.baseRule("bank", [
    ["bank/open", opBytes("banking/open.wasm")],
    ["bank/mint", opBytes("banking/mint.wasm")],
    ["bank/transfer", opBytes("banking/transfer.wasm")],
  ]);
  assert.deepEqual(agree(r.block([deploy])).map(status), ["accepted"]);
  // Only the owner may use the base rule.
  assert.deepEqual(agree(r.block([eve.baseRule("bank", [["bank/x", new Uint8Array([1])]])])).map(status), [
    "trap",
  ]);

  const open = (c: TestClient, name: string) =>
    c.request("bank/open", [`bank/accounts/${name}`], new Writer().string(`bank/accounts/${name}`).finish());
  assert.deepEqual(agree(r.block([open(alice, "alice"), open(bob, "bob"), open(eve, "eve")])).map(status), [
    "accepted",
    "accepted",
    "accepted",
  ]);
  const mint = bank.request(
    "bank/mint",
    ["bank/.owner", "bank/accounts/alice"],
    new Writer().string("bank/accounts/alice").varint(100).finish(),
  );
  assert.deepEqual(agree(r.block([mint])).map(status), ["accepted"]);

  // Two transfers spending the same funds, built on the same proof: the second is refused.
  const keys = ["bank/accounts/alice", "bank/accounts/bob"];
  const proof = r.proof(["bank/transfer", ...keys]);
  const t1 = alice.request(
    "bank/transfer",
    keys,
    transferArgs("bank/accounts/alice", "bank/accounts/bob", 80),
    { proof },
  );
  const t2 = alice.request(
    "bank/transfer",
    ["bank/accounts/alice", "bank/accounts/eve"],
    transferArgs("bank/accounts/alice", "bank/accounts/eve", 80),
    {
      proof: r.proof(["bank/transfer", "bank/accounts/alice", "bank/accounts/eve"]),
    },
  );
  assert.deepEqual(agree(r.block([t1, t2])).map(status), ["accepted", "record-changed"]);
  // Replay of the first transfer.
  assert.deepEqual(agree(r.block([t1])).map(status), ["replay"]);
  // Overdraft refused by the op; transfer from someone else's account refused.
  assert.deepEqual(
    agree(
      r.block([
        alice.request("bank/transfer", keys, transferArgs("bank/accounts/alice", "bank/accounts/bob", 21)),
      ]),
    ).map(status),
    ["trap"],
  );
  assert.deepEqual(
    agree(
      r.block([
        eve.request("bank/transfer", keys, transferArgs("bank/accounts/alice", "bank/accounts/bob", 1)),
      ]),
    ).map(status),
    ["trap"],
  );
  // Concurrent transfers on disjoint accounts in one block, all accepted.
  const c1 = bob.request(
    "bank/transfer",
    ["bank/accounts/bob", "bank/accounts/eve"],
    transferArgs("bank/accounts/bob", "bank/accounts/eve", 10),
  );
  const c2 = alice.request(
    "bank/transfer",
    ["bank/accounts/alice"],
    transferArgs("bank/accounts/alice", "bank/accounts/alice", 5),
  );
  const out = agree(r.block([c1, c2]));
  assert.equal(status(out[0]!), "accepted");
  assert.equal(status(out[1]!), "trap"); // a transfer to itself is refused

  // A write outside the domain through the base rule is a domain violation.
  assert.deepEqual(agree(r.block([bank.baseRule("bank", [["other/x", new Uint8Array([1])]])])).map(status), [
    "domain-violation",
  ]);
  // A bad signature and garbage bytes get their reasons.
  const bad = alice.request(
    "bank/open",
    ["bank/accounts/zed"],
    new Writer().string("bank/accounts/zed").finish(),
  );
  bad[bad.length - 1]! ^= 1;
  assert.deepEqual(agree(r.block([bad, new Uint8Array([1, 2, 3])])).map(status), [
    "bad-signature",
    "malformed-request",
  ]);

  // Balances, read from the full replica.
  const bal = (name: string) => {
    const v = r.full.history.tree.get(`bank/accounts/${name}`)!;
    return new DataView(v.buffer, v.byteOffset).getBigUint64(32);
  };
  assert.equal(bal("alice"), 20n);
  assert.equal(bal("bob"), 70n);
  assert.equal(bal("eve"), 10n);
  assert.ok(bytesEqual(r.ledgers[1]!.history.rootLabel, r.full.history.rootLabel));
});

test("a request admitted by a node is verified once there, with the verdict of a fresh check", () => {
  // Two ledgers over the same history; one admits the requests before the block, one does not.
  let calls = 0;
  const counting = {
    verify: (k: Uint8Array, m: Uint8Array, s: Uint8Array) => (calls++, nodeEd25519Verify(k, m, s)),
  };
  const r = new Replicas([[""], [""]]);
  const fresh = r.ledgers[1]!;
  const admitting = new Ledger(
    HistoryTree.genesis(Partition.whole(), 64, systemGenesisRecords()),
    createExecutor(),
    counting,
    undefined,
    {
      chain: r.chain,
      height: 0n,
      decided: [],
      ...genesisBook(systemGenesisRecords()),
      index: genesisEntries(systemGenesisRecords()),
    },
  );
  r.ledgers.push(admitting);
  const alice = new TestClient(r);
  agree(r.block([alice.createDomain("bank")]));
  const good = alice.createDomain("shop");
  const bad = alice.createDomain("mall");
  bad[bad.length - 1]! ^= 1;
  calls = 0;
  assert.equal(admitting.admit(good).ok, true);
  assert.equal(admitting.admit(bad).ok, false);
  assert.equal(calls, 2);
  // The same bytes again (a resubmission) or gossiped by a peer: the signature is not verified
  // again; a bad one is checked, and refused, each time.
  assert.equal(admitting.admit(good).ok, true);
  assert.equal(admitting.signedAlright(good), true);
  assert.equal(admitting.signedAlright(bad), false);
  assert.equal(calls, 3);
  const out = agree(r.block([good, bad, good]));
  assert.deepEqual(out.map(status), ["accepted", "bad-signature", "replay"]);
  // good: verified at admission only; bad: refused at the door twice, checked again; the copy of
  // good is not verified at all (its id was decided by then, and only verified requests are decided).
  assert.equal(calls, 4);
  assert.equal(fresh.history.now, admitting.history.now);
});

test("a request signed for another chain is refused bad-signature, at the door and in a block", () => {
  const r = new Replicas([[""], ["0"], ["1"]]);
  const alice = new TestClient(r);
  const good = alice.createDomain("bank");
  // The same body, by the same key, signed for a chain whose records (and so roots) are the same.
  const body = decodeAnyRequest(good).body;
  const other = sha256(r.chain);
  const foreign = assembleSignedRequest(body, signWith(alice.key, requestSigningMessage(other, body)));
  const door = r.full.admit(foreign);
  assert.equal(door.ok, false);
  assert.equal(door.ok ? "" : door.reason, "bad-signature");
  assert.deepEqual(agree(r.block([foreign])).map(status), ["bad-signature"]);
  assert.deepEqual(agree(r.block([good])).map(status), ["accepted"], "signed for this chain, it is taken");
});

test("a rejection whose message would pass the receipt's bound is cut to it, and its receipt decodes", () => {
  const r = new Replicas([[""], ["0"], ["1"]]);
  const owner = new TestClient(r);
  agree(r.block([owner.createDomain("d")]));
  // An operation that writes a key it did not touch: the refusal quotes the key, every control
  // character escaped (6 bytes each), over three times the receipt's bound.
  const key = "d/" + "\u0001".repeat(1020);
  const blob = new Writer()
    .varint(1)
    .string(key)
    .u8(1)
    .bytes(new Uint8Array([1]))
    .finish();
  agree(r.block([owner.baseRule("d", [["d/op", resultModule(blob)]])]));
  const [receipt] = agree(r.block([owner.request("d/op", ["d/a"], new Uint8Array())]));
  assert.equal(status(receipt!), "write-not-touched");
  const message = receipt!.status === "rejected" ? receipt!.message : "";
  assert.ok(new TextEncoder().encode(message).length <= MAX_RECEIPT_MESSAGE_BYTES);
  assert.ok(message.endsWith("…") && message.startsWith("write to "), message.slice(0, 40));
  assert.deepEqual(decodeReceipt(encodeReceipt(receipt!)), receipt, "the node's receipt decodes back");
});

test("a block applied in steps has the receipts and root of one pass", () => {
  const r = new Replicas([[""], ["0"], ["1"]]);
  const alice = new TestClient(r);
  agree(r.block([alice.createDomain("bank")]));
  const requests = ["a", "b", "c", "d", "e"].map((d) => alice.createDomain(`shop${d}`));
  requests.splice(2, 0, requests[1]!); // a replay inside the block
  r.height++;
  const whole = r.ledgers[0]!.applyBlock(r.height, requests);
  const outs = [whole];
  for (const [i, l] of r.ledgers.slice(1).entries()) {
    const run = l.startBlock(r.height, requests);
    assert.throws(() => l.startBlock(r.height, requests), /already being applied/);
    assert.throws(() => run.finish(), /not fully applied/);
    while (!run.done) run.step(i + 1);
    outs.push(run.finish());
  }
  assert.deepEqual(agree(outs).map(status), [
    "accepted",
    "accepted",
    "replay",
    "accepted",
    "accepted",
    "accepted",
  ]);
});

test("awaitsBlock: a request checked at the door with its lifetime open, until a block carries it", () => {
  const r = new Replicas([[""]]);
  const node = r.ledgers[0]!;
  const alice = new TestClient(r);
  agree(r.block([alice.createDomain("bank")]));
  const admitted = alice.createDomain("shop");
  const gossiped = alice.createDomain("mall");
  const expired = alice.request(".system/none", [], new Uint8Array(), { validUntil: r.height });
  const id = (b: Uint8Array) => sha256(b);
  assert.equal(node.awaitsBlock(id(admitted)), false, "never seen");
  assert.equal(node.admit(admitted).ok, true);
  assert.equal(node.signedAlright(gossiped), true);
  // Past its lifetime: it may have been decided long ago, its receipt stored.
  assert.equal(node.signedAlright(expired), true);
  assert.equal(node.awaitsBlock(id(admitted)), true);
  assert.equal(node.awaitsBlock(id(gossiped)), true);
  assert.equal(node.awaitsBlock(id(expired)), false);
  agree(r.block([admitted]));
  assert.equal(node.awaitsBlock(id(admitted)), false, "its block carried it");
  assert.equal(node.awaitsBlock(id(gossiped)), true);
  // A late copy of a decided request is not taken for one awaiting its block.
  assert.equal(node.signedAlright(admitted), true);
  assert.equal(node.awaitsBlock(id(admitted)), false);
});
