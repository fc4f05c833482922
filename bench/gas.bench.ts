// bench:gas — what a caller who loops costs everyone else (docs/protocol.md §9 "The block's gas").
// A real 4-node cluster (k = 2) takes a steady SDK load of banking transfers (Bank.transfer →
// ArborClient.transact) through three windows:
//
//   quiet → a flood of requests at MAX_GAS_LIMIT to an operation that loops (HEAVY_PER_S a second)
//   → a flood of looping requests that declare only LIGHT_REQUEST_GAS (LIGHT_PER_S a second)
//
// Each flood is stopped at its window's end and its requests are waited for (the backlog's drain
// time is a figure too). The whole run is made twice, on fresh clusters: with the leaders'
// default packing ("weighed": light requests first, a bounded share of heavy gas waiting ahead of
// execution) and with ARBOR_LEADER_PACKING=oldest (oldest first, what a pool without weighing
// does). The same run measures what one looping request at MAX_GAS_LIMIT costs one executor in
// this process, the floor under any block that carries one.
//
// The last line of stdout is one JSON object: per packing and window, transfers/s, p50/p99 of the
// transfers started in it, the flood's requests decided by verdict; and the ratios of the floods'
// p50 to the quiet one's with each packing.
// Knobs: ARBOR_GAS_RATE (transfers/s, default 20), ARBOR_GAS_WINDOW_S (default 15),
// ARBOR_GAS_HEAVY_PER_S (default 1), ARBOR_GAS_LIGHT_PER_S (default 100).
import { loadavg } from "node:os";
import { ArborClient } from "../client/index.js";
import { Bank } from "../examples/banking/bank.js";
import { Cluster } from "../test/cluster/cluster.js";
import { build, I32, op } from "../test/exec/wasm-builder.js";
import { machineLine, median, progress } from "./machine.js";
import { VerdictTally } from "./verdict-tally.js";
import { guard, release } from "./steady-load.js";
import { SdkTransferLoad, sleep, transferClients, type LoadFigures } from "./sdk-transfer-load.js";
import { LIGHT_REQUEST_GAS, MAX_GAS_LIMIT } from "../node/common/limits.js";
import { createExecutor } from "../node/exec/index.js";
import { installNodeSha256 } from "../node/platform.js";
import { generateKeyPair } from "../node/keys.js";

installNodeSha256();
const RATE = Number(process.env.ARBOR_GAS_RATE ?? 20);
const WINDOW_S = Number(process.env.ARBOR_GAS_WINDOW_S ?? 15);
const HEAVY_PER_S = Number(process.env.ARBOR_GAS_HEAVY_PER_S ?? 1);
const LIGHT_PER_S = Number(process.env.ARBOR_GAS_LIGHT_PER_S ?? 100);
const WARM_S = 5;
/** Longest a flood's backlog is waited for after its window. */
const DRAIN_CAP_MS = 180_000;
const ACCOUNTS = 200;
const CLIENTS = 4;
const TICK_MS = 5;

/**
 * run() { loop { sha256(empty) } }: runs until its gas is gone, on the host call that takes the most
 * time per unit of gas of those measured (docs/abi.md §5).
 */
const SPIN = build({
  types: [
    [[], [I32]],
    [[I32, I32, I32], []],
  ],
  imports: [{ module: "arbor", name: "sha256", type: 1 }],
  funcs: [
    {
      type: 0,
      body: [
        ...op.loop(),
        ...[...op.i32_const(2048), ...op.i32_const(0), ...op.i32_const(1024), ...op.call(0)],
        ...[...op.br(0), ...op.end, ...op.i32_const(0)],
      ],
    },
  ],
});

/** Milliseconds one request at MAX_GAS_LIMIT takes one executor here (median of 3). */
function loopMs(): number {
  const ex = createExecutor();
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = ex.execute({
      opKey: "spin/loop",
      code: SPIN,
      records: [],
      args: new Uint8Array(0),
      caller: new Uint8Array(32),
      gasLimit: MAX_GAS_LIMIT,
    });
    times.push(performance.now() - t0);
    if (r.ok || r.reason !== "out-of-gas") throw new Error(`the loop ended ${r.ok ? "ok" : r.reason}`);
  }
  return median(times);
}

