// Crashes between applying a block and certifying its header, under load: two different nodes are
// killed by a failpoint right after their store committed a block (header not signed yet), then
// every node is killed -9 at once. Afterwards certification goes on with no holes on any node
// (GetHeaders from height 1 returns every height it applied that has a header, each certificate
// valid and chained),
// verified reads and writes go on, and receipts asked of the restarted nodes are answered with
// exactly the bytes (receipt, inclusion path, signature when asked) they answered with before,
// their paths leading to the receipt root of the certified header of their height.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "./cluster.js";
import { Signer } from "./requests.js";
import { ArborClient } from "../../client/index.js";
import { decodeReceipt } from "../../node/ledger/receipt.js";
import { verifyReceiptPath } from "../../node/ledger/receipts-root.js";
import type { SignedReceipt } from "../../proto/gen/arbor/v1/client_pb.js";
import { decodeCertifiedHeader, headerHash, verifyCertificate } from "../../node/ledger/header.js";
import { bytesEqual, toHex } from "../../node/common/bytes.js";
import { nodeEd25519Verify } from "../../node/exec/host-crypto.js";

const N = 4;

/**
 * Checks that node `id` holds a valid certificate for every height with a header up to its height,
 * chained: heights ascend, and each header names the one before it (heights between them had
 * empty blocks, which have no header). The node's own height is the last one.
 */
async function certifiedWithoutHoles(c: Cluster, id: number): Promise<boolean> {
  const st = await c.clients[id]!.status();
  const reply = await c.clients[id]!.headers(1n, 1024);
  const validators = c.genesis.nodes.map((n) => ({ id: n.id, publicKey: n.publicKey }));
  let previous: Uint8Array = new Uint8Array(32);
  let last = 0n;
  for (const bytes of reply.headers) {
    const cert = decodeCertifiedHeader(bytes);
    const h = cert.header.height;
    assert.ok(h > last, `node ${id}: certificates ascend (${h} after ${last})`);
    const ok = verifyCertificate(cert, validators, { verify: nodeEd25519Verify });
    assert.ok(ok.ok, `node ${id} height ${h}: ${ok.ok ? "" : ok.reason}`);
    assert.ok(bytesEqual(cert.header.previous, previous), `node ${id}: chain broken at ${h}`);
    previous = headerHash(cert.header);
    last = h;
  }
  return last >= st.height;
}

