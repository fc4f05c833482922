// bench:storage — what partitioned storage saves per node. Three real clusters on loopback, one
// after the other (node child processes, test/cluster/cluster.ts): 1 node holding everything (the
// reference), 4 nodes with k = 2 and 5 nodes with k = 1. Each gets the same records and the same
// load: ACCOUNTS bank accounts opened and minted through the cluster (bench/bank-accounts.ts, over
// the node API), then TRANSFERS transfers between random accounts offered at RATE per second
// (bench/steady-load.ts). Once every node has the same height and root, per node: the bytes of its
// data directory (every file, recursively; beside it the split by top-level entry — `consensus`,
// the ordered blocks with their requests; `store`, the partition's records and history; `node`,
// receipts and node metadata) and its resident set (VmRSS). The `snapshots` a node keeps to serve
// joining nodes (node/snapshot/, one written every 512 heights, the newest two kept) are left out
// of the ratios and reported beside them (`snapshotBytes`): how many a cluster has depends on how
// many heights its load took, and the 1-node cluster makes many more (smaller) blocks than the
// others, so counting them would flatter the partitioned clusters.
//
//   diskPerNodeRatioN4K2   median node's directory bytes in the 4-node cluster ÷ the 1 node's
//   diskPerNodeRatioN5K1   the same for the 5-node cluster (the largest node's ratio is printed too)
//   rssPerNodeMiB          the largest RSS of a node of the 4-node cluster after the load (beside
//                          it, heapMiB: the median node's V8 heap and external memory, from its metrics)
//
// --million adds a 4-node k = 2 cluster with 1,000,000 accounts and the same transfers:
//   rssPerNodeMiBAt1M      the largest RSS of its nodes after the load
//   loadRecordsPerSecAt1M  accounts opened through the cluster per second between the 900,000th
//                          and the 1,000,000th (each a new record)
// --quick: 10,000 accounts and 10,000 transfers (a sanity run of a few minutes).
// Flags: --accounts N, --transfers N, --rate R (offered transfers/s), --inflight B (setup
// batches of 200 in flight). Progress on stderr; the last line of stdout is one JSON object.
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { Cluster } from "../test/cluster/cluster.js";
import { LoadClient } from "./load.js";
import { openBankAccounts } from "./bank-accounts.js";
import { SteadyLoad, guard, release } from "./steady-load.js";
import {
  dirBreakdown,
  dirBytes,
  hasFlag,
  heapFigures,
  type HeapFigures,
  machineLine,
  median,
  numberFlag,
  progress,
  rssMiB,
} from "./machine.js";
import { storeBreakdown } from "./store-breakdown.js";
import { installNodeSha256 } from "../node/platform.js";
import { generateKeyPair } from "../node/keys.js";

installNodeSha256();

const QUICK = hasFlag("quick");
const MILLION = hasFlag("million");
const ACCOUNTS = numberFlag("accounts", QUICK ? 10_000 : 100_000);
const TRANSFERS = numberFlag("transfers", QUICK ? 10_000 : 100_000);
const RATE = numberFlag("rate", 400);
const SETUP_INFLIGHT = numberFlag("inflight", 4);
const MILLION_ACCOUNTS = 1_000_000;
const USERS = 8;
const CONVERGE_MS = 300_000;
const TARGETS = { n4k2: 0.65, n5k1: 0.26, rss: 200, rss1M: 512, load1M: 5_000 };

const acct = (i: number) => `bank/accounts/a${i}`;
const mib = (b: number) => (b / 2 ** 20).toFixed(1);

interface NodeFigures {
  readonly bytes: number;
  readonly parts: Record<string, number>;
  readonly rssMiB: number;
  readonly heap: HeapFigures;
}

