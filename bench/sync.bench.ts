// bench:sync — how long a wiped node takes to get its partitions back, and what that costs the
// cluster meanwhile. The wiped node is restarted with --join: it installs its store from the newest
// snapshot its peers vouch for (node/snapshot/, docs/state-sync.md; nodes snapshot every
// SNAPSHOT_INTERVAL_BLOCKS heights, or --snapshot-interval), then applies only the blocks after
// it; with no snapshot yet it replays every block from height 1 (the JSON's "method" says which).
//
// A real 4-node cluster (k = 2) on loopback (test/cluster/cluster.ts); ACCOUNTS bank accounts
// opened and minted through it (bench/bank-accounts.ts); then a steady transfer load offered at
// RATE per second to nodes 0–2 (bench/steady-load.ts). After a warm-up, BEFORE_S seconds of it are
// measured; then node 3 is stopped, its data directory deleted and the node started again with
// its same configuration. Its height is polled (Status) beside node 0's until it reaches node 0's:
//
//   syncSeconds                 from the restart to node 3 at node 0's height (startup included)
//   replaySeconds               from the restart to node 3 at the height the cluster had when it
//                               was wiped
//   syncRecordsPerSec           ACCOUNTS ÷ syncSeconds (the records in the cluster; node 3 holds
//                               about half of them)
//   snapshotHeight, installMs   the snapshot's height and how long finding, fetching, checking and
//                               installing it took (from node 3's log)
//   throughputDuringSyncRatio   transfers/s completed during the sync ÷ during the window before
//   syncedDirBytes              node 3's data directory once synced (beside its peers')
//   syncReadBytes               bytes node 3 read by system calls while syncing (/proc/PID/io
//                               rchar: its sockets, so the blocks it received, and its own files)
// Then the load stops and all four nodes must reach the same height and root.
//
// --quick: 10,000 accounts and a 15 s window. Flags: --accounts N, --rate R, --before-s S,
// --timeout-s S (longest wait for the sync), --snapshot-interval H. Progress on stderr; the last stdout line is JSON.
import { readFileSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Cluster } from "../test/cluster/cluster.js";
import { LoadClient } from "./load.js";
import { openBankAccounts } from "./bank-accounts.js";
import { SteadyLoad, guard, release } from "./steady-load.js";
import { dirBreakdown, dirBytes, hasFlag, machineLine, numberFlag, progress, rssMiB } from "./machine.js";
import { installNodeSha256 } from "../node/platform.js";
import { generateKeyPair } from "../node/keys.js";
import { SNAPSHOT_INTERVAL_BLOCKS } from "../node/common/limits.js";

installNodeSha256();

const QUICK = hasFlag("quick");
const ACCOUNTS = numberFlag("accounts", QUICK ? 10_000 : 100_000);
const RATE = numberFlag("rate", 150);
const BEFORE_S = numberFlag("before-s", QUICK ? 15 : 30);
const TIMEOUT_S = numberFlag("timeout-s", QUICK ? 300 : 1800);
const SNAPSHOT_INTERVAL = numberFlag("snapshot-interval", SNAPSHOT_INTERVAL_BLOCKS);
const WARM_S = 5;
const N = 4;
const K = 2;
const WIPED = 3;
const USERS = 8;
const TARGETS = { syncRecordsPerSec: 20_000, throughputDuringSyncRatio: 0.7 };

