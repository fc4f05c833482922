// Idle-cluster commit latency: a real 4-node loopback cluster, sequential domain creations through
// the SDK, one at a time with pauses in between (the lightly loaded case). Prints the time from
// submission to a receipt signed by f+1 nodes, and how far apart the nodes' applied heights are
// right after each receipt. Run: npm run build && node dist/bench/tob-latency.js [count] [pauseMs]
import { ArborClient } from "../client/index.js";
import { Cluster } from "../test/cluster/cluster.js";
import { Writer } from "../node/common/codec.js";
import { machineLine, median, progress } from "./machine.js";

const COUNT = Number(process.argv[2] ?? 20);
const PAUSE_MS = Number(process.argv[3] ?? 300);

async function main(): Promise<void> {
  console.log(machineLine());
  const c = await Cluster.create({ n: 4, k: 2 });
  c.startAll();
  try {
    await c.ready();
    const client = await ArborClient.connect({ genesis: c.genesis });
    const lat: number[] = [];
    const spread: number[] = [];
    for (let i = 0; i < COUNT; i++) {
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      const req = await client.prepare({
        op: ".root_rule",
        touched: [".base_rule_template", `d${i}/.base_rule`, `d${i}/.owner`],
        args: new Writer().string(`d${i}`).bytes(client.key.publicKey).finish(),
      });
      const t0 = performance.now();
      const r = await client.submit(req);
      const ms = performance.now() - t0;
      lat.push(ms);
      const heights = await Promise.all(c.clients.map(async (cl) => Number((await cl.status()).height)));
      spread.push(Math.max(...heights) - Math.min(...heights));
      progress(
        `#${i} ${r.receipt.status} at height ${r.receipt.height}: ${ms.toFixed(1)} ms; heights ${heights.join(",")}`,
      );
    }
    client.close();
    const s = [...lat].sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        bench: "tob-latency",
        count: COUNT,
        pauseMs: PAUSE_MS,
        p50Ms: Number(median(lat).toFixed(1)),
        maxMs: Number(s[s.length - 1]!.toFixed(1)),
        maxHeightSpread: Math.max(...spread),
      }),
    );
  } finally {
    await c.stop();
  }
}

void main();