/** Looping requests offered at a fixed rate (prepared and submitted without waiting) until stopped. */
class Flood {
  private readonly tally = new VerdictTally();
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly client: ArborClient,
    private readonly gasLimit: bigint,
    private readonly perSec: number,
  ) {}

  get verdicts(): Record<string, number> {
    return this.tally.verdicts;
  }

  start(): void {
    const t0 = performance.now();
    let sent = 0;
    this.loop = (async () => {
      while (!this.stopped) {
        const due = Math.floor(((performance.now() - t0) / 1000) * this.perSec);
        for (; sent < due; sent++) this.send();
        await sleep(20);
      }
    })();
  }

  private send(): void {
    this.tally.track(
      this.client
        .prepare({ op: "spin/loop", touched: [], gasLimit: this.gasLimit })
        .then((r) => this.client.submit(r, DRAIN_CAP_MS)),
    );
  }

  /** Stops sending; resolves with the seconds until every request sent had its verdict (capped). */
  async stop(): Promise<number> {
    this.stopped = true;
    await this.loop;
    const t0 = performance.now();
    await this.tally.drained(DRAIN_CAP_MS);
    return Math.round((performance.now() - t0) / 100) / 10;
  }
}

interface FloodFigures extends LoadFigures {
  readonly floodVerdicts: Record<string, number>;
  /** seconds after the window until the flood's requests were all decided */
  readonly drainS: number;
  readonly loadAvg: number;
}

async function window(load: SdkTransferLoad, label: string, flood: Flood | null): Promise<FloodFigures> {
  progress(`${label}: ${WINDOW_S} s, ${RATE} transfers/s offered`);
  flood?.start();
  const from = performance.now();
  await sleep(WINDOW_S * 1000);
  const to = performance.now();
  const loadAvg = loadavg()[0]!;
  const drainS = flood ? await flood.stop() : 0;
  const f = {
    ...load.figures({ name: label, from, to }),
    floodVerdicts: flood?.verdicts ?? {},
    drainS,
    loadAvg,
  };
  progress(
    `  ${f.transfersPerSec.toFixed(1)} transfers/s, p50 ${f.p50Ms.toFixed(0)} ms, p99 ${f.p99Ms.toFixed(0)} ms, ` +
      `refusals ${JSON.stringify(f.refusals)}; flood ${JSON.stringify(f.floodVerdicts)}, drained in ${drainS} s`,
  );
  return f;
}

async function run(packing: "weighed" | "oldest"): Promise<Record<string, FloodFigures>> {
  process.env.ARBOR_LEADER_PACKING = packing;
  const cluster = await Cluster.create({ n: 4, k: 2, T: 65536 });
  guard(cluster);
  const clients: ArborClient[] = [];
  try {
    cluster.startAll();
    await cluster.ready();
    clients.push(...(await transferClients(cluster.genesis, CLIENTS, ACCOUNTS)));
    const attacker = await ArborClient.connect({ genesis: cluster.genesis, key: generateKeyPair() });
    clients.push(attacker);
    await attacker.createDomain("spin");
    await attacker.deployOp("spin/loop", SPIN);
    progress(`packing "${packing}": 4 nodes, ${ACCOUNTS} accounts, the looping operation deployed`);
    const load = new SdkTransferLoad(
      clients.slice(0, CLIENTS).map((c) => new Bank(c)),
      { accounts: ACCOUNTS, rate: RATE, tickMs: TICK_MS },
    );
    load.start();
    await sleep(WARM_S * 1000);
    const quiet = await window(load, "quiet", null);
    const heavy = await window(
      load,
      `${HEAVY_PER_S}/s at MAX_GAS_LIMIT`,
      new Flood(attacker, MAX_GAS_LIMIT, HEAVY_PER_S),
    );
    const light = await window(
      load,
      `${LIGHT_PER_S}/s looping at LIGHT_REQUEST_GAS`,
      new Flood(attacker, LIGHT_REQUEST_GAS, LIGHT_PER_S),
    );
    await load.stop(60_000);
    return { quiet, heavyFlood: heavy, lightFlood: light };
  } finally {
    for (const c of clients) c.close();
    await release(cluster);
  }
}

async function main(): Promise<void> {
  process.stderr.write(`${machineLine()}\n`);
  const ms = loopMs();
  progress(`one request at MAX_GAS_LIMIT: ${ms.toFixed(0)} ms on one executor here`);
  const weighed = await run("weighed");
  const oldest = await run("oldest");
  const ratio = (f: Record<string, FloodFigures>, w: string) =>
    Math.round((f[w]!.p50Ms / f.quiet!.p50Ms) * 100) / 100;
  const result = {
    bench: "gas",
    maxGasRequestMs: Math.round(ms),
    heavyFloodP50RatioWeighed: ratio(weighed, "heavyFlood"),
    heavyFloodP50RatioOldest: ratio(oldest, "heavyFlood"),
    lightFloodP50RatioWeighed: ratio(weighed, "lightFlood"),
    lightFloodP50RatioOldest: ratio(oldest, "lightFlood"),
    offeredPerSec: RATE,
    heavyPerSec: HEAVY_PER_S,
    lightLoopsPerSec: LIGHT_PER_S,
    windowS: WINDOW_S,
    weighed,
    oldest,
    machine: machineLine(),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
process.exit(0);
