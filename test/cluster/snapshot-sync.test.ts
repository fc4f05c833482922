// Snapshot state sync on a real cluster (n = 4, k = 2; nodes snapshot every 4 heights): node 3
// loses its disk and is started with --join. It installs its store from a snapshot its peers vouch
// for (not by replaying from the genesis), applies only the blocks after it, takes what its tree
// part lacked of its partition from the holders, and then alone proves every key of its partition
// with its value against the root it signs, which is the others' root. Killed (failpoint
// `snapshot-install`) in the middle of installing, it starts over and gets there too. Nodes 0 and 2
// serve forged snapshot pages under their honest signed statements (otherwise they behave): the
// common part from node 0 (first asked) fails its digest and is then taken from each node alone,
// node 0 named; the tree part of node 2 (the other holder of node 3's prefixes, so the first asked
// for it) fails the certified root and is named; node 1's are used. Once it serves, it reads the
// history of its keys from before the snapshot back from the other holders.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { joined, provesAlone, sameRoot, writeKeys } from "./sync-checks.js";
import { withSdkCluster } from "./sdk-cluster.js";
import { keyPath } from "../../node/store/core/path.js";
import { Partition } from "../../node/store/core/partition.js";

const WIPED = 3;

test(
  "a node that lost its disk syncs from a vouched snapshot, even when killed while installing it",
  { timeout: 300_000 },
  async () => {
    process.env["ARBOR_SNAPSHOT_INTERVAL"] = "4";
    try {
      await withSdkCluster(
        { n: 4, k: 2, tickMs: 50, byzantine: { 0: "forge-snapshot", 2: "forge-snapshot" } },
        async (c, client) => {
          await client.createDomain("snap");
          const keys = await writeKeys(client, "snap", 0, 12);
          await c.waitFor(async () => /snapshot written/.test(c.logsOf(0)), 30_000, "a snapshot");

          await c.kill(WIPED);
          rmSync(join(c.dir, `node${WIPED}`), { recursive: true, force: true });
          c.start(WIPED, { ARBOR_FAILPOINT: "snapshot-install:1" }, ["--join"]);
          await c.exited(WIPED, 60_000);
          assert.match(c.logsOf(WIPED), /failpoint snapshot-install reached/);
          const more = await writeKeys(client, "snap", 12, 2);

          c.start(WIPED, {}, ["--join"]);
          await joined(c, WIPED);
          const log = c.logsOf(WIPED);
          assert.match(log, /a snapshot install was interrupted/);
          const installed = /"msg":"store installed from a snapshot"[^\n]*"height":"(\d+)"/.exec(log);
          assert.ok(installed, "installed from a snapshot");
          assert.ok(Number(installed[1]) >= 4, `the snapshot's height ${installed[1]}`);
          assert.match(log, /"msg":"node started[^\n]*"height":"[1-9]/, "started at the snapshot's height");
          assert.match(log, /the common part does not hash to the vouched digest; asking each node alone/);
          assert.match(log, /a peer's common part does not hash to the vouched digest","node":3,"peer":0/);
          assert.match(log, /tree part (was refused|does not hash to the certified root)","node":3,"peer":2/);

          await writeKeys(client, "snap", 14, 1);
          await sameRoot(c, WIPED, 0, "the synced node at the others' root");
          // It writes snapshots of its own: the consensus position it installed is whole.
          await writeKeys(client, "snap", 15, 6);
          await c.waitFor(
            async () =>
              /"msg":"snapshot written"/.test(c.logsOf(WIPED).split("store installed from a snapshot")[1]!),
            30_000,
            "a snapshot written by the synced node",
          );
          assert.doesNotMatch(c.logsOf(WIPED), /snapshot failed/);
          const mine = new Partition(c.genesis.nodes[WIPED]!.prefixes);
          const held = [...keys, ...more].filter((k) => mine.holdsKey(keyPath(k)));
          assert.ok(held.length > 100, `${held.length} keys in node ${WIPED}'s partition`);
          await provesAlone(c, WIPED, held);
          // The past before the snapshot stays with the other nodes: the synced node sends a
          // change feed reader elsewhere, and a key's history is still whole through the SDK.
          await assert.rejects(client.node(WIPED).changes(1n, 1, 0), /changes\/unavailable/);
          const page = await client.history(keys[0]!);
          assert.equal(page.changes.length, 1, `the history of ${keys[0]}`);
          // Except the histories of its own keys: it reads them back from the other holders, checked
          // against its index, and then gives each one whole by itself.
          await c.waitFor(
            async () => /"msg":"key histories back-filled"[^\n]*"keys":[1-9]/.test(c.logsOf(WIPED)),
            60_000,
            "the synced node's key histories back-filled",
          );
          for (const k of held.filter((x) => keys.includes(x))) {
            const own = await client.history(k, { node: WIPED });
            assert.deepEqual(
              [own.changes.map((v) => v.number), own.next],
              [[1n], null],
              `node ${WIPED}'s history of ${k}`,
            );
          }
        },
      );
    } finally {
      delete process.env["ARBOR_SNAPSHOT_INTERVAL"];
    }
  },
);
