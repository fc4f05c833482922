// Key histories come back to a node that lost its disk (n = 4, k = 3; nodes snapshot every 4
// heights): node 3 syncs from a snapshot, so it stores its keys' changes from then on only, and
// then reads the older ones back from the other holders. Node 1, a holder of some of them, leaves
// the second change out of every history page it serves: its pages do not chain to node 3's own
// index, node 1 is named in a warning, and the other holder is asked. In the end node 3 alone gives
// every key it holds with its whole history. (With k = 3 the snapshot's tree part, from one
// holder, leaves node 3 pieces to take from the others, as the k = 2 snapshot-sync test does not.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { joined, writeKeys } from "./sync-checks.js";
import { withSdkCluster } from "./sdk-cluster.js";
import { keyPath } from "../../node/store/core/path.js";
import { Partition } from "../../node/store/core/partition.js";
import { utf8 } from "../../node/common/bytes.js";

const WIPED = 3;
const LIAR = 1;

test(
  "a re-synced node reads its keys' older histories back, around a holder that drops changes",
  { timeout: 300_000 },
  async () => {
    process.env["ARBOR_SNAPSHOT_INTERVAL"] = "4";
    try {
      await withSdkCluster(
        { n: 4, k: 3, tickMs: 50, byzantine: { [LIAR]: "drop-history-change" } },
        async (c, client) => {
          await client.createDomain("hb");
          const keys = await writeKeys(client, "hb", 0, 3);
          // Two more changes of every key: histories of three changes.
          for (const round of [2, 3])
            for (let i = 0; i < keys.length; i += 40)
              await client.writeRecords(
                "hb",
                keys.slice(i, i + 40).map((k) => [k, utf8(`value ${round} of ${k}`)] as const),
              );
          await c.waitFor(async () => /snapshot written/.test(c.logsOf(0)), 30_000, "a snapshot");

          await c.kill(WIPED);
          rmSync(join(c.dir, `node${WIPED}`), { recursive: true, force: true });
          c.start(WIPED, {}, ["--join"]);
          // Blocks after the restart: a joining node learns from them that it has caught up.
          await writeKeys(client, "hb", 3, 2);
          await joined(c, WIPED);
          assert.match(c.logsOf(WIPED), /store installed from a snapshot/);
          await c.waitFor(
            async () => /"msg":"key histories back-filled"[^\n]*"keys":[1-9]/.test(c.logsOf(WIPED)),
            60_000,
            "histories back-filled",
          );
          const log = c.logsOf(WIPED);
          assert.match(log, /a holder's history page does not verify[^\n]*"peer":1\b/, "the liar is named");
          assert.match(log, /"msg":"key histories back-filled"[^\n]*"left":0\b/, "nothing left");

          const mine = new Partition(c.genesis.nodes[WIPED]!.prefixes);
          const held = keys.filter((k) => mine.holdsKey(keyPath(k)));
          assert.ok(held.length > 40, `${held.length} keys in node ${WIPED}'s partition`);
          for (const k of held) {
            const own = await client.history(k, { node: WIPED });
            assert.deepEqual(
              [own.changes.map((v) => v.number), own.next],
              [[3n, 2n, 1n], null],
              `node ${WIPED}'s history of ${k}`,
            );
            assert.equal(
              new TextDecoder().decode(own.changes[1]!.value),
              `value 2 of ${k}`,
              "a value the retention still keeps",
            );
          }
        },
      );
    } finally {
      delete process.env["ARBOR_SNAPSHOT_INTERVAL"];
    }
  },
);
