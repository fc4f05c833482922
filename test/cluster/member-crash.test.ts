// kill -9 in the gap between a membership change and the consensus hearing of it (failpoint
// `member-commit`): node 1's store has committed the block that adds node 4, its consensus core has
// not been given the new validator set yet. Restarted, node 1 must take the change from what it
// stored: past the new set's first height, with node 3 killed, the cluster commits only if nodes
// 0, 1, 2 and the new node 4 all count the same five validators and node 1 accepts node 4's votes.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster } from "./cluster.js";
import { freePort } from "./cluster.js";
import { withSdkCluster } from "./sdk-cluster.js";
import { keyFromSeed, type ArborClient } from "../../client/index.js";
import { generateKeyPair } from "../../node/keys.js";
import { assignPrefixes } from "../../node/ledger/genesis.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { TOB_DELIVER_WINDOW } from "../../node/common/limits.js";

async function write(client: ArborClient, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++)
    await client.writeRecords("club", [[`club/k${i}`, new Uint8Array([i & 0xff])]]);
}

async function agree(c: Cluster, ids: readonly number[], what: string): Promise<void> {
  await c.waitFor(
    async () => {
      const st = await Promise.all(ids.map((i) => c.clients[i]!.status()));
      return st.every((s) => s.height === st[0]!.height && bytesEqual(s.root, st[0]!.root));
    },
    60_000,
    what,
  );
}

test(
  "a node killed between committing a membership change and telling its consensus takes it from its store",
  { timeout: 300_000 },
  async () => {
    await withSdkCluster({ n: 4, k: 2, tickMs: 50 }, async (c, client) => {
      await client.createDomain("club");
      await c.kill(1);
      c.start(1, { ARBOR_FAILPOINT: "member-commit:1" });
      await c.waitFor(
        async () => (await c.clients[1]!.status().catch(() => null)) !== null,
        30_000,
        "node 1",
      );
      await write(client, 0, 3);

      const key = generateKeyPair();
      const address = `127.0.0.1:${await freePort()}`;
      const prefixes = assignPrefixes(5, 2)[4]!;
      const added = await client.changeMembership(
        { kind: "add", node: { id: 4, publicKey: key.publicKey, address, prefixes } },
        { approvers: c.keys.map((k) => keyFromSeed(k.seed)) },
      );
      await c.exited(1, 60_000);
      assert.match(c.logsOf(1), /failpoint member-commit reached/);
      c.start(1);
      c.addNode(4, key, address, prefixes);
      c.start(4, {}, ["--join"]);
      // Past the first height of the five-validator set.
      const from = added.receipt.height + BigInt(TOB_DELIVER_WINDOW) + 1n;
      await write(client, 10, TOB_DELIVER_WINDOW + 4);
      await c.waitFor(
        async () => (await c.clients[0]!.status()).height > from,
        60_000,
        "the new set in force",
      );
      await agree(c, [0, 1, 2, 3, 4], "all five at one root");

      // Four of five must vote now: node 1 among them, counting node 4's votes.
      await c.kill(3);
      const before = (await c.clients[1]!.status()).height;
      await write(client, 100, 5);
      await agree(c, [0, 1, 2, 4], "nodes 0, 1, 2 and 4 at one root with node 3 down");
      assert.ok((await c.clients[1]!.status()).height > before, "node 1 went on committing");
      const got = await client.get(["club/k104"]);
      assert.deepEqual(got.get("club/k104"), new Uint8Array([104]));
    });
  },
);
