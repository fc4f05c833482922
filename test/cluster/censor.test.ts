// A node that admits requests and drops them (a censor) cannot stop a write: the SDK hands each
// request to one node and, while no receipt comes, to one more node every SUBMIT_FALLBACK_MS.
// Requests rotate over the nodes, so some of these writes are handed to the censor first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withSdkCluster } from "./sdk-cluster.js";
import { Bank, loadBankingOps } from "../../examples/banking/bank.js";

test(
  "a node that admits writes and drops them delays them and cannot censor them",
  { timeout: 240_000 },
  async () => {
    await withSdkCluster({ n: 4, k: 4, byzantine: { 0: "drop-requests" } }, async (_c, client) => {
      const bank = new Bank(client);
      await bank.setup(loadBankingOps());
      await bank.openAccount("a");
      await bank.openAccount("b");
      await bank.mint("a", 100n);
      // Eight sequential writes: whatever the rotation, several start at node 0.
      for (let i = 0; i < 8; i++) await bank.transfer("a", "b", 1n);
      const after = await bank.balances(["a", "b"]);
      assert.equal(after.accounts.get("a")!.balance, 92n);
      assert.equal(after.accounts.get("b")!.balance, 8n);
    });
  },
);
