// bench:faults — what one node down costs a 4-node cluster, and how long an SDK call takes to fail
// on a cluster that cannot certify. A real cluster (node child processes on loopback, the node's
// default 50 ms tick, so a round timeout is 1 s) runs the banking workload through the SDK: several
// ArborClient instances, each owning its share of the accounts, offer a steady open-loop rate of
// transfers (Bank.transfer → ArborClient.transact), an account never in two transfers at once. The
// load runs without a break through consecutive windows:
//
//   all up → node 3 killed (SIGKILL) → node 3 restarted (not measured) → node 3 paused (SIGSTOP)
//   → node 3 resumed (SIGCONT, not measured)
//
// Per window: accepted transfers/s (trusted receipts completed inside the window), p50/p99 latency of
// the transfers started in it (call → trusted receipt), refusals by reason, and each live node's
// consensus round and the leader it follows (Status) at the window's end. Then two of the four nodes
// are killed (no quorum: nothing can be ordered or certified) and one transfer is timed from the
// call until it fails (bounded by WEDGED_CAP_MS), with a client connected with the SDK's default
// per-call timeout.
//
// The last line of stdout is one JSON object: oneDownThroughputRatio (one killed ÷ all up),
// oneDownP50Ratio, pausedNodeExtraMs (p50 paused − p50 all up), wedgedCallMs and the raw figures;
// "all up" is the mean rate and the median p50 of the first and the last window.
// Knobs: ARBOR_FAULTS_RATE (transfers/s offered, default 20), ARBOR_FAULTS_WINDOW_S (default 12).
import { loadavg } from "node:os";
import { ArborClient, DEFAULT_CALL_TIMEOUT_MS } from "../client/index.js";
import { Bank } from "../examples/banking/bank.js";
import { Cluster } from "../test/cluster/cluster.js";
import { openBankAccounts } from "./bank-accounts.js";
import {
  accountName as name,
  reasonOf,
  SdkTransferLoad,
  sleep,
  type LoadFigures,
  type Window,
} from "./sdk-transfer-load.js";
import { machineLine, median, progress } from "./machine.js";
import { bytesEqual } from "../node/common/bytes.js";
import { installNodeSha256 } from "../node/platform.js";
import { generateKeyPair } from "../node/keys.js";

installNodeSha256();
const RATE = Number(process.env.ARBOR_FAULTS_RATE ?? 20);
const WINDOW_S = Number(process.env.ARBOR_FAULTS_WINDOW_S ?? 12);
/** Load before the first window (the pipeline fills) and after each repair (the node catches up). */
const WARM_S = 5;
const RECOVER_S = 8;
const ACCOUNTS = 400;
const CLIENTS = 6;
const DOWN = 3;
/** Longest the wedged call is waited for before the bench gives up on it. */
const WEDGED_CAP_MS = 120_000;
const TICK_MS = 5;

const acct = (i: number) => `bank/accounts/${name(i)}`;

