// bench:node — a 4-node cluster on loopback taking banking transfers over random accounts through
// the node API at increasing offered rates: sustained ops/s, p50/p99 commit latency; in the same run
// the per-operation compute ceiling (signature, proof, compatibility, metered call, apply) measured
// in-process, and single-key verified GET replies per second from one node.
import { cpus } from "node:os";
import { ArborClient } from "../client/index.js";
import { Cluster } from "../test/cluster/cluster.js";
import { LoadClient, type Job } from "./load.js";
import { ceiling } from "./ceiling.js";
import { machineLine, processCpuMs, progress } from "./machine.js";
import { loadBuiltOp } from "../node/exec/built-ops.js";
import { Writer } from "../node/common/codec.js";
import { sha256 } from "../node/common/hash.js";
import { installNodeSha256 } from "../node/platform.js";
import { generateKeyPair, type KeyPair } from "../node/keys.js";
import { Partition } from "../node/store/core/partition.js";
import { keyPath } from "../node/store/core/path.js";
import { readInThreads } from "./get-readers.js";

installNodeSha256();
const ACCOUNTS = Number(process.env.ARBOR_BENCH_ACCOUNTS ?? 3000);
const RATES = (process.env.ARBOR_BENCH_RATES ?? "50,200,500,1000,2000,4000").split(",").map(Number);
const PHASE_S = Number(process.env.ARBOR_BENCH_PHASE_S ?? 6);
/** Reader threads for the GET phase (one thread cannot verify as fast as a node serves). */
const GET_THREADS = Number(process.env.ARBOR_BENCH_GET_THREADS ?? 2);
const acct = (i: number) => `bank/accounts/a${i}`;
const transferArgs = (a: number, b: number, amount: number) =>
  new Writer().string(acct(a)).string(acct(b)).varint(amount).finish();

// --- 2. the cluster ---------------------------------------------------------------------------

async function setupBank(c: Cluster, load: LoadClient): Promise<{ users: KeyPair[]; bank: KeyPair }> {
  const client = await ArborClient.connect({ genesis: c.genesis });
  await client.createDomain("bank");
  for (const op of ["open", "mint", "transfer"])
    await client.deployOp(`bank/${op}`, loadBuiltOp(`banking/${op}`));
  const bank = generateKeyPair();
  // Hand the domain to a node:crypto key the load generator signs with.
  await client.writeRecords("bank", [["bank/.owner", bank.publicKey]]);
  client.close();
  const users = Array.from({ length: ACCOUNTS }, () => generateKeyPair());
  const run = async (jobs: Job[]) => {
    for (let i = 0; i < jobs.length; i += 200) {
      const batch = jobs.slice(i, i + 200);
      const proof = await load.proofForJobs(batch);
      const signed = load.sign(batch, proof);
      const rs = await Promise.all(
        signed.map((s, k) => load.submit(s, sha256(s), k % c.genesis.nodes.length)),
      );
      for (const r of rs) if (r.status !== "accepted") throw new Error(`setup: ${r.reason} ${r.message}`);
    }
  };
  await run(
    users.map((u, i) => ({
      op: "bank/open",
      touched: [acct(i)],
      args: new Writer().string(acct(i)).finish(),
      signer: u,
    })),
  );
  progress(`opened ${ACCOUNTS} accounts`);
  await run(
    users.map((_, i) => ({
      op: "bank/mint",
      touched: ["bank/.owner", acct(i)],
      args: new Writer().string(acct(i)).varint(1_000_000).finish(),
      signer: bank,
    })),
  );
  progress(`minted ${ACCOUNTS} accounts`);
  return { users, bank };
}

interface PhaseResult {
  offered: number;
  achieved: number;
  accepted: number;
  rejected: number;
  p50: number;
  p99: number;
  /** CPU milliseconds the node processes used per accepted transfer (mean over the nodes) */
  cpuMsPerOp: number;
  /** CPU milliseconds of the mean node over the phase, and the blocks node 0 applied in it */
  nodeCpuMs: number;
  blocks: number;
}

/** CPU milliseconds used so far by each node process. */
const nodeCpu = (c: Cluster): number[] => c.procs.map((p) => processCpuMs(p?.pid));

