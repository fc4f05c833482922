// bench:burst — what a burst of large requests costs everyone else. A real 4-node cluster (k = 2)
// takes a steady SDK load of banking transfers (Bank.transfer → ArborClient.transact) through
// three windows:
//
//   quiet → BURST_COUNT requests of about BURST_BYTES each (one record each, written through the
//   caller's own domain), all sent at once at the window's start → after
//
// The burst's requests are waited for (the time until all are decided is a figure too). Every
// request is gossiped to every node and carried in a proposal to every node, so a burst is
// hundreds of megabytes crossing the peer streams, which also carry the consensus messages.
//
// The last line of stdout is one JSON object: per window, transfers/s, p50/p99 of the transfers
// started in it, refusals; the burst's verdicts, its drain time, and the ratio of the burst
// window's p50 to the quiet one's. Knobs: ARBOR_BURST_RATE (transfers/s, default 20),
// ARBOR_BURST_WINDOW_S (default 15; the burst window is twice as long), ARBOR_BURST_COUNT
// (default 300), ARBOR_BURST_BYTES (default 1,000,000).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ArborClient } from "../client/index.js";
import { Bank } from "../examples/banking/bank.js";
import { Cluster } from "../test/cluster/cluster.js";
import { machineLine, progress } from "./machine.js";
import { VerdictTally } from "./verdict-tally.js";
import { guard, release } from "./steady-load.js";
import { SdkTransferLoad, sleep, transferClients, type LoadFigures } from "./sdk-transfer-load.js";
import { baseRuleCall } from "../node/common/system-calls.js";
import { genesisFromJson, genesisToJson } from "../node/ledger/genesis.js";
import { installNodeSha256 } from "../node/platform.js";
import { generateKeyPair } from "../node/keys.js";

installNodeSha256();
const RATE = Number(process.env.ARBOR_BURST_RATE ?? 20);
const WINDOW_S = Number(process.env.ARBOR_BURST_WINDOW_S ?? 15);
const BURST_COUNT = Number(process.env.ARBOR_BURST_COUNT ?? 300);
const BURST_BYTES = Number(process.env.ARBOR_BURST_BYTES ?? 1_000_000);
const WARM_S = 5;
/** Longest the burst's requests are waited for after their window. */
const DRAIN_CAP_MS = 300_000;
const ACCOUNTS = 200;
const CLIENTS = 4;
const TICK_MS = 5;

/** The burst: every request prepared and submitted at once, each verdict counted. */
function sendBurst(client: ArborClient): VerdictTally {
  const tally = new VerdictTally();
  for (let i = 0; i < BURST_COUNT; i++) {
    const value = new Uint8Array(BURST_BYTES).fill(i & 0xff);
    tally.track(
      client
        .prepare(baseRuleCall("burst", [[`burst/k${i}`, value]]))
        .then((r) => client.submit(r, DRAIN_CAP_MS)),
    );
  }
  return tally;
}

/**
 * --send GENESIS_FILE: the sender process. Creates its domain, says "ready", sends the burst on
 * "go" (a line on stdin), and prints its verdicts as one JSON line once all are decided.
 */
async function sender(genesisFile: string): Promise<void> {
  const client = await ArborClient.connect({
    genesis: genesisFromJson(readFileSync(genesisFile, "utf8")),
    key: generateKeyPair(),
  });
  await client.createDomain("burst");
  process.stdout.write("ready\n");
  for await (const line of createInterface({ input: process.stdin })) if (line === "go") break;
  const burst = sendBurst(client);
  await burst.drained(DRAIN_CAP_MS);
  process.stdout.write(`${JSON.stringify(burst.verdicts)}\n`);
  client.close();
}

/** The sender process, started and ready (its domain created), and its lines after "ready". */
async function startSender(
  genesisJson: string,
): Promise<{ child: ChildProcess; lines: AsyncIterator<string> }> {
  const file = join(mkdtempSync(join(tmpdir(), "arbor-burst-")), "genesis.json");
  writeFileSync(file, genesisJson);
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--send", file], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done || first.value !== "ready") throw new Error(`the burst sender said ${String(first.value)}`);
  return { child, lines };
}

interface WindowFigures extends LoadFigures {
  readonly loadAvg: number;
}

async function window(
  load: SdkTransferLoad,
  label: string,
  seconds: number,
  go?: () => void,
): Promise<WindowFigures> {
  progress(`${label}: ${seconds} s, ${RATE} transfers/s offered`);
  const from = performance.now();
  go?.();
  await sleep(seconds * 1000);
  const to = performance.now();
  const f = { ...load.figures({ name: label, from, to }), loadAvg: loadavg()[0]! };
  progress(
    `  ${f.transfersPerSec.toFixed(1)} transfers/s, p50 ${f.p50Ms.toFixed(0)} ms, p99 ${f.p99Ms.toFixed(0)} ms, ` +
      `refusals ${JSON.stringify(f.refusals)}`,
  );
  return f;
}

async function main(): Promise<void> {
  process.stderr.write(`${machineLine()}\n`);
  const cluster = await Cluster.create({ n: 4, k: 2, T: 65536 });
  guard(cluster);
  const clients: ArborClient[] = [];
  try {
    cluster.startAll();
    await cluster.ready();
    clients.push(...(await transferClients(cluster.genesis, CLIENTS, ACCOUNTS)));
    const { child, lines } = await startSender(genesisToJson(cluster.genesis));
    progress(
      `4 nodes, ${ACCOUNTS} accounts; a burst of ${BURST_COUNT} requests of ${BURST_BYTES} bytes to come`,
    );
    const load = new SdkTransferLoad(
      clients.slice(0, CLIENTS).map((c) => new Bank(c)),
      { accounts: ACCOUNTS, rate: RATE, tickMs: TICK_MS },
    );
    load.start();
    await sleep(WARM_S * 1000);
    const quiet = await window(load, "quiet", WINDOW_S);
    const burstStart = performance.now();
    const verdictsLine = lines.next().then((l) => ({ text: l.done ? "{}" : l.value, at: performance.now() }));
    const during = await window(load, "burst", 2 * WINDOW_S, () => void child.stdin!.write("go\n"));
    const decided = await verdictsLine;
    const verdicts = JSON.parse(decided.text) as Record<string, number>;
    const drainS = Math.round((decided.at - burstStart) / 100) / 10;
    progress(`  the burst was decided ${drainS} s after it was sent: ${JSON.stringify(verdicts)}`);
    const after = await window(load, "after", WINDOW_S);
    await load.stop(60_000);
    const result = {
      bench: "burst",
      burstP50Ratio: Math.round((during.p50Ms / quiet.p50Ms) * 100) / 100,
      burstDecidedS: drainS,
      burstVerdicts: verdicts,
      offeredPerSec: RATE,
      burstCount: BURST_COUNT,
      burstBytes: BURST_BYTES,
      windowS: WINDOW_S,
      quiet,
      burst: during,
      after,
      machine: machineLine(),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const c of clients) c.close();
    await release(cluster);
  }
}

if (process.argv[2] === "--send") await sender(process.argv[3]!);
else await main();
process.exit(0);
