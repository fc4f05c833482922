// npm run soak — does a node's memory plateau under steady load? Starts a real 4-node cluster
// (node child processes on loopback, test/cluster/cluster.ts), opens and mints accounts, then drives
// a steady open-loop load of SDK transfers (Bank.transfer through ArborClient, several clients, an
// account never in two transfers at once) for --minutes, and samples each node's resident set
// (VmRSS from /proc/PID/status) every --sample-s seconds. A node's memory should be its partition,
// plus O(T) history, plus bounded caches: with transfers between existing accounts the partition
// does not grow and the history window fills in the first minutes, so RSS must go flat. The
// second-half slope of each node (least squares over the samples taken after half the run) is the
// figure; the last stdout line is one JSON object with it.
//
// Options: --minutes N (30), --rate R transfers/s (20), --sample-s S (30), --T history window
// (2048; small enough that it fills well inside the first half at the default rate), --accounts A
// (2000), --clients C (4), --heap-snapshots (each node writes a V8 heap snapshot at the start of
// the second half and at the end, into a directory printed at the start; compare them with
// `node dist/bench/heap-diff.js A B`). A snapshot stops the node for seconds and its RSS briefly
// rises: runs meant for the slope leave snapshots off.
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { ArborClient } from "../client/index.js";
import { RequestRejected } from "../client/errors.js";
import { Bank } from "../examples/banking/bank.js";
import { openBankAccounts } from "./bank-accounts.js";
import { machineLine, progress, rssMiB } from "./machine.js";
import { installNodeSha256 } from "../node/platform.js";
import { generateKeyPair } from "../node/keys.js";

installNodeSha256();

function option(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

const MINUTES = option("minutes", 30);
const RATE = option("rate", 20);
const SAMPLE_S = option("sample-s", 30);
const T = option("T", 2048);
const ACCOUNTS = option("accounts", 2000);
const CLIENTS = option("clients", 4);
const HEAP_SNAPSHOTS = process.argv.includes("--heap-snapshots");
const NODES = 4;
const TICK_MS = 10;
/** Longest wait for the last transfers once the load stops. */
const DRAIN_MS = 60_000;

const snapshotDir = HEAP_SNAPSHOTS ? mkdtempSync(join(tmpdir(), "arbor-soak-heap-")) : null;
if (snapshotDir)
  process.env.ARBOR_NODE_FLAGS = [
    process.env.ARBOR_NODE_FLAGS ?? "",
    "--heapsnapshot-signal=SIGUSR2",
    `--diagnostic-dir=${snapshotDir}`,
  ].join(" ");
// Imported after the node flags are set: the cluster reads them when its module loads.
const { Cluster } = await import("../test/cluster/cluster.js");
type ClusterT = Awaited<ReturnType<typeof Cluster.create>>;

const acct = (i: number) => `bank/accounts/a${i}`;

/** The node's last logged memory breakdown (node/main.ts logs one every 30 s), as a short text. */
function heapOf(cluster: ClusterT, id: number): string {
  const lines = cluster.logsOf(id).match(/\{[^\n]*"msg":"memory"[^\n]*\}/g);
  if (!lines) return "-";
  const m = JSON.parse(lines[lines.length - 1]!) as Record<string, number>;
  return `heap ${m.heapUsedMiB}/${m.heapTotalMiB} ext ${m.externalMiB}`;
}

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Asks node `pid` for a heap snapshot and waits until its file is complete. */
async function heapSnapshot(pid: number, label: string): Promise<string> {
  const before = new Set(readdirSync(snapshotDir!));
  process.kill(pid, "SIGUSR2");
  const end = Date.now() + 180_000;
  let last = -1;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 1000));
    const f = readdirSync(snapshotDir!).find((x) => !before.has(x) && x.includes(`.${pid}.`));
    if (!f) continue;
    const size = statSync(join(snapshotDir!, f)).size;
    if (size > 0 && size === last) {
      progress(
        `heap snapshot ${label} of pid ${pid}: ${join(snapshotDir!, f)} (${(size / 2 ** 20).toFixed(1)} MiB)`,
      );
      return f;
    }
    last = size;
  }
  throw new Error(`no heap snapshot from pid ${pid}`);
}

async function populate(cluster: ClusterT): Promise<Bank[]> {
  const owner = generateKeyPair();
  const users = Array.from({ length: CLIENTS }, () => generateKeyPair());
  await openBankAccounts({
    genesis: cluster.genesis,
    nodes: NODES,
    owner,
    users,
    accounts: ACCOUNTS,
    account: acct,
    amount: 1_000_000,
  });
  progress(`${ACCOUNTS} accounts opened and minted, owned by ${CLIENTS} SDK clients`);
  const clients = await Promise.all(
    users.map((u) => ArborClient.connect({ genesis: cluster.genesis, key: u })),
  );
  return clients.map((c) => new Bank(c));
}

function reasonOf(e: unknown): string {
  if (e instanceof RequestRejected) return e.code;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" || typeof code === "number") return String(code);
  return e instanceof Error ? e.message.slice(0, 60) : String(e);
}

