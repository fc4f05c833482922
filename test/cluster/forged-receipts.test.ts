// A node that lies about outcomes: every receipt it serves says the opposite of what its block
// decided (an accepted transfer "rejected: record-changed", which would make a client sign it
// again), signed by it when a signature is asked for. Clients that trust a receipt through the
// certified header, and clients that take f+1 equal signed receipts, both submit to it in turn,
// and neither is misled: every transfer's outcome is the one applied, exactly once, and the
// balances add up to the money minted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArborClient } from "../../client/index.js";
import { Bank, loadBankingOps } from "../../examples/banking/bank.js";
import { decodeReceipt } from "../../node/ledger/receipt.js";
import { withSdkCluster } from "./sdk-cluster.js";
import { assertBooks, TransferStream } from "./transfer-stream.js";

const LIAR = 3;
const ACCOUNTS = 6;
const MINTED = 1000n;
/** Accepted transfers each client must see: with 4 nodes taking turns, the liar gets a quarter. */
const TRANSFERS = 24;

async function run(stream: TransferStream, n: number): Promise<void> {
  const t0 = Date.now();
  stream.start(2);
  try {
    while (stream.accepted("start") < n) {
      assert.ok(Date.now() - t0 < 120_000, `only ${stream.accepted("start")} of ${n} transfers accepted`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await stream.stop();
  }
}

test(
  "a node forging every receipt it serves misleads neither header-trusting nor f+1-signature clients",
  { timeout: 300_000 },
  async () => {
    await withSdkCluster(
      { n: 4, k: 2, tickMs: 20, byzantine: { [LIAR]: "forge-receipt" } },
      async (c, client) => {
        const bank = new Bank(client);
        await bank.setup(loadBankingOps());
        const names = Array.from({ length: ACCOUNTS }, (_, i) => `r${i}`);
        let last;
        for (const n of names) {
          await bank.openAccount(n);
          last = await bank.mint(n, MINTED);
        }

        // The liar lies: asked directly for the receipt of the last mint, it says rejected.
        assert.ok(last && last.receipt.status === "accepted");
        await c.waitFor(
          async () => (await c.clients[LIAR]!.status()).height >= last.receipt.height,
          30_000,
          "the liar to apply the mint",
        );
        const told = await c.clients[LIAR]!.waitReceipt(last.receipt.requestId, 20_000, true);
        assert.equal(decodeReceipt(told.receipt).status, "rejected");

        const header = new TransferStream(client, bank, names);
        await run(header, TRANSFERS);

        const early = await ArborClient.connect({ genesis: c.genesis, key: client.key, earlyReceipts: true });
        try {
          const signed = new TransferStream(early, new Bank(early), names);
          await run(signed, TRANSFERS);

          await assertBooks(bank, names, MINTED, [header, signed]);
        } finally {
          early.close();
        }
      },
    );
  },
);
