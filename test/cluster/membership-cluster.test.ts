// Membership changes on a real cluster under a stream of writes: a 5th node is added by a MEMBER
// request approved by a validator quorum, starts from the genesis with its record in its config,
// catches up, serves and votes (the cluster keeps committing with one genesis node down, which
// 5 validators can only do with the new one voting); then the dead node is removed and its
// prefixes dealt to the others until k hold each; then a node's data directory is deleted and it
// comes back by replaying the chain. Throughout, every running node agrees on the root at equal
// heights and no accepted write is lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "./cluster.js";
import { freePort } from "./cluster.js";
import { withSdkCluster } from "./sdk-cluster.js";
import { keyFromSeed, type ArborClient } from "../../client/index.js";
import { generateKeyPair } from "../../node/keys.js";
import { assignPrefixes } from "../../node/ledger/genesis.js";
import { bytesEqual, toHex } from "../../node/common/bytes.js";
import { TOB_DELIVER_WINDOW } from "../../node/common/limits.js";

/** Waits until the nodes `ids` are at one height with one root (others may be down). */
async function agree(c: Cluster, ids: readonly number[], what: string): Promise<bigint> {
  let height = 0n;
  await c.waitFor(
    async () => {
      const st = await Promise.all(ids.map((i) => c.clients[i]!.status()));
      height = st[0]!.height;
      return st.every((s) => s.height === st[0]!.height && bytesEqual(s.root, st[0]!.root));
    },
    60_000,
    what,
  );
  return height;
}

async function writeMany(
  client: ArborClient,
  from: number,
  n: number,
  written: Map<string, number>,
): Promise<void> {
  for (let i = from; i < from + n; i++) {
    await client.writeRecords("club", [[`club/k${i}`, new Uint8Array([i & 0xff])]]);
    written.set(`club/k${i}`, i & 0xff);
  }
}

test(
  "a node is added, votes, a dead member is removed and a wiped node re-syncs",
  { timeout: 300_000 },
  async () => {
    await withSdkCluster({ n: 4, k: 2, tickMs: 50 }, async (c, client) => {
      const written = new Map<string, number>();
      await client.createDomain("club");
      await writeMany(client, 0, 5, written);
      const approvers = c.keys.map((k) => keyFromSeed(k.seed));

      // Add node 4 with the share `arbor init` would give the 5th of 5 nodes.
      const key = generateKeyPair();
      const address = `127.0.0.1:${await freePort()}`;
      const prefixes = assignPrefixes(5, 2)[4]!;
      await assert.rejects(
        client.changeMembership(
          { kind: "add", node: { id: 4, publicKey: key.publicKey, address, prefixes } },
          { approvers: approvers.slice(0, 2) },
        ),
        /member-unauthorised/,
      );
      const added = await client.changeMembership(
        { kind: "add", node: { id: 4, publicKey: key.publicKey, address, prefixes } },
        { approvers },
      );
      const decidedAt = added.receipt.height;
      const { records } = await client.memberRecords();
      assert.deepEqual(
        records.map((r) => r.id),
        [0, 1, 2, 3, 4],
      );
      c.addNode(4, key, address, prefixes);
      c.start(4);
      await writeMany(client, 5, TOB_DELIVER_WINDOW + 4, written);
      await agree(c, [0, 1, 2, 3, 4], "node 4 caught up with the others");

      // Past the new set's first height, with node 3 down, 4 of 5 validators must vote: node 4 does.
      const from = decidedAt + BigInt(TOB_DELIVER_WINDOW) + 1n;
      assert.ok((await c.clients[0]!.status()).height > from, "past the height node 4 votes from");
      await c.kill(3);
      await writeMany(client, 100, 5, written);
      await agree(c, [0, 1, 2, 4], "nodes 0, 1, 2 and 4 agree with node 3 down");

      // Remove the dead node: its prefixes go to the others until 2 hold each.
      const removed = await client.changeMembership(
        { kind: "remove", id: 3 },
        { approvers: [...approvers, keyFromSeed(key.seed)] },
      );
      assert.equal(removed.receipt.status, "accepted");
      const after = (await client.memberRecords()).records;
      assert.deepEqual(
        after.map((r) => r.id),
        [0, 1, 2, 4],
      );
      for (let i = 0; i < 64; i++) {
        const cell = i.toString(2).padStart(6, "0");
        const holders = after.filter((r) => r.prefixes.some((p) => cell.startsWith(p))).length;
        assert.ok(holders >= 2, `cell ${cell} held by ${holders}`);
      }
      await writeMany(client, 200, TOB_DELIVER_WINDOW + 4, written);
      await agree(c, [0, 1, 2, 4], "the four members agree after the removal");

      // Node 2 loses its disk: it replays the chain from the genesis and agrees again.
      await c.kill(2);
      rmSync(join(c.dir, "node2"), { recursive: true, force: true });
      c.start(2);
      await writeMany(client, 300, 5, written);
      const h = await agree(c, [0, 1, 2, 4], "the wiped node re-synced");
      assert.ok(h > from);

      // No accepted write is lost.
      const keys = [...written.keys()];
      for (let i = 0; i < keys.length; i += 32) {
        const got = await client.get(keys.slice(i, i + 32));
        for (const k of keys.slice(i, i + 32))
          assert.equal(toHex(got.get(k)!), toHex(new Uint8Array([written.get(k)!])), k);
      }
    });
  },
);
