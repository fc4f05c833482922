// Catch-up from storage: a node that was down while more blocks committed than its peers keep in
// memory (ARBOR_TOB_RETAINED_BLOCKS lowers that to 64 here), and one restarted with an empty data
// directory, both get the missing blocks from their peers' storage, apply them and agree with the
// others — the same height and root — with every accepted write readable. The wiped node runs with
// --join: it refuses reads (node/joining) and says NOT_SERVING until it has caught up. A wiped node also
// replays a chain through more validator-set changes than the consensus keeps epoch tails for in
// memory (the shell stores every epoch's tail).
// A node also catches up over a chain of large blocks, whose answers are cut by bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { join } from "node:path";
import { Cluster } from "./cluster.js";
import { ArborClient, keyFromSeed } from "../../client/index.js";
import { generateKeyPair } from "../../node/keys.js";
import { TOB_DELIVER_WINDOW, TOB_RETAINED_EPOCH_TAILS } from "../../node/common/limits.js";
import { bytesEqual } from "../../node/common/bytes.js";

const ENV = { ARBOR_TOB_RETAINED_BLOCKS: "64" };

async function agree(c: Cluster, what: string): Promise<void> {
  await c.waitFor(
    async () => {
      const st = await Promise.all(c.clients.map((x) => x.status()));
      return st.every((s) => s.height === st[0]!.height && bytesEqual(s.root, st[0]!.root));
    },
    90_000,
    what,
  );
}

/** Runs `body` with a client of the cluster; shows the nodes' logs if it fails; stops everything after. */
async function withClient(c: Cluster, body: (client: ArborClient) => Promise<void>): Promise<void> {
  const client = await ArborClient.connect({ genesis: c.genesis });
  try {
    await body(client);
  } catch (e) {
    c.printLogs();
    throw e;
  } finally {
    client.close();
    await c.stop();
  }
}

test(
  "a node far behind and a wiped node catch up from their peers' storage",
  { timeout: 300_000 },
  async () => {
    const c = await Cluster.create({ n: 4, k: 2, tickMs: 50 });
    for (let i = 0; i < 4; i++) c.start(i, ENV);
    await withClient(c, async (client) => {
      let n = 0;
      const write = async (count: number) => {
        for (let i = 0; i < count; i++, n++)
          await client.writeRecords("far", [[`far/k${n}`, new Uint8Array([n & 0xff])]]);
      };
      await c.ready();
      await client.createDomain("far");
      await c.kill(3);
      await write(160); // well past 64 blocks: node 3's peers no longer hold its next block in memory
      c.start(3, ENV);
      await agree(c, "node 3 caught up from storage");
      await c.kill(2);
      rmSync(join(c.dir, "node2"), { recursive: true, force: true });
      await write(20);
      const target = (await c.clients[0]!.status()).height;
      c.start(2, ENV, ["--join"]);
      // Every read node 2 answers comes once it holds the whole chain; before, it refuses.
      let refused = 0;
      let joiningSeen = false;
      const end = Date.now() + 90_000;
      for (;;) {
        assert.ok(Date.now() < end, "timed out waiting for the joining node 2 to serve reads");
        const err = await c.clients[2]!.get(["far/k0"]).then(
          () => null,
          (e: { code?: number; details?: string }) => e,
        );
        if (err === null) break;
        if (err.code === grpc.status.UNAVAILABLE && /node\/joining/.test(err.details ?? "")) {
          refused++;
          // Status stays open while joining, and says so.
          if ((await c.clients[2]!.status()).joining) joiningSeen = true;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const served = (await c.clients[2]!.status()).height;
      assert.ok(served >= target, `node 2 served a read at height ${served} before reaching ${target}`);
      assert.ok(refused > 0, "node 2 refused reads while it caught up");
      assert.ok(joiningSeen, "node 2's Status said it was joining");
      assert.equal((await c.clients[2]!.status()).joining, false);
      await agree(c, "the wiped node 2 replayed the chain from its peers' storage");
      const got = await client.get([`far/k0`, `far/k${n - 1}`]);
      assert.equal(got.get("far/k0")![0], 0);
      assert.equal(got.get(`far/k${n - 1}`)![0], (n - 1) & 0xff);
    });
  },
);

test(
  "a wiped node replays a chain through more epochs than the core keeps tails for",
  { timeout: 300_000 },
  async () => {
    // Short ticks: rounds led by the added nodes, which never run, time out sooner.
    const c = await Cluster.create({ n: 4, k: 2, tickMs: 20 });
    c.startAll();
    await withClient(c, async (client) => {
      let n = 0;
      const write = async (count: number) => {
        for (let i = 0; i < count; i++, n++)
          await client.writeRecords("ep", [[`ep/k${n}`, new Uint8Array([n & 0xff])]]);
      };
      await c.ready();
      await client.createDomain("ep");
      const approvers = c.keys.map((k) => keyFromSeed(k.seed));
      // Each change starts a new epoch TOB_DELIVER_WINDOW + 1 blocks after it; the added nodes never
      // run (four of five validators are a quorum), and each leaves again.
      const changes = TOB_RETAINED_EPOCH_TAILS + 2;
      for (let i = 0; i < changes; i++) {
        const id = 10 + (i >> 1);
        const key = generateKeyPair();
        await client.changeMembership(
          i % 2 === 0
            ? { kind: "add", node: { id, publicKey: key.publicKey, address: `127.0.0.1:1`, prefixes: ["0"] } }
            : { kind: "remove", id },
          { approvers },
        );
        await write(TOB_DELIVER_WINDOW + 3);
      }
      const epoch = (await c.clients[0]!.status()).consensusEpoch;
      assert.ok(epoch >= BigInt(changes), `epoch ${epoch} after ${changes} changes`);
      await c.kill(2);
      rmSync(join(c.dir, "node2"), { recursive: true, force: true });
      await write(5);
      c.start(2);
      await agree(c, "the wiped node replayed every epoch");
      assert.equal(
        (await c.clients[2]!.status()).consensusEpoch,
        (await c.clients[0]!.status()).consensusEpoch,
      );
    });
  },
);

test(
  "a node catches up over a chain of large blocks (answers cut by bytes, not only by blocks)",
  { timeout: 300_000 },
  async () => {
    const c = await Cluster.create({ n: 4, k: 2, tickMs: 50 });
    for (let i = 0; i < 3; i++) c.start(i);
    await withClient(c, async (client) => {
      await c.ready();
      await client.createDomain("big");
      // 24 blocks of about 1 MiB each: more bytes than one consensus message holds, in far fewer
      // blocks than TOB_MAX_SYNC_BLOCKS. Counted in blocks alone, the answer to node 3 was one
      // message of ~24 MiB that no peer frame carries, and it never caught up.
      const value = new Uint8Array(1000 * 1024).fill(7);
      for (let i = 0; i < 24; i++) await client.writeRecords("big", [[`big/k${i}`, value]]);
      c.start(3);
      await agree(c, "node 3 caught up over large blocks");
      const got = await c.clients[3]!.status();
      assert.ok(got.height >= 25n, `node 3 at height ${got.height}`);
    });
  },
);