interface Shape {
  readonly n: number;
  readonly k: number;
  readonly accounts: number;
  readonly nodes: NodeFigures[];
  /** node 0's store database, live entries by kind (bench/store-breakdown.ts) */
  readonly store0: Record<string, number>;
  /** records opened per second over the whole open phase */
  readonly openPerSec: number;
  /** accounts opened per second between 90% and 100% of them */
  readonly lastTenthPerSec: number;
  readonly transfersPerSec: number;
  readonly refused: number;
  readonly height: bigint;
  readonly seconds: number;
}

/** Node i's data directory (without its snapshots), split by database, its RSS and its heap. */
async function nodeFigures(c: Cluster, i: number): Promise<NodeFigures> {
  const dir = join(c.dir, `node${i}`);
  const parts = dirBreakdown(dir);
  const heap = await heapFigures(c.metricsPorts[i]);
  return { bytes: dirBytes(dir) - (parts["snapshots"] ?? 0), parts, rssMiB: rssMiB(c.procs[i]?.pid), heap };
}

async function runShape(n: number, k: number, accounts: number): Promise<Shape> {
  const t0 = performance.now();
  progress(
    `--- ${n} node(s), k = ${k}: ${accounts} accounts, ${TRANSFERS} transfers at ${RATE}/s offered ---`,
  );
  const c = await Cluster.create({ n, k, T: 65536, tickMs: 20, metrics: true });
  guard(c);
  try {
    c.startAll();
    await c.ready();
    const owner = generateKeyPair();
    const users = Array.from({ length: USERS }, () => generateKeyPair());
    // Times at which the open phase passed each tenth of the accounts.
    const marks = new Map<number, number>();
    let lastLog = 0;
    const tOpen = performance.now();
    await openBankAccounts({
      genesis: c.genesis,
      nodes: n,
      owner,
      users,
      accounts,
      account: acct,
      amount: 1_000_000,
      inflight: SETUP_INFLIGHT,
      onProgress: (phase, done) => {
        const now = performance.now();
        if (phase === "open") {
          const tenth = Math.floor((done * 10) / accounts);
          if (!marks.has(tenth)) marks.set(tenth, now);
        }
        if (now - lastLog > 10_000 || done === accounts) {
          lastLog = now;
          const s = (now - tOpen) / 1000;
          progress(`  ${phase}: ${done}/${accounts} (${s.toFixed(0)} s since the first open)`);
        }
      },
    });
    const openS = ((marks.get(10) ?? performance.now()) - tOpen) / 1000;
    const lastTenthS = ((marks.get(10) ?? NaN) - (marks.get(9) ?? NaN)) / 1000;
    const load = new LoadClient(c.genesis);
    load.subscribe(0);
    const vias = c.genesis.nodes.map((_, i) => i);
    const steady = new SteadyLoad({
      load,
      accounts,
      account: acct,
      users,
      rate: RATE,
      maxInflight: Math.max(200, RATE * 2),
      total: TRANSFERS,
      vias: () => vias,
    });
    const tLoad = performance.now();
    const tick = setInterval(
      () =>
        progress(
          `  transfers: ${steady.accepted} accepted, ${steady.rejected} refused, ${steady.shed} shed of ${steady.sent} sent (load average ${loadavg()[0]!.toFixed(1)})`,
        ),
      15_000,
    );
    // Arrivals shed at the in-flight cap are not sent: keep offering until TRANSFERS were sent.
    try {
      await steady.finished();
    } finally {
      clearInterval(tick);
      load.close();
    }
    const loadS = (performance.now() - tLoad) / 1000;
    if (steady.reasons.size)
      progress(`  refused: ${[...steady.reasons].map(([r, x]) => `${r}×${x}`).join(", ")}`);
    await c.converged(CONVERGE_MS, `the ${n} nodes at one height and root`);
    const height = (await c.clients[0]!.status()).height;
    await new Promise((r) => setTimeout(r, 2000));
    const nodes = await Promise.all(c.genesis.nodes.map((_, i) => nodeFigures(c, i)));
    // Node 0 stopped, its store database read: what the store's bytes are.
    await c.kill(0, "SIGTERM");
    const store0 = await storeBreakdown(join(c.dir, "node0", "store"));
    const storeTotal = Object.values(store0).reduce((a, b) => a + b, 0);
    progress(
      `  node 0's store, live entries (key + value, uncompressed): ${mib(storeTotal)} MiB = ${Object.entries(
        store0,
      )
        .sort((a, b) => b[1] - a[1])
        .map(([p, b]) => `${p} ${mib(b)}`)
        .join(", ")}`,
    );
    for (const [i, f] of nodes.entries())
      progress(
        `  node ${i}: ${mib(f.bytes)} MiB on disk (${Object.entries(f.parts)
          .sort((a, b) => b[1] - a[1])
          .map(([p, b]) => `${p} ${mib(b)}`)
          .join(
            ", ",
          )}), RSS ${f.rssMiB.toFixed(0)} MiB (V8 heap ${f.heap.heapUsedMiB.toFixed(0)} of ${f.heap.heapTotalMiB.toFixed(0)} MiB in use, external ${f.heap.externalMiB.toFixed(0)} MiB)`,
      );
    return {
      n,
      k,
      accounts,
      nodes,
      store0,
      openPerSec: accounts / openS,
      lastTenthPerSec: accounts / 10 / lastTenthS,
      transfersPerSec: steady.accepted / loadS,
      refused: steady.rejected,
      height,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    c.printLogs();
    throw e;
  } finally {
    await release(c);
  }
}

const rounded = (r: Record<string, number>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)]));

