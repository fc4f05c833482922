// Exactly once on a real cluster: a transfer's signed bytes sent again after the state has come
// back to the one its proof was read against — past the history window T and past the broadcast's
// duplicate window (TOB_DEDUP_WINDOW heights), and after every node was killed with SIGKILL and
// restarted — are refused as a replay and move no money.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "./cluster.js";
import { Signer, bank, deployBank, provenBalance, receiptStatus, submitVia as submit } from "./requests.js";
import { bytesEqual, toHex } from "../../node/common/bytes.js";
import { TOB_DEDUP_WINDOW } from "../../node/common/limits.js";

test("a replay after the history and duplicate windows, and after a full kill -9, is refused", async () => {
  const c = await Cluster.create({ n: 4, k: 2, T: 4 });
  try {
    c.startAll();
    await c.ready();
    const owner = new Signer(c);
    await deployBank(owner, (r) => submit(c, r));
    for (const n of ["a", "b"])
      assert.equal(receiptStatus(await submit(c, await owner.call(bank.open(n)))), "accepted");
    assert.equal(receiptStatus(await submit(c, await owner.call(bank.mint("a", 100n)))), "accepted");

    const transfer = (from: string, to: string) => owner.call(bank.transfer(from, to, 10n));
    const t = await transfer("a", "b");
    const first = await submit(c, t, 1);
    assert.equal(receiptStatus(first), "accepted");
    assert.equal(receiptStatus(await submit(c, await transfer("b", "a"))), "accepted");
    const start = (await c.clients[0]!.status()).root;
    // Back and forth until the chain is past both windows; the state ends where t's proof read it.
    let last = first.height;
    while ((await c.clients[0]!.status()).height <= first.height + BigInt(TOB_DEDUP_WINDOW) + 4n) {
      assert.equal(receiptStatus(await submit(c, await transfer("a", "b"), 2)), "accepted");
      const back = await submit(c, await transfer("b", "a"), 3);
      assert.equal(receiptStatus(back), "accepted");
      last = back.height;
    }
    // The receipt may come before node 0 applied its block: compare once it has.
    await c.waitFor(
      async () => (await c.clients[0]!.status()).height >= last,
      20_000,
      "node 0 applied the last transfer",
    );
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
    assert.equal(await provenBalance(c, "a"), 100n);
    assert.equal(await provenBalance(c, "b"), 0n);
  } finally {
    await c.stop();
  }
});