const acct = (i: number) => `bank/accounts/a${i}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (b: number) => (b / 2 ** 20).toFixed(1);

/** rchar of /proc/PID/io: bytes the process read by system calls (sockets and files), or NaN. */
function readBytes(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /rchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** The RSS of the nodes other than the wiped one, "a/b/c" in MiB. */
function peersRss(c: Cluster): string {
  return c.procs
    .map((p, i) => (i === WIPED ? null : rssMiB(p?.pid).toFixed(0)))
    .filter((x) => x !== null)
    .join("/");
}

async function heightOf(c: Cluster, id: number): Promise<bigint | null> {
  try {
    return (await c.clients[id]!.status()).height;
  } catch {
    return null;
  }
}

/** Polls until the wiped node has reached node 0's height; when it passed the wipe height, and bytes read. */
async function waitForSync(
  c: Cluster,
  steady: SteadyLoad,
  wipedHeight: bigint,
  tRestart: number,
  read0: number,
): Promise<{ tReplayed: number; tSynced: number; read1: number }> {
  const pid = c.procs[WIPED]?.pid;
  let read1 = read0;
  let tReplayed = NaN;
  let tSynced = NaN;
  let lastProgress = tRestart;
  const deadline = tRestart + TIMEOUT_S * 1000;
  for (;;) {
    const [h3, h0] = await Promise.all([heightOf(c, WIPED), heightOf(c, 0)]);
    const now = performance.now();
    const r = readBytes(pid);
    if (Number.isFinite(r)) read1 = r;
    if (h3 !== null && h3 >= wipedHeight && Number.isNaN(tReplayed)) tReplayed = now;
    if (h3 !== null && h0 !== null && h3 >= h0) {
      tSynced = now;
      break;
    }
    if (c.procs[WIPED]?.exitCode !== null && c.procs[WIPED]?.exitCode !== undefined)
      throw new Error(`node ${WIPED} exited (code ${c.procs[WIPED]?.exitCode}) while syncing`);
    if (now > deadline)
      throw new Error(
        `node ${WIPED} did not sync within ${TIMEOUT_S} s: height ${h3 ?? "unknown"}, node 0 at ${h0 ?? "unknown"}`,
      );
    if (now - lastProgress > 10_000) {
      lastProgress = now;
      progress(
        `  syncing: node ${WIPED} at ${h3 ?? "-"}, node 0 at ${h0 ?? "-"} (${((now - tRestart) / 1000).toFixed(0)} s; cluster ${steady.rateIn(now - 10_000, now).toFixed(1)} transfers/s over the last 10 s; RSS ${rssMiB(pid).toFixed(0)} MiB, its peers ${peersRss(c)} MiB)`,
      );
    }
    await sleep(250);
  }
  return { tReplayed, tSynced, read1 };
}

interface SyncFigures {
  readonly wipedHeight: bigint;
  readonly syncS: number;
  readonly tReplayed: number;
  readonly tRestart: number;
  readonly before: number;
  readonly during: number;
  readonly synced: Record<string, number>;
  readonly syncedBytes: number;
  readonly peerBytes: number;
  readonly peerNow: number;
  readonly height: bigint;
  readonly readSync: number;
  readonly steady: SteadyLoad;
  readonly snapshot: { height: number; ms: number } | null;
}

/** The snapshot the wiped node installed, from its log (null: it replayed from the genesis). */
function installedSnapshot(log: string): { height: number; ms: number } | null {
  const m = /"msg":"store installed from a snapshot"[^\n]*"height":"(\d+)","ms":(\d+)/.exec(log);
  return m ? { height: Number(m[1]), ms: Number(m[2]) } : null;
}

/** The summary lines and the JSON line last. */
function report(f: SyncFigures): void {
  const {
    wipedHeight,
    syncS,
    tReplayed,
    tRestart,
    before,
    during,
    synced,
    syncedBytes,
    peerBytes,
    peerNow,
    height,
    readSync,
    steady,
    snapshot,
  } = f;
  console.log("");
  console.log(
    `node ${WIPED} of ${N} (k = ${K}) wiped and restarted with --join at cluster height ${wipedHeight}, ${ACCOUNTS} accounts in the cluster: ${snapshot ? `installed the snapshot of height ${snapshot.height} in ${snapshot.ms} ms, then applied ${Number(wipedHeight) - snapshot.height}+ blocks` : "no snapshot: REPLAYED every block"}`,
  );
  console.log(
    `  synced in ${syncS.toFixed(1)} s (reached the wipe height after ${((tReplayed - tRestart) / 1000).toFixed(1)} s) = ${(ACCOUNTS / syncS).toFixed(0)} records/s (target ≥ ${TARGETS.syncRecordsPerSec})`,
  );
  console.log(
    `  cluster transfers/s at ${RATE}/s offered: ${before.toFixed(1)} before, ${during.toFixed(1)} during the sync = ${(during / before).toFixed(2)} (target ≥ ${TARGETS.throughputDuringSyncRatio})`,
  );
  console.log(
    `  node ${WIPED}'s data directory once synced: ${mib(syncedBytes)} MiB (${Object.entries(synced)
      .sort((a, b) => b[1] - a[1])
      .map(([p, b]) => `${p} ${mib(b)}`)
      .join(", ")}); node 0's: ${mib(peerBytes)} MiB at the wipe, ${mib(peerNow)} MiB at height ${height}`,
  );
  console.log(`  node ${WIPED} read ${mib(readSync)} MiB by system calls while syncing (sockets and files)`);
  console.log(
    `  transfers: ${steady.accepted} accepted, ${steady.rejected} refused, ${steady.shed} shed of ${steady.sent + steady.shed} offered`,
  );
  console.log(
    JSON.stringify({
      bench: "sync",
      method: snapshot ? "snapshot" : "replay",
      snapshotInterval: SNAPSHOT_INTERVAL,
      snapshotHeight: snapshot?.height ?? null,
      installMs: snapshot?.ms ?? null,
      nodes: N,
      k: K,
      accounts: ACCOUNTS,
      offeredRate: RATE,
      wipedAtHeight: Number(wipedHeight),
      syncSeconds: +syncS.toFixed(1),
      replaySeconds: +((tReplayed - tRestart) / 1000).toFixed(1),
      syncRecordsPerSec: Math.round(ACCOUNTS / syncS),
      transfersPerSecBefore: +before.toFixed(1),
      transfersPerSecDuringSync: +during.toFixed(1),
      throughputDuringSyncRatio: +(during / before).toFixed(3),
      syncedDirBytes: syncedBytes,
      syncedConsensusBytes: synced.consensus ?? 0,
      syncedStoreBytes: synced.store ?? 0,
      peerDirBytesAtWipe: peerBytes,
      syncReadBytes: Number.isFinite(readSync) ? readSync : null,
    }),
  );
}

