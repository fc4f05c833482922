// A node that was down while its peers pruned the blocks it missed (the retention shortened, n = 4,
// k = 2, snapshots every 4 heights) cannot catch up block by block. Restarted as it was, without
// --join, it finds that f+1 peers keep no block at or below its next height, deletes its
// databases (keeping its safety state aside), installs a vouched snapshot and catches up from it:
// it ends at the others' root and alone proves every key of its partition, those written while it
// was down included.
import { test } from "node:test";
import assert from "node:assert/strict";
import { joined, provesAlone, sameRoot, writeKeys } from "./sync-checks.js";
import { withSdkCluster } from "./sdk-cluster.js";
import { keyPath } from "../../node/store/core/path.js";
import { Partition } from "../../node/store/core/partition.js";
import { utf8 } from "../../node/common/bytes.js";

const DOWN = 3;
const ENV = { ARBOR_SNAPSHOT_INTERVAL: "4", ARBOR_BLOCK_RETENTION: "8", ARBOR_TOB_RETAINED_BLOCKS: "64" };

test(
  "a node behind every peer's block retention re-syncs from a snapshot by itself",
  { timeout: 420_000 },
  async () => {
    Object.assign(process.env, ENV);
    try {
      await withSdkCluster({ n: 4, k: 2, tickMs: 50 }, async (c, client) => {
        await client.createDomain("gone");
        const keys = await writeKeys(client, "gone", 0, 4);
        await sameRoot(c, DOWN, 0, "node 3 at the others' root before it stops");
        const left = (await c.clients[DOWN]!.status()).height;
        await c.kill(DOWN);

        // One height per write, until the three others keep no block node 3 needs.
        let i = 0;
        await c.waitFor(
          async () => {
            for (let j = 0; j < 20; j++, i++)
              await client.writeRecords("gone", [[`gone/t${i}`, utf8(`t ${i}`)]]);
            const st = await Promise.all([0, 1, 2].map((id) => c.clients[id]!.status()));
            return st.every((s) => s.oldestBlock > left + 1n);
          },
          300_000,
          "the others to prune the blocks after node 3's height",
        );
        const more = await writeKeys(client, "gone", 4, 2);

        c.start(DOWN);
        await c.waitFor(
          async () => /behind every peer's block retention/.test(c.logsOf(DOWN)),
          60_000,
          "the finding",
        );
        await joined(c, DOWN);
        const log = c.logsOf(DOWN);
        const installed = /"msg":"store installed from a snapshot"[^\n]*"height":"(\d+)"/.exec(log);
        assert.ok(installed, "installed from a snapshot");
        assert.ok(BigInt(installed[1]!) > left + 1n, `the snapshot's height ${installed[1]} is past ${left}`);

        await writeKeys(client, "gone", 6, 1);
        await sameRoot(c, DOWN, 0, "the re-synced node at the others' root");
        const mine = new Partition(c.genesis.nodes[DOWN]!.prefixes);
        const held = [...keys, ...more].filter((k) => mine.holdsKey(keyPath(k)));
        assert.ok(held.length > 100, `${held.length} keys in node ${DOWN}'s partition`);
        await provesAlone(c, DOWN, held);
      });
    } finally {
      for (const k of Object.keys(ENV)) delete process.env[k];
    }
  },
);