const share = (f: NodeFigures, part: string) => (f.parts[part] ?? 0) / Math.max(1, f.bytes);

function describe(s: Shape, ref: Shape | null): string[] {
  const bytes = s.nodes.map((f) => f.bytes);
  const lines = [
    `${s.n} node(s), k = ${s.k}, ${s.accounts} accounts + ${TRANSFERS} transfers, height ${s.height}, ${s.seconds.toFixed(0)} s:`,
    `  opened ${s.openPerSec.toFixed(0)} accounts/s (last tenth ${s.lastTenthPerSec.toFixed(0)}/s); transfers ${s.transfersPerSec.toFixed(0)}/s achieved at ${RATE}/s offered, ${s.refused} refused`,
    `  data directory per node: median ${mib(median(bytes))} MiB, max ${mib(Math.max(...bytes))} MiB` +
      (ref
        ? ` = ${(median(bytes) / ref.nodes[0]!.bytes).toFixed(3)} (median), ${(Math.max(...bytes) / ref.nodes[0]!.bytes).toFixed(3)} (max) of the 1-node directory`
        : ""),
    `  of a median node: consensus ${(100 * median(s.nodes.map((f) => share(f, "consensus")))).toFixed(0)}%, store ${(100 * median(s.nodes.map((f) => share(f, "store")))).toFixed(0)}%, node ${(100 * median(s.nodes.map((f) => share(f, "node")))).toFixed(0)}%`,
    `  RSS per node: ${s.nodes.map((f) => f.rssMiB.toFixed(0)).join(", ")} MiB`,
    `  node 0's store, live entries (key + value, uncompressed): ${Object.entries(s.store0)
      .sort((a, b) => b[1] - a[1])
      .map(([p, b]) => `${p} ${mib(b)} MiB`)
      .join(", ")}`,
  ];
  return lines;
}

