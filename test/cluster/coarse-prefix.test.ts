// A prefix coarser than any member's (n = 4, k = 2: the genesis deals 4-bit prefixes). A member
// added with prefix "1" finds no member holding all of it: it takes each part from the holders of
// the finer prefixes under it, then serves every key under "1" alone with full proofs. When it is
// removed, the repair deals "1" to two of the others, which hold parts of it already: they take the
// rest from each other and the other holders (a member still taking "1" on serves the parts it
// holds in full) until nothing is missing, at one root.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster } from "./cluster.js";
import { freePort } from "./cluster.js";
import { withSdkCluster } from "./sdk-cluster.js";
import { keyFromSeed } from "../../client/index.js";
import { generateKeyPair } from "../../node/keys.js";
import { bytesEqual, utf8 } from "../../node/common/bytes.js";
import { decodeProof } from "../../node/store/core/proof-codec.js";
import { provenState } from "../../node/store/core/proof.js";
import { keyPath } from "../../node/store/core/path.js";
import { Partition } from "../../node/store/core/partition.js";

const COARSE = new Partition(["1"]);

async function settled(c: Cluster, ids: readonly number[], what: string): Promise<void> {
  await c.waitFor(
    async () => {
      const st = await Promise.all(ids.map((i) => c.clients[i]!.status()));
      return (
        st.every((s) => s.acquiringPieces === 0n) &&
        st.every((s) => s.height === st[0]!.height && bytesEqual(s.root, st[0]!.root))
      );
    },
    120_000,
    what,
  );
}

test(
  "a prefix coarser than every holder's is taken on from the finer holders, by a new member and by a repair",
  { timeout: 300_000 },
  async () => {
    // Snapshots every 4 heights: the new member installs one (the serving node's share) and takes
    // the rest of "1" on by chunks. (Replaying from the genesis instead, it would hold all of it.)
    process.env["ARBOR_SNAPSHOT_INTERVAL"] = "4";
    try {
      await run();
    } finally {
      delete process.env["ARBOR_SNAPSHOT_INTERVAL"];
    }
  },
);

async function run(): Promise<void> {
  await withSdkCluster({ n: 4, k: 2, tickMs: 50 }, async (c, client) => {
    await client.createDomain("wide");
    const keys: string[] = [];
    for (let b = 0; b < 6; b++) {
      const batch = Array.from({ length: 40 }, (_, i) => `wide/k${b * 40 + i}`);
      await client.writeRecords(
        "wide",
        batch.map((k) => [k, utf8(`value of ${k}`)] as const),
      );
      keys.push(...batch);
    }
    const under = keys.filter((k) => COARSE.holdsKey(keyPath(k)));
    assert.ok(under.length > 60, `${under.length} keys under "1"`);
    const approvers = c.keys.map((k) => keyFromSeed(k.seed));

    const key = generateKeyPair();
    const address = `127.0.0.1:${await freePort()}`;
    const added = await client.changeMembership(
      { kind: "add", node: { id: 4, publicKey: key.publicKey, address, prefixes: ["1"] } },
      { approvers },
    );
    assert.equal(added.receipt.status, "accepted");
    c.addNode(4, key, address, ["1"]);
    c.start(4, {}, ["--join"]);
    await c.waitFor(async () => /partition acquired/.test(c.logsOf(4)), 120_000, 'node 4 to acquire "1"');
    assert.doesNotMatch(c.logsOf(4), /no holder to take a prefix from/);
    await c.waitFor(async () => /serving clients/.test(c.logsOf(4)), 60_000, "node 4 to serve");
    await settled(c, [0, 1, 2, 3, 4], "five nodes at one root, nothing missing");
    // Node 4 alone answers with full proofs for every key under "1".
    for (let i = 0; i < under.length; i += 32) {
      const ask = under.slice(i, i + 32);
      const proof = decodeProof((await c.clients[4]!.get(ask, false)).proof);
      for (const k of ask) {
        const s = provenState(proof.root, keyPath(k));
        assert.ok(s.covered && s.present && s.value !== null, `${k} proven by value`);
        assert.deepEqual(s.value, utf8(`value of ${k}`));
      }
    }

    await c.kill(4);
    const removed = await client.changeMembership({ kind: "remove", id: 4 }, { approvers });
    assert.equal(removed.receipt.status, "accepted");
    const { records } = await client.memberRecords();
    const takers = records.filter((r) => r.prefixes.includes("1")).map((r) => r.id);
    assert.equal(takers.length, 2, `"1" dealt to two members: ${JSON.stringify(records)}`);
    await client.writeRecords("wide", [["wide/after", utf8("after")]]);
    await settled(c, [0, 1, 2, 3], "four nodes at one root, nothing missing");
    for (const id of takers) {
      assert.match(c.logsOf(id), /partition acquired/, `node ${id} acquired "1"`);
      const proof = decodeProof((await c.clients[id]!.get(under.slice(0, 32), false)).proof);
      for (const k of under.slice(0, 32)) {
        const s = provenState(proof.root, keyPath(k));
        assert.ok(s.covered && s.present, `${k} at node ${id}`);
      }
    }
  });
}
