// A caller who loops at the largest gas limit cannot hold other callers' writes behind its
// requests (docs/protocol.md §9 "The block's gas"): a correct leader proposes light requests
// first and gives heavy ones at most HEAVY_GAS_PER_PROPOSAL of a block, so the looping requests
// land one per block while a write submitted after them lands before the last of them. And when
// leaders ignore that policy (as a faulty one may), execution cuts their overfull blocks
// `block-gas-full` and the SDK's transact signs the cut writes again until they land.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { withSdkCluster } from "./sdk-cluster.js";
import { build, op } from "../exec/wasm-builder.js";
import {
  BLOCK_GAS_BUDGET,
  HEAVY_GAS_PER_PROPOSAL,
  LIGHT_REQUEST_GAS,
  MAX_GAS_LIMIT,
} from "../../node/common/limits.js";
import { baseRuleCall } from "../../node/common/system-calls.js";
import { utf8 } from "../../node/common/bytes.js";

/** run() { loop { br 0 } }: runs until its gas is gone. */
const SPIN = build({
  funcs: [{ type: 0, body: [...op.loop(), ...op.br(0), ...op.end, ...op.i32_const(0)] }],
});
const LOOPS = 4;

test(
  "looping requests at the largest gas limit land one per block, behind a later light write",
  { timeout: 300_000 },
  async () => {
    assert.equal(
      HEAVY_GAS_PER_PROPOSAL / MAX_GAS_LIMIT,
      1n,
      "this test counts one largest request per block",
    );
    await withSdkCluster({ n: 4, k: 2 }, async (_c, client) => {
      assert.equal((await client.createDomain("spin")).receipt.status, "accepted");
      assert.equal((await client.deployOp("spin/loop", SPIN)).receipt.status, "accepted");
      const loops = await Promise.all(
        Array.from({ length: LOOPS }, () =>
          client.prepare({ op: "spin/loop", touched: [], gasLimit: MAX_GAS_LIMIT }),
        ),
      );
      // Signed before the loops go out: the write is submitted right behind them.
      const write = await client.prepare({
        ...baseRuleCall("spin", [["spin/after", utf8("light")]]),
        gasLimit: LIGHT_REQUEST_GAS,
      });
      const loopReceipts = loops.map((r) => client.submit(r, 240_000));
      // Only so that the loops reach the pools first (what a FIFO leader would serve first).
      await sleep(50);
      const written = await client.submit(write, 240_000);
      const done = await Promise.all(loopReceipts);
      const heights = done.map((t) => t.receipt.height);
      for (const t of done) {
        assert.equal(t.receipt.status, "rejected");
        assert.ok(t.receipt.status === "rejected" && t.receipt.reason === "out-of-gas");
        assert.equal(t.receipt.gasUsed, MAX_GAS_LIMIT);
      }
      assert.equal(
        new Set(heights).size,
        LOOPS,
        `one largest request per block (heights ${heights.join(", ")})`,
      );
      const last = heights.reduce((a, b) => (a > b ? a : b));
      assert.equal(written.receipt.status, "accepted");
      assert.ok(
        written.receipt.height < last,
        `the light write (height ${written.receipt.height}) is not held behind every loop (last at ${last})`,
      );
    });
  },
);

/** Requests decided block-gas-full so far, as node 0's metrics count them. */
async function cutByBudget(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const m = text.match(/^arbor_requests_rejected_total\{reason="block-gas-full"\} (\d+)/m);
  return m ? Number(m[1]) : 0;
}

test(
  "leaders that ignore the gas policy: execution cuts their overfull blocks block-gas-full, and transact signs again until each write lands once",
  { timeout: 300_000 },
  async () => {
    // Every leader packs oldest first without weighing, as a faulty one may: blocks of requests
    // declaring MAX_GAS_LIMIT hold more than BLOCK_GAS_BUDGET allows.
    process.env.ARBOR_LEADER_PACKING = "oldest";
    try {
      await withSdkCluster({ n: 4, k: 2, metrics: true }, async (c, client) => {
        assert.equal((await client.createDomain("cut")).receipt.status, "accepted");
        const perBlock = Number(BLOCK_GAS_BUDGET / MAX_GAS_LIMIT);
        let written = 0;
        for (let round = 0; round < 6 && (await cutByBudget(c.metricsPorts[0]!)) === 0; round++) {
          const n = 3 * perBlock;
          const done = await Promise.all(
            Array.from({ length: n }, (_, i) =>
              client.transact({
                ...baseRuleCall("cut", [[`cut/r${round}-${i}`, utf8(`v${i}`)]]),
                gasLimit: MAX_GAS_LIMIT,
                timeoutMs: 120_000,
              }),
            ),
          );
          for (const t of done) assert.equal(t.receipt.status, "accepted");
          written += n;
        }
        assert.ok((await cutByBudget(c.metricsPorts[0]!)) > 0, "some block was cut by the budget");
        // Each write landed, whatever was cut and signed again (a replay would have been refused).
        const keys: string[] = [];
        for (let round = 0; keys.length < written; round++)
          for (let i = 0; i < 3 * perBlock; i++) keys.push(`cut/r${round}-${i}`);
        const values = await client.get(keys);
        for (const k of keys) assert.deepEqual(values.get(k), utf8(`v${k.split("-")[1]}`), k);
      });
    } finally {
      delete process.env.ARBOR_LEADER_PACKING;
    }
  },
);