async function main(): Promise<void> {
  console.log(machineLine());
  progress(machineLine());
  progress(`--- ${N} nodes, k = ${K}: ${ACCOUNTS} accounts, transfers at ${RATE}/s offered ---`);
  process.env["ARBOR_SNAPSHOT_INTERVAL"] = String(SNAPSHOT_INTERVAL);
  const c = await Cluster.create({ n: N, k: K, T: 65536, tickMs: 20 });
  guard(c);
  let load: LoadClient | null = null;
  try {
    c.startAll();
    await c.ready();
    const owner = generateKeyPair();
    const users = Array.from({ length: USERS }, () => generateKeyPair());
    let lastLog = 0;
    await openBankAccounts({
      genesis: c.genesis,
      nodes: N,
      owner,
      users,
      accounts: ACCOUNTS,
      account: acct,
      amount: 1_000_000,
      inflight: 4,
      onProgress: (phase, done) => {
        if (performance.now() - lastLog > 10_000 || done === ACCOUNTS) {
          lastLog = performance.now();
          progress(`  ${phase}: ${done}/${ACCOUNTS}`);
        }
      },
    });
    load = new LoadClient(c.genesis);
    load.subscribe(0);
    const live = new Set(c.genesis.nodes.map((_, i) => i).filter((i) => i !== WIPED));
    const steady = new SteadyLoad({
      load,
      accounts: ACCOUNTS,
      account: acct,
      users,
      rate: RATE,
      maxInflight: Math.max(200, RATE * 4),
      vias: () => [...live],
    });
    progress(
      `steady load to nodes ${[...live].join(", ")}: ${WARM_S} s warm-up, then ${BEFORE_S} s measured`,
    );
    await sleep(WARM_S * 1000);
    const beforeFrom = performance.now();
    await sleep(BEFORE_S * 1000);
    const beforeTo = performance.now();
    // Receipts of the window's last transfers may still come; the rate counts the window only.
    const before = steady.rateIn(beforeFrom, beforeTo);
    progress(
      `  before: ${before.toFixed(1)} transfers/s completed (load average ${loadavg()[0]!.toFixed(1)})`,
    );

    // Wipe node 3: no proofs asked of it from here until it has caught up.
    load.avoid.add(WIPED);
    const wipedHeight = (await c.clients[0]!.status()).height;
    await c.kill(WIPED, "SIGTERM");
    const dir = join(c.dir, `node${WIPED}`);
    const peerBytes = dirBytes(join(c.dir, "node0"));
    rmSync(dir, { recursive: true, force: true });
    progress(
      `node ${WIPED} stopped at cluster height ${wipedHeight}, its data directory deleted; restarting`,
    );
    const tRestart = performance.now();
    c.start(WIPED, {}, ["--join"]);
    const pid = c.procs[WIPED]?.pid;
    const read0 = readBytes(pid);
    const { tReplayed, tSynced, read1 } = await waitForSync(c, steady, wipedHeight, tRestart, read0);
    const syncS = (tSynced - tRestart) / 1000;
    const during = steady.rateIn(tRestart, tSynced);
    progress(
      `  node ${WIPED} synced in ${syncS.toFixed(1)} s (at the wipe height after ${((tReplayed - tRestart) / 1000).toFixed(1)} s); cluster ${during.toFixed(1)} transfers/s meanwhile`,
    );
    for (const line of c.logsOf(WIPED).split("\n"))
      if (/snapshot|node started|state loaded|caught up|partition acquired|replaying|syncing/.test(line))
        progress(`  node ${WIPED}: ${line.slice(0, 200)}`);
    load.avoid.delete(WIPED);
    const left = await steady.stop();
    if (left > 0) progress(`  ${left} transfers still unanswered after the drain`);
    if (steady.reasons.size)
      progress(`  refused: ${[...steady.reasons].map(([r, x]) => `${r}×${x}`).join(", ")}`);
    await c.converged(120_000, "all four nodes at one height and root after the sync");
    const height = (await c.clients[0]!.status()).height;
    const synced = dirBreakdown(dir);
    const syncedBytes = dirBytes(dir);
    const peerNow = dirBytes(join(c.dir, "node0"));
    const readSync = read1 - read0;

    report({
      wipedHeight,
      syncS,
      tReplayed,
      tRestart,
      before,
      during,
      synced,
      syncedBytes,
      peerBytes,
      peerNow,
      height,
      readSync,
      steady,
      snapshot: installedSnapshot(c.logsOf(WIPED)),
    });
  } catch (e) {
    c.printLogs();
    throw e;
  } finally {
    load?.close();
    await release(c);
  }
}

await main();
