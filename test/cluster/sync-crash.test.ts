// kill -9 while a node syncs, on a real cluster (n = 4, k = 3), twice. Taking on prefixes: node 0,
// given node 3's prefixes by the repair after its removal, dies (failpoint `graft`) right after
// grafting its second chunk, before any commit holds it; restarted clean, it finds what it still
// lacks, fetches it and then alone answers reads of every key there with full proofs against the
// root it signs, which is the others' root. Replaying: node 1 loses its disk, is started with
// --join and dies (failpoint `after-commit`) in the middle of its replay; restarted with --join, it
// goes on from the height it had committed, not from the genesis, catches up and serves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { provesAlone, sameRoot, writeKeys } from "./sync-checks.js";
import { withSdkCluster } from "./sdk-cluster.js";
import { keyFromSeed } from "../../client/index.js";
import { keyPath } from "../../node/store/core/path.js";
import { Partition } from "../../node/store/core/partition.js";

/** The prefixes node 0 gains when node 3 leaves (assignPrefixes(4, 3), then the repair). */
const GAINED = new Partition(["0011", "0111", "1011", "1111"]);

test(
  "a node killed while taking on prefixes or while replaying resumes and ends with the others' root",
  { timeout: 300_000 },
  async () => {
    await withSdkCluster({ n: 4, k: 3, tickMs: 50 }, async (c, client) => {
      await client.createDomain("sync");
      const keys = await writeKeys(client, "sync", 0, 16);
      const gained = keys.filter((k) => GAINED.holdsKey(keyPath(k)));
      assert.ok(gained.length > 100, `${gained.length} keys under the gained prefixes`);

      // Node 0 runs armed: it dies right after its second graft.
      await c.kill(0);
      c.start(0, { ARBOR_FAILPOINT: "graft:2" });
      await c.waitFor(
        async () => (await c.clients[0]!.status().catch(() => null)) !== null,
        30_000,
        "node 0",
      );
      await c.kill(3);
      const approvers = c.keys.map((k) => keyFromSeed(k.seed));
      const removed = await client.changeMembership({ kind: "remove", id: 3 }, { approvers });
      assert.equal(removed.receipt.status, "accepted");
      await c.exited(0, 60_000);
      assert.match(c.logsOf(0), /failpoint graft reached/);
      assert.doesNotMatch(c.logsOf(0), /partition acquired/, "killed before it held the prefixes");

      // Restarted clean while the others go on: it fetches what the crash lost and what it lacked.
      c.start(0);
      const more = await writeKeys(client, "sync", 16, 2);
      await c.waitFor(
        async () => /partition acquired/.test(c.logsOf(0)),
        120_000,
        "node 0 to acquire its prefixes",
      );
      assert.equal((await c.clients[0]!.status()).acquiringPieces, 0n);
      await provesAlone(c, 0, [...gained, ...more.filter((k) => GAINED.holdsKey(keyPath(k)))]);
      await sameRoot(c, 0, 1, "nodes 0 and 1 at one root after the acquisition");

      // Node 1 loses its disk and dies in the middle of its replay.
      const before = (await c.clients[1]!.status()).height;
      await c.kill(1);
      rmSync(join(c.dir, "node1"), { recursive: true, force: true });
      c.start(1, { ARBOR_FAILPOINT: "after-commit:10" }, ["--join"]);
      await c.exited(1, 60_000);
      assert.match(c.logsOf(1), /failpoint after-commit reached/);
      c.start(1, {}, ["--join"]);
      await c.waitFor(
        async () => {
          const st = await c.clients[1]!.status().catch(() => null);
          return st !== null && !st.joining && st.acquiringPieces === 0n;
        },
        120_000,
        "node 1 to catch up again",
      );
      // The restart went on from the stored blocks: its log names the height it started at.
      const started = [...c.logsOf(1).matchAll(/"msg":"node started[^\n]*"height":"(\d+)"/g)].map(
        (m) => m[1],
      );
      assert.ok(started.length >= 2, "two starts logged");
      assert.ok(Number(started.at(-1)) >= 5, `restarted at height ${started.at(-1)}, not from the genesis`);
      await writeKeys(client, "sync", 18, 1);
      await sameRoot(c, 1, 2, "the replayed node at the others' root");
      assert.ok((await c.clients[1]!.status()).height > before);
      await provesAlone(c, 1, keys.slice(0, 64));
    });
  },
);