const running = new Set<Cluster>();
process.on("exit", () => {
  for (const c of running)
    for (const p of c.procs) {
      p?.kill("SIGCONT");
      p?.kill("SIGKILL");
    }
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

/** Opens and mints the accounts over the node API (setup, not measured); returns the SDK banks. */
async function populate(cluster: Cluster): Promise<{ banks: Bank[]; clients: ArborClient[] }> {
  const owner = generateKeyPair();
  const users = Array.from({ length: CLIENTS }, () => generateKeyPair());
  await openBankAccounts({
    genesis: cluster.genesis,
    nodes: 4,
    owner,
    users,
    accounts: ACCOUNTS,
    account: acct,
    amount: 1_000_000,
  });
  const clients = await Promise.all(
    users.map((u) => ArborClient.connect({ genesis: cluster.genesis, key: u })),
  );
  return { banks: clients.map((c) => new Bank(c)), clients };
}

interface WindowFigures extends LoadFigures {
  /** Per live node: [node, consensus round, the node it follows as leader (-1: unknown)]. */
  readonly views: [number, number, number][];
  readonly loadAvg: number;
}

function figures(
  load: SdkTransferLoad,
  w: Window,
  views: [number, number, number][],
  loadAvg: number,
): WindowFigures {
  return { ...load.figures(w), views, loadAvg };
}

/** Each live node's round and the node it follows as leader, from Status. */
async function views(c: Cluster, live: readonly number[]): Promise<[number, number, number][]> {
  return Promise.all(
    live.map(async (id): Promise<[number, number, number]> => {
      try {
        const s = await c.clients[id]!.status();
        const leader = c.keys.findIndex(
          (k) => s.leaderKey.length > 0 && bytesEqual(k.publicKey, s.leaderKey),
        );
        return [id, Number(s.consensusRound), leader];
      } catch {
        return [id, -1, -1];
      }
    }),
  );
}

async function measure(
  c: Cluster,
  wname: string,
  live: readonly number[],
): Promise<{ w: Window; views: [number, number, number][]; loadAvg: number }> {
  const from = performance.now();
  progress(`window "${wname}": ${WINDOW_S} s at ${RATE} transfers/s offered`);
  await sleep(WINDOW_S * 1000);
  const to = performance.now();
  return { w: { name: wname, from, to }, views: await views(c, live), loadAvg: loadavg()[0]! };
}

/** Time from the call to its failure (or success) of one transfer on a cluster without a quorum. */
async function wedgedCall(c: Cluster): Promise<{ ms: number; outcome: string }> {
  const key = generateKeyPair();
  const client = await ArborClient.connect({ genesis: c.genesis, key });
  try {
    const bank = new Bank(client);
    const t0 = performance.now();
    const call = bank.transfer(name(0), name(1), 1n).then(
      () => "succeeded",
      (e) => `failed: ${reasonOf(e)}`,
    );
    const outcome = await Promise.race([call, sleep(WEDGED_CAP_MS).then(() => "still pending at the cap")]);
    return { ms: Math.round(performance.now() - t0), outcome };
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  process.stderr.write(`${machineLine()}\n`);
  const cluster = await Cluster.create({ n: 4, k: 2, T: 65536 });
  running.add(cluster);
  try {
    cluster.startAll();
    await cluster.ready();
    const { banks, clients } = await populate(cluster);
    progress(`4 nodes up; ${ACCOUNTS} accounts opened and minted, owned by ${CLIENTS} clients`);
    const load = new SdkTransferLoad(banks, { accounts: ACCOUNTS, rate: RATE, tickMs: TICK_MS });
    load.start();
    await sleep(WARM_S * 1000);
    const all = [0, 1, 2, 3];
    const others = all.filter((i) => i !== DOWN);

    const up = await measure(cluster, "all up", all);
    await cluster.kill(DOWN, "SIGKILL");
    const killed = await measure(cluster, `node ${DOWN} killed (SIGKILL)`, others);
    cluster.start(DOWN);
    await cluster.ready();
    progress(`node ${DOWN} restarted; ${RECOVER_S} s to catch up`);
    await sleep(RECOVER_S * 1000);
    cluster.procs[DOWN]!.kill("SIGSTOP");
    const paused = await measure(cluster, `node ${DOWN} paused (SIGSTOP)`, others);
    cluster.procs[DOWN]!.kill("SIGCONT");
    progress(`node ${DOWN} resumed (SIGCONT); ${RECOVER_S} s to catch up`);
    await sleep(RECOVER_S * 1000);
    const after = await measure(cluster, "all up again", all);
    const unanswered = await load.stop(60_000);
    for (const c of clients) c.close();

    const f = (m: { w: Window; views: [number, number, number][]; loadAvg: number }) =>
      figures(load, m.w, m.views, m.loadAvg);
    const windows = { allUp: f(up), oneKilled: f(killed), onePaused: f(paused), allUpAgain: f(after) };
    for (const [k, v] of Object.entries(windows))
      progress(
        `${k}: ${v.transfersPerSec.toFixed(1)} transfers/s, p50 ${v.p50Ms.toFixed(0)} ms, p99 ${v.p99Ms.toFixed(0)} ms, ` +
          `refusals ${JSON.stringify(v.refusals)}, [node, round, leader] ${JSON.stringify(v.views)}, load ${v.loadAvg.toFixed(1)}`,
      );

    progress(`killing nodes 2 and ${DOWN}: no quorum; timing one transfer`);
    await cluster.kill(2, "SIGKILL");
    await cluster.kill(DOWN, "SIGKILL");
    const wedged = await wedgedCall(cluster);
    progress(`wedged transfer: ${wedged.outcome} after ${wedged.ms} ms`);

    // The all-up baseline is the mean rate and median p50 of the two all-up windows (before the
    // faults and after the repairs), so a slow start or a late backlog does not skew the ratios.
    const upRate = (windows.allUp.transfersPerSec + windows.allUpAgain.transfersPerSec) / 2;
    const upP50 = median([windows.allUp.p50Ms, windows.allUpAgain.p50Ms]);
    const result = {
      bench: "faults",
      oneDownThroughputRatio: round3(windows.oneKilled.transfersPerSec / upRate),
      oneDownP50Ratio: round3(windows.oneKilled.p50Ms / upP50),
      pausedNodeExtraMs: Math.round(windows.onePaused.p50Ms - upP50),
      wedgedCallMs: wedged.ms,
      wedgedOutcome: wedged.outcome,
      sdkDefaultTimeoutMs: DEFAULT_CALL_TIMEOUT_MS,
      offeredPerSec: RATE,
      windowS: WINDOW_S,
      allUpTransfersPerSec: round3(upRate),
      allUpP50Ms: Math.round(upP50),
      unansweredAtEnd: unanswered,
      windows,
      machine: machineLine(),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const p of cluster.procs) p?.kill("SIGCONT");
    running.delete(cluster);
    await cluster.stop();
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

await main();
process.exit(0);