async function phase(c: Cluster, load: LoadClient, users: KeyPair[], rate: number): Promise<PhaseResult> {
  const busy = new Uint8Array(ACCOUNTS);
  const lat: number[] = [];
  let accepted = 0;
  let rejected = 0;
  const reasons = new Map<string, number>();
  const tickMs = 20;
  const start = Date.now();
  const end = start + PHASE_S * 1000;
  const inflight: Promise<void>[] = [];
  let debt = 0;
  let last = start;
  let rr = 0;
  const height0 = (await load.conns[0]!.status()).height;
  const cpu0 = nodeCpu(c);
  while (Date.now() < end) {
    // Arrivals follow the clock, not the loop: a late timer (a busy machine) must not lower the rate.
    const now = Date.now();
    debt += (rate * (now - last)) / 1000;
    last = now;
    const jobs: Job[] = [];
    const pairs: Array<[number, number]> = [];
    while (debt >= 1) {
      let a = -1;
      let b = -1;
      for (let t = 0; t < 8 && (a < 0 || b < 0 || a === b); t++) {
        a = Math.floor(Math.random() * ACCOUNTS);
        b = Math.floor(Math.random() * ACCOUNTS);
        if (busy[a] || busy[b]) a = -1;
      }
      debt--;
      if (a < 0 || b < 0 || a === b) continue;
      busy[a] = busy[b] = 1;
      pairs.push([a, b]);
      jobs.push({
        op: "bank/transfer",
        touched: [acct(a), acct(b)],
        args: transferArgs(a, b, 1),
        signer: users[a]!,
      });
    }
    if (jobs.length > 0) {
      const p = (async () => {
        const proof = await load.proofForJobs(jobs);
        const signed = load.sign(jobs, proof);
        await Promise.all(
          signed.map(async (s, k) => {
            const t0 = performance.now();
            try {
              const r = await load.submit(s, sha256(s), rr++ % c.genesis.nodes.length);
              if (r.status === "accepted") {
                accepted++;
                lat.push(performance.now() - t0);
              } else {
                rejected++;
                reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
              }
            } catch (e) {
              rejected++;
              const m = e instanceof Error ? e.message : String(e);
              reasons.set(m, (reasons.get(m) ?? 0) + 1);
            } finally {
              busy[pairs[k]![0]] = busy[pairs[k]![1]] = 0;
            }
          }),
        );
      })();
      inflight.push(p);
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  const window = (Date.now() - start) / 1000;
  await Promise.all(inflight);
  const cpu = nodeCpu(c).map((x, i) => x - cpu0[i]!);
  const blocks = Number((await load.conns[0]!.status()).height - height0);
  const nodeCpuMs = cpu.reduce((a, b) => a + b, 0) / cpu.length;
  const cpuMsPerOp = nodeCpuMs / Math.max(1, accepted);
  progress(`  node CPU ms/op: ${cpu.map((x) => (x / Math.max(1, accepted)).toFixed(2)).join(" ")}`);
  lat.sort((a, b) => a - b);
  const q = (x: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(x * lat.length))]! : NaN);
  if (reasons.size) progress(`rejections: ${[...reasons].map(([k, v]) => `${k}×${v}`).join(", ")}`);
  return {
    offered: rate,
    achieved: accepted / window,
    accepted,
    rejected,
    p50: q(0.5),
    p99: q(0.99),
    cpuMsPerOp,
    nodeCpuMs,
    blocks,
  };
}

/**
 * A node's CPU split into a fixed cost per block and a cost per transfer: the least-squares fit of
 * `cpu = blockMs × blocks + opMs × transfers` over the phases (the load levels give blocks of
 * different fullness, which is what separates the two). Null when the phases cannot separate them.
 */
function fitBlockCost(rs: readonly PhaseResult[]): { blockMs: number; opMs: number } | null {
  let bb = 0;
  let bo = 0;
  let oo = 0;
  let bc = 0;
  let oc = 0;
  for (const r of rs) {
    bb += r.blocks * r.blocks;
    bo += r.blocks * r.accepted;
    oo += r.accepted * r.accepted;
    bc += r.blocks * r.nodeCpuMs;
    oc += r.accepted * r.nodeCpuMs;
  }
  const det = bb * oo - bo * bo;
  if (rs.length < 2 || det <= 1e-9 * bb * oo) return null;
  return { blockMs: (bc * oo - oc * bo) / det, opMs: (oc * bb - bc * bo) / det };
}

/**
 * Verified single-key GETs against node 0 for 4 s, by GET_THREADS reader threads of 32/threads
 * concurrent readers each (a reader checks the node's signature, decodes the proof and fetches
 * the certified header of the statement's height, cached).
 */
