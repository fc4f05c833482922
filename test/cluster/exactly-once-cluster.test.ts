// Exactly once on a real cluster: a transfer's signed bytes sent again after the state has come
// back to the one its proof was read against — past the history window T and past the broadcast's
// duplicate window (TOB_DEDUP_WINDOW heights), and after every node was killed with SIGKILL and
// restarted — are refused as a replay and move no money.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "./cluster.js";
import { Signer, holders } from "./requests.js";
import { opBytes } from "../ledger/harness.js";
import { decodeReceipt, type Receipt } from "../../node/ledger/receipt.js";
import { Writer } from "../../node/common/codec.js";
import { bytesEqual, toHex } from "../../node/common/bytes.js";
import { decodeProof } from "../../node/store/core/proof-codec.js";
import { provenState } from "../../node/store/core/proof.js";
import { keyPath } from "../../node/store/core/path.js";
import { TOB_DEDUP_WINDOW } from "../../node/common/limits.js";

const acct = (n: string) => `bank/accounts/${n}`;
const status = (r: Receipt) => (r.status === "accepted" ? "accepted" : r.reason);

async function submit(c: Cluster, req: Uint8Array, via = 0): Promise<Receipt> {
  const ack = await c.clients[via]!.execute(req);
  assert.ok(ack.accepted, `not admitted: ${ack.reason} ${ack.message}`);
  return decodeReceipt((await c.clients[via]!.waitReceipt(ack.requestId)).receipt);
}

async function balance(c: Cluster, name: string): Promise<bigint> {
  const h = holders(c, acct(name))[0]!;
  const r = await c.clients[h]!.get([acct(name)], false);
  const s = provenState(decodeProof(r.proof).root, keyPath(acct(name)));
  assert.ok(s.covered && s.present && s.value);
  return new DataView(s.value.buffer, s.value.byteOffset).getBigUint64(32);
}

test("a replay after the history and duplicate windows, and after a full kill -9, is refused", async () => {
  const c = await Cluster.create({ n: 4, k: 2, T: 4 });
  try {
    c.startAll();
    await c.ready();
    const bank = new Signer(c);
    assert.equal(status(await submit(c, await bank.createDomain("bank"))), "accepted");
    const deploy = await bank.baseRule("bank", [
      ["bank/open", opBytes("banking/open.wasm")],
      ["bank/mint", opBytes("banking/mint.wasm")],
      ["bank/transfer", opBytes("banking/transfer.wasm")],
    ]);
    assert.equal(status(await submit(c, deploy)), "accepted");
    for (const n of ["a", "b"])
      assert.equal(
        status(
          await submit(c, await bank.request("bank/open", [acct(n)], new Writer().string(acct(n)).finish())),
        ),
        "accepted",
      );
    const mint = await bank.request(
      "bank/mint",
      ["bank/.owner", acct("a")],
      new Writer().string(acct("a")).varint(100).finish(),
    );
    assert.equal(status(await submit(c, mint)), "accepted");

    const transfer = (from: string, to: string) =>
      bank.request(
        "bank/transfer",
        [acct("a"), acct("b")],
        new Writer().string(acct(from)).string(acct(to)).varint(10).finish(),
      );
    const t = await transfer("a", "b");
    const first = await submit(c, t, 1);
    assert.equal(status(first), "accepted");
    assert.equal(status(await submit(c, await transfer("b", "a"))), "accepted");
    const start = (await c.clients[0]!.status()).root;
    // Back and forth until the chain is past both windows; the state ends where t's proof read it.
    while ((await c.clients[0]!.status()).height <= first.height + BigInt(TOB_DEDUP_WINDOW) + 4n) {
      assert.equal(status(await submit(c, await transfer("a", "b"), 2)), "accepted");
      assert.equal(status(await submit(c, await transfer("b", "a"), 3)), "accepted");
    }
    assert.ok(bytesEqual((await c.clients[0]!.status()).root, start), "the state is back to t's");

    for (let i = 0; i < 4; i++) await c.kill(i, "SIGKILL");
    c.startAll();
    await c.ready();
    for (const via of [0, 1, 2, 3]) {
      const ack = await c.clients[via]!.execute(t);
      assert.equal(ack.accepted, false, `node ${via} admitted the replay`);
      assert.equal(ack.reason, "replay", `node ${via}: ${ack.reason} ${ack.message}`);
      assert.equal(toHex(ack.requestId), toHex(first.requestId));
    }
    assert.equal(await balance(c, "a"), 100n);
    assert.equal(await balance(c, "b"), 0n);
  } finally {
    await c.stop();
  }
});