test(
  "certification survives kill -9 between apply and certification; receipts survive a full restart",
  { timeout: 480_000 },
  async () => {
    const c = await Cluster.create({ n: N, k: 2, T: 256, tickMs: 20 });
    // Nodes 1 and 2 kill themselves right after committing a block, before signing its header.
    c.start(0);
    c.start(1, { ARBOR_FAILPOINT: "after-commit:8" });
    c.start(2, { ARBOR_FAILPOINT: "after-commit:16" });
    c.start(3);
    const alive = (id: number) => c.procs[id] !== null;
    let client: ArborClient | null = null;
    try {
      await c.ready();
      const owner = new Signer(c);
      let turn = 0;
      /** Submits through a live node and waits for its receipt there; null if that node died meanwhile. */
      const submit = async (req: Uint8Array): Promise<Uint8Array | null> => {
        const live = [0, 1, 2, 3].filter(alive);
        const n = live[turn++ % live.length]!;
        try {
          const ack = await c.clients[n]!.execute(req);
          if (!ack.accepted) return null;
          const r = await c.clients[n]!.waitReceipt(ack.requestId, 30_000);
          return decodeReceipt(r.receipt).status === "accepted" ? ack.requestId : null;
        } catch {
          return null;
        }
      };
      for (;;) if (await submit(await owner.createDomain("crash"))) break;

      // Load: lanes writing their own keys until told to stop.
      const accepted: Uint8Array[] = [];
      let stop = false;
      const lane = async (l: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const req = await owner.baseRule("crash", [
              [`crash/l${l}/k${i % 8}`, new Uint8Array([l, i & 0xff])],
            ]);
            const id = await submit(req);
            if (id) accepted.push(id);
          } catch {
            await new Promise((r) => setTimeout(r, 100)); // no live holder for a proof right now
          }
        }
      };
      const lanes = [0, 1, 2].map(lane);

      // Two different nodes crash between apply and certification; each comes back.
      for (const id of [1, 2]) {
        await c.exited(id, 180_000);
        assert.match(c.logsOf(id), /failpoint after-commit reached/);
        c.start(id);
        // Only this one: the other may be down at its own failpoint meanwhile.
        await c.waitFor(async () => (await c.clients[id]!.status()).node === id, 30_000, `node ${id} back`);
      }
      const progress = async (by: bigint) => {
        const from = (await c.clients[0]!.status()).height;
        await c.waitFor(
          async () => (await c.clients[0]!.status()).height >= from + by,
          120_000,
          "blocks after the restarts",
        );
      };
      await progress(6n);

      // Every node certifies every height it applied, the restarted ones included.
      for (let id = 0; id < N; id++)
        await c.waitFor(() => certifiedWithoutHoles(c, id), 60_000, `node ${id} certified without holes`);

      // Receipts as each node serves them now (the two restarted nodes included)...
      const sample = accepted.filter((_, i) => i % Math.max(1, Math.floor(accepted.length / 20)) === 0);
      assert.ok(sample.length >= 5, `only ${accepted.length} requests accepted`);
      const before = new Map<string, SignedReceipt>();
      for (let id = 0; id < N; id++)
        for (const rid of sample) {
          const r = await c.clients[id]!.waitReceipt(rid, 20_000, id % 2 === 0);
          assert.equal(r.signature.length, id % 2 === 0 ? 64 : 0, "signed only when asked");
          before.set(`${id}/${toHex(rid)}`, r);
        }

      // ...then every node is killed -9 at once, under load.
      await Promise.all([0, 1, 2, 3].map((id) => c.kill(id)));
      stop = true;
      await Promise.all(lanes);
      c.startAll();
      await c.ready();

      // Byte-identical answers after the full restart.
      for (let id = 0; id < N; id++)
        for (const rid of sample) {
          const r = await c.clients[id]!.waitReceipt(rid, 20_000, id % 2 === 0);
          const b = before.get(`${id}/${toHex(rid)}`)!;
          assert.ok(bytesEqual(r.receipt, b.receipt), `node ${id}: another receipt for ${toHex(rid)}`);
          assert.ok(bytesEqual(r.signature, b.signature), `node ${id}: another signature for ${toHex(rid)}`);
          assert.equal(r.leafCount, b.leafCount, `node ${id}: another leaf count for ${toHex(rid)}`);
          assert.deepEqual(
            r.path.map(toHex),
            b.path.map(toHex),
            `node ${id}: another path for ${toHex(rid)}`,
          );
          // The path still leads to the certified receipt root of the receipt's height.
          const receipt = decodeReceipt(r.receipt);
          const cert = decodeCertifiedHeader((await c.clients[id]!.headers(receipt.height, 1)).headers[0]!);
          assert.equal(cert.header.height, receipt.height);
          assert.ok(
            verifyReceiptPath(r.receipt, receipt.index, r.leafCount, r.path, cert.header.receiptsRoot),
            `node ${id}: the path of ${toHex(rid)} does not lead to the certified receipt root`,
          );
        }

      // Verified writes and reads go on, and certification follows every node's height.
      client = await ArborClient.connect({ genesis: c.genesis });
      await client.createDomain("after");
      for (let i = 0; i < 4; i++) await client.writeRecords("after", [[`after/k${i}`, new Uint8Array([i])]]);
      const values = await client.get(["after/k3", "crash/l0/k0"]);
      assert.deepEqual(values.get("after/k3"), new Uint8Array([3]));
      for (let id = 0; id < N; id++)
        await c.waitFor(
          () => certifiedWithoutHoles(c, id),
          60_000,
          `node ${id} certified without holes at the end`,
        );
    } catch (e) {
      c.printLogs(2000);
      throw e;
    } finally {
      client?.close();
      await c.stop();
    }
  },
);