async function main(): Promise<void> {
  console.log(machineLine());
  progress(machineLine());
  progress(
    `soak: ${NODES} nodes, ${MINUTES} min at ${RATE} transfers/s, RSS every ${SAMPLE_S} s, T = ${T}` +
      (snapshotDir ? `, heap snapshots into ${snapshotDir}` : ""),
  );
  const cluster = await Cluster.create({ n: NODES, k: 2, T, tickMs: 20 });
  process.on("exit", () => {
    for (const p of cluster.procs) p?.kill("SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));
  cluster.startAll();
  await cluster.ready();
  const pids = cluster.procs.map((p) => p!.pid!);
  const banks = await populate(cluster);

  const busy = new Uint8Array(ACCOUNTS);
  let issued = 0;
  let accepted = 0;
  const refusals = new Map<string, number>();
  const inflight = new Set<Promise<void>>();
  const samples: Array<{ min: number; rss: number[] }> = [];
  const t0 = performance.now();
  const until = t0 + MINUTES * 60_000;
  let nextSample = t0;
  let midSnapshots = false;
  const snapshots = async (label: string) => {
    // One node at a time: a snapshot takes the node's one thread and much memory for a while.
    for (const pid of pids) await heapSnapshot(pid, label);
  };

  for (;;) {
    const now = performance.now();
    if (now >= nextSample) {
      const rss = pids.map(rssMiB);
      const min = (now - t0) / 60_000;
      samples.push({ min, rss });
      progress(`  node memory MiB: ${pids.map((_, i) => heapOf(cluster, i)).join("; ")}`);
      progress(
        `t=${min.toFixed(1)} min: rss MiB ${rss.map((r) => r.toFixed(1)).join(" ")}; accepted ${accepted}, in flight ${inflight.size}, refused ${[...refusals.values()].reduce((a, b) => a + b, 0)}; load ${loadavg()[0]!.toFixed(1)}`,
      );
      while (nextSample <= now) nextSample += SAMPLE_S * 1000;
    }
    if (snapshotDir && !midSnapshots && now >= t0 + (MINUTES * 60_000) / 2) {
      midSnapshots = true;
      await snapshots("mid");
      // The load paused while the nodes wrote: go on at the rate, without a burst to catch up.
      issued = Math.floor(((performance.now() - t0) / 1000) * RATE);
    }
    if (now >= until) break;
    const due = Math.floor(((now - t0) / 1000) * RATE);
    for (; issued < due; issued++) {
      let a = -1;
      let b = -1;
      for (let t = 0; t < 16 && a < 0; t++) {
        const x = Math.floor(Math.random() * ACCOUNTS);
        const y = Math.floor(Math.random() * ACCOUNTS);
        if (x !== y && !busy[x] && !busy[y]) [a, b] = [x, y];
      }
      if (a < 0) {
        refusals.set("no-idle-account", (refusals.get("no-idle-account") ?? 0) + 1);
        continue;
      }
      busy[a] = busy[b] = 1;
      const p: Promise<void> = banks[a % CLIENTS]!.transfer(`a${a}`, `a${b}`, 1n)
        .then(
          () => void accepted++,
          (e) => void refusals.set(reasonOf(e), (refusals.get(reasonOf(e)) ?? 0) + 1),
        )
        .finally(() => {
          busy[a] = busy[b] = 0;
          inflight.delete(p);
        });
      inflight.add(p);
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  const drainEnd = Date.now() + DRAIN_MS;
  while (inflight.size > 0 && Date.now() < drainEnd)
    await Promise.race([Promise.race(inflight), new Promise((r) => setTimeout(r, 1000))]);
  if (snapshotDir) await snapshots("end");
  for (const b of banks) b.client.close();
  await cluster.stop();

  const half = samples.filter((s) => s.min >= MINUTES / 2);
  const slopes = pids.map((_, i) =>
    slope(
      half.map((s) => s.min),
      half.map((s) => s.rss[i]!),
    ),
  );
  const r1 = (x: number) => +x.toFixed(1);
  const r3 = (x: number) => +x.toFixed(3);
  const refused = [...refusals].map(([k, v]) => `${k}×${v}`).join(", ") || "none";
  console.log(`accepted ${accepted} of ${issued} transfers; refused: ${refused}`);
  for (let i = 0; i < pids.length; i++)
    console.log(
      `node${i}: rss ${samples[0]!.rss[i]!.toFixed(1)} → ${samples.at(-1)!.rss[i]!.toFixed(1)} MiB, second-half slope ${slopes[i]!.toFixed(3)} MiB/min (${half.length} samples)`,
    );
  console.log(
    JSON.stringify({
      bench: "soak",
      minutes: MINUTES,
      rate: RATE,
      T,
      accepted,
      refused: [...refusals.values()].reduce((a, b) => a + b, 0),
      rssMiB: pids.map((_, i) => ({ first: r1(samples[0]!.rss[i]!), last: r1(samples.at(-1)!.rss[i]!) })),
      secondHalfSlopeMiBPerMin: slopes.map(r3),
      maxSlope: r3(Math.max(...slopes)),
    }),
  );
}

await main();