async function getRate(c: Cluster): Promise<{ perSec: number; nodeCpuMs: number; clientCpuMs: number }> {
  const node = c.genesis.nodes[0]!;
  const part = new Partition(node.prefixes);
  const keys = Array.from({ length: ACCOUNTS }, (_, i) => acct(i)).filter((k) => part.holdsKey(keyPath(k)));
  const cpu0 = processCpuMs(c.procs[0]?.pid);
  const self0 = process.cpuUsage(); // this process: every thread
  const replies = await readInThreads(c.genesis, 0, keys, GET_THREADS, Math.ceil(32 / GET_THREADS), 4000);
  const self = process.cpuUsage(self0);
  const nodeCpuMs = (processCpuMs(c.procs[0]?.pid) - cpu0) / Math.max(1, replies);
  const clientCpuMs = (self.user + self.system) / 1000 / Math.max(1, replies);
  return { perSec: replies / 4, nodeCpuMs, clientCpuMs };
}

async function main(): Promise<void> {
  console.log(machineLine());
  progress("measuring the in-process ceiling");
  const ceil = ceiling();
  progress(`ceiling ${ceil.toFixed(0)} ops/s (one core, whole tree)`);
  const c = await Cluster.create({ n: 4, k: 2, T: 16384, tickMs: 20 });
  c.startAll();
  const load = new LoadClient(c.genesis);
  try {
    await c.ready();
    load.subscribe(0);
    const { users } = await setupBank(c, load);
    const results: PhaseResult[] = [];
    for (const rate of RATES) {
      progress(`offering ${rate} transfers/s for ${PHASE_S} s`);
      const r = await phase(c, load, users, rate);
      progress(
        `  achieved ${r.achieved.toFixed(0)}/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, rejected ${r.rejected}, node CPU ${r.cpuMsPerOp.toFixed(2)} ms/op`,
      );
      results.push(r);
    }
    progress("single-key verified GETs from one node");
    const g = await getRate(c);
    const gets = g.perSec;
    const best = results.reduce((a, b) => (b.achieved > a.achieved ? b : a));
    const clusterCeiling = (ceil * cpus().length) / c.genesis.nodes.length;
    console.log("");
    console.log(
      "offered/s  achieved/s  accepted  rejected   p50 ms   p99 ms  node CPU ms/op  blocks  ops/block",
    );
    for (const r of results)
      console.log(
        `${String(r.offered).padStart(9)} ${r.achieved.toFixed(0).padStart(11)} ${String(r.accepted).padStart(9)} ${String(r.rejected).padStart(9)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${r.cpuMsPerOp.toFixed(2).padStart(15)} ${String(r.blocks).padStart(7)} ${(r.accepted / Math.max(1, r.blocks)).toFixed(1).padStart(10)}`,
      );
    const fit = fitBlockCost(results);
    console.log(
      fit
        ? `node CPU fit over the phases: ${fit.blockMs.toFixed(2)} ms per block + ${fit.opMs.toFixed(3)} ms per transfer`
        : "node CPU fit over the phases: the phases do not separate block and transfer costs",
    );
    console.log(
      `ceiling (one core, in process): ${ceil.toFixed(0)} ops/s; with 4 nodes sharing ${cpus().length} cores: ${clusterCeiling.toFixed(0)} ops/s`,
    );
    console.log(
      `sustained ${best.achieved.toFixed(0)} ops/s = ${(best.achieved / ceil).toFixed(2)} of the one-core ceiling, ${(best.achieved / clusterCeiling).toFixed(2)} of the shared-core ceiling`,
    );
    console.log(`verified single-key GET: ${gets.toFixed(0)} replies/s from one node (target ≥ 4,000)`);
    console.log(
      `  CPU per reply: node ${g.nodeCpuMs.toFixed(3)} ms (≈ ${(1000 / g.nodeCpuMs).toFixed(0)} replies/s per core), readers (${GET_THREADS} threads) ${g.clientCpuMs.toFixed(3)} ms`,
    );
    console.log(
      JSON.stringify({
        bench: "node",
        nodes: 4,
        opsPerSec: Math.round(best.achieved),
        p50Ms: +best.p50.toFixed(1),
        p99Ms: +best.p99.toFixed(1),
        nodeCpuMsPerOp: +best.cpuMsPerOp.toFixed(2),
        blockCpuMs: fit ? +fit.blockMs.toFixed(2) : null,
        opCpuMs: fit ? +fit.opMs.toFixed(3) : null,
        ceilingOpsPerSec: Math.round(ceil),
        getRepliesPerSec: Math.round(gets),
        getNodeCpuMsPerReply: +g.nodeCpuMs.toFixed(3),
      }),
    );
  } finally {
    load.close();
    await c.stop();
  }
}

await main();
