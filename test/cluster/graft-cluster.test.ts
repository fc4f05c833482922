// Taking on a prefix on a real cluster (n = 4, k = 3): node 3 is stopped and removed, and the
// repair gives its prefixes to nodes 0, 1 and 2, each of which then lacks the records there. They
// fetch them from the other holders in chunks and graft them; node 2 serves forged chunks (a
// record's value altered), so node 0 sees that the label does not match at one height, names node
// 2 in a warning and takes the chunks from node 1. Afterwards node 0 alone answers reads of keys
// under its new prefixes with full proofs against the root it signs, which is the others' root,
// and gives their histories, read back from the other holders.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withSdkCluster } from "./sdk-cluster.js";
import { keyFromSeed } from "../../client/index.js";
import { bytesEqual, utf8 } from "../../node/common/bytes.js";
import { decodeProof } from "../../node/store/core/proof-codec.js";
import { provenState } from "../../node/store/core/proof.js";
import { keyPath } from "../../node/store/core/path.js";
import { Partition } from "../../node/store/core/partition.js";
import { decodeStatement } from "../../node/ledger/statement.js";

/** The prefixes node 0 gains when node 3 leaves (assignPrefixes(4, 3), then the repair). */
const GAINED = new Partition(["0011", "0111", "1011", "1111"]);

test(
  "a repaired node takes on its new prefixes from honest holders and serves them",
  { timeout: 300_000 },
  async () => {
    await withSdkCluster({ n: 4, k: 3, tickMs: 50, byzantine: { 2: "forge-chunk" } }, async (c, client) => {
      await client.createDomain("graft");
      const keys: string[] = [];
      for (let b = 0; b < 16; b++) {
        const batch = Array.from({ length: 40 }, (_, i) => `graft/k${b * 40 + i}`);
        await client.writeRecords(
          "graft",
          batch.map((k) => [k, utf8(`value of ${k}`)] as const),
        );
        keys.push(...batch);
      }
      const gained = keys.filter((k) => GAINED.holdsKey(keyPath(k)));
      assert.ok(gained.length > 100, `${gained.length} keys under the gained prefixes`);

      await c.kill(3);
      const approvers = c.keys.map((k) => keyFromSeed(k.seed));
      const removed = await client.changeMembership({ kind: "remove", id: 3 }, { approvers });
      assert.equal(removed.receipt.status, "accepted");
      const { records } = await client.memberRecords();
      assert.deepEqual(records.find((r) => r.id === 0)!.prefixes.length, 16, "node 0 now holds everything");

      await c.waitFor(
        async () => /partition acquired/.test(c.logsOf(0)),
        120_000,
        "node 0 to acquire its new prefixes",
      );
      assert.match(c.logsOf(0), /served a bad chunk[^\n]*holder[=":]+2\b/, "node 2's forged chunk is named");
      assert.equal((await c.clients[0]!.status()).acquiringPieces, 0n, "Status: nothing left to fetch");

      // Node 0 alone answers with full proofs for keys under its new prefixes.
      for (let i = 0; i < gained.length; i += 32) {
        const ask = gained.slice(i, i + 32);
        const reply = await c.clients[0]!.get(ask, false);
        const proof = decodeProof(reply.proof);
        const st = decodeStatement(reply.statement);
        assert.ok(bytesEqual(proof.rootLabel, st.root), "the proof is against the signed root");
        for (const k of ask) {
          const s = provenState(proof.root, keyPath(k));
          assert.ok(s.covered && s.present && s.value !== null, `${k} proven with its value`);
          assert.deepEqual(s.value, utf8(`value of ${k}`));
        }
      }
      // The keys' histories, kept by holders only, come with them: node 0 reads them back from the
      // others and then gives each whole by itself.
      await c.waitFor(
        async () => /"msg":"key histories back-filled"[^\n]*"keys":[1-9]/.test(c.logsOf(0)),
        60_000,
        "node 0's new keys' histories back-filled",
      );
      for (const k of gained) {
        const own = await client.history(k, { node: 0 });
        assert.deepEqual(
          [own.changes.map((v) => v.number), own.next],
          [[1n], null],
          `node 0's history of ${k}`,
        );
      }
      // That root is the one the honest holder has at the same height.
      await c.waitFor(
        async () => {
          const [a, b] = await Promise.all([c.clients[0]!.status(), c.clients[1]!.status()]);
          return a.height === b.height && bytesEqual(a.root, b.root);
        },
        30_000,
        "nodes 0 and 1 at one root",
      );
    });
  },
);