async function main(): Promise<void> {
  console.log(machineLine());
  progress(machineLine());
  progress(
    `${cpus().length} cores shared by every node of a cluster, this process and anything else running`,
  );
  const one = await runShape(1, 1, ACCOUNTS);
  const n4 = await runShape(4, 2, ACCOUNTS);
  const n5 = await runShape(5, 1, ACCOUNTS);
  const m = MILLION ? await runShape(4, 2, MILLION_ACCOUNTS) : null;
  console.log("");
  for (const l of describe(one, null)) console.log(l);
  for (const s of [n4, n5, ...(m ? [m] : [])]) for (const l of describe(s, one)) console.log(l);
  const refBytes = one.nodes[0]!.bytes;
  const ratio = (s: Shape) => median(s.nodes.map((f) => f.bytes)) / refBytes;
  const maxRss = (s: Shape) => Math.max(...s.nodes.map((f) => f.rssMiB));
  const heapOf = (s: Shape) => ({
    used: Math.round(median(s.nodes.map((f) => f.heap.heapUsedMiB))),
    total: Math.round(median(s.nodes.map((f) => f.heap.heapTotalMiB))),
    external: Math.round(median(s.nodes.map((f) => f.heap.externalMiB))),
  });
  const part = (s: Shape, p: string) => Math.round(median(s.nodes.map((f) => f.parts[p] ?? 0)));
  console.log(
    `targets: diskPerNodeRatioN4K2 ≤ ${TARGETS.n4k2}, diskPerNodeRatioN5K1 ≤ ${TARGETS.n5k1}, rssPerNodeMiB ≤ ${TARGETS.rss}` +
      (m ? `, rssPerNodeMiBAt1M ≤ ${TARGETS.rss1M}, loadRecordsPerSecAt1M ≥ ${TARGETS.load1M}` : "") +
      "; ratios are of the median node's data directory without its snapshots (the 1-node cluster measured in the same run)",
  );
  const r3 = (x: number) => +x.toFixed(3);
  console.log(
    JSON.stringify({
      bench: "storage",
      accounts: ACCOUNTS,
      transfers: TRANSFERS,
      offeredRate: RATE,
      diskPerNodeRatioN4K2: r3(ratio(n4)),
      diskPerNodeRatioN5K1: r3(ratio(n5)),
      maxDiskPerNodeRatioN4K2: r3(Math.max(...n4.nodes.map((f) => f.bytes)) / refBytes),
      maxDiskPerNodeRatioN5K1: r3(Math.max(...n5.nodes.map((f) => f.bytes)) / refBytes),
      rssPerNodeMiB: Math.round(maxRss(n4)),
      rssPerNodeMiBN5K1: Math.round(maxRss(n5)),
      rssOneNodeMiB: Math.round(maxRss(one)),
      oneNodeDirBytes: refBytes,
      n4k2DirBytes: Math.round(median(n4.nodes.map((f) => f.bytes))),
      n5k1DirBytes: Math.round(median(n5.nodes.map((f) => f.bytes))),
      consensusBytes: {
        n1: part(one, "consensus"),
        n4k2: part(n4, "consensus"),
        n5k1: part(n5, "consensus"),
      },
      storeBytes: { n1: part(one, "store"), n4k2: part(n4, "store"), n5k1: part(n5, "store") },
      nodeMetaBytes: { n1: part(one, "node"), n4k2: part(n4, "node"), n5k1: part(n5, "node") },
      snapshotBytes: {
        n1: part(one, "snapshots"),
        n4k2: part(n4, "snapshots"),
        n5k1: part(n5, "snapshots"),
      },
      heights: { n1: Number(one.height), n4k2: Number(n4.height), n5k1: Number(n5.height) },
      // The median node's V8 heap (in use, and reserved) and external memory, in MiB.
      heapMiB: { n1: heapOf(one), n4k2: heapOf(n4), n5k1: heapOf(n5), ...(m ? { at1M: heapOf(m) } : {}) },
      storeLiveBytes: { n1: rounded(one.store0), n4k2: rounded(n4.store0), n5k1: rounded(n5.store0) },
      rssPerNodeMiBAt1M: m ? Math.round(maxRss(m)) : null,
      loadRecordsPerSecAt1M: m ? Math.round(m.lastTenthPerSec) : null,
      dirBytesAt1M: m ? Math.round(median(m.nodes.map((f) => f.bytes))) : null,
    }),
  );
}

await main();
