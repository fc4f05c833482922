// bench:query — listings and key histories (docs/protocol.md §15) on a real 4-node cluster on
// loopback (k = 2, test/cluster/cluster.ts), and what the ordered index costs the ledger.
//
// Setup: DOMAINS domains (d0 … d9) of PER_DOMAIN records each (keys dN/r00000 …, 32-byte values),
// written through the SDK (ArborClient.writeRecords) in requests of up to 63 records (the domain's
// .owner key is touched too: 64 touched keys, MAX_TOUCHED_KEYS), LOAD_INFLIGHT requests in flight;
// then one key (hot/key) written HOT_CHANGES times, LOAD_INFLIGHT requests in flight. Every write
// of the hot key sets the same value: a request's proof must show each touched key as it is when
// the request is applied (the compatibility check), so writes of different values to one key cannot
// be pipelined — writes of an unchanged value can, and each is a change of its own in the key's
// history (its height, position, request id and signer), as large and as costly to serve and verify.
//
// Measured, once the nodes have converged:
//   listKeysPerSec          keys listed and verified per second by ArborClient.listAll over one
//                           domain (PER_DOMAIN keys) in pages of 1,000 — the SDK path, verification
//                           included; median over LIST_REPS runs, each over another domain.
//   listProofBytesPerKey    the List reply's proof bytes ÷ the keys in the page (pages of 1,000,
//                           one domain, raw transport: NodeConnection.list); listPayloadBytesPerKey:
//                           the keys' UTF-8 bytes + their 32-byte value hashes alone, per key.
//   historyVersionsPerSec   the hot key's versions fetched and verified per second by
//                           ArborClient.historyAll (pages of 1,000); median over HISTORY_REPS runs.
//   writeCostRatio          CPU (process.cpuUsage) per transfer of an in-process ledger
//                           (bench/in-process-bank.ts) applying blocks of banking transfers WITH
//                           the ordered index (and building the store records a node writes for
//                           the block's changes, node/index-store.ts indexRecords) ÷ the same
//                           without it (LedgerStart.keyIndex false): two ledgers started alike,
//                           the same signed requests applied to both, alternating which goes first,
//                           medians over COST_ROUNDS rounds (the ratio of the medians; the
//                           median of the rounds' own ratios beside it). Measured before the
//                           cluster starts. Each round's changes are then replayed on a copy of
//                           the index to time its parts alone: recording the changes (entries,
//                           history heads, treap), the root hash, the store records.
// Alongside: where the time of a page goes — the raw RPC round trip (node side + transport) and
// the client's verification of the reply, in process — so a slow path shows its slow half.
//
// Knobs: ARBOR_BENCH_PER_DOMAIN, ARBOR_BENCH_INFLIGHT, ARBOR_BENCH_COST_ROUNDS. Progress goes to
// stderr; the last line of stdout is one JSON object.
import { loadavg } from "node:os";
import { ArborClient } from "../client/index.js";
import { Cluster } from "../test/cluster/cluster.js";
import { machineLine, median, progress } from "./machine.js";
import { InProcessBank, acct } from "./in-process-bank.js";
import { installNodeSha256 } from "../node/platform.js";
import { generateKeyPair, type KeyPair } from "../node/keys.js";
import { Writer } from "../node/common/codec.js";
import { utf8 } from "../node/common/bytes.js";
import { MAX_TOUCHED_KEYS } from "../node/common/limits.js";
import { indexRecords } from "../node/index-store.js";
import { entryRange, listingRange, verifyRange } from "../node/store/core/index-proof.js";
import { decodeChange, verifyHistoryPage } from "../node/store/core/key-history.js";
import { OrderedIndex } from "../node/store/core/ordered-index.js";
import { recordWrites, type IndexedChange } from "../node/ledger/key-index.js";

installNodeSha256();

const NODES = 4;
const K = 2;
const DOMAINS = 10;
const PER_DOMAIN = Number(process.env.ARBOR_BENCH_PER_DOMAIN ?? 10_000);
const RECORDS = DOMAINS * PER_DOMAIN;
/** records per request: the domain's .owner key is touched too */
const PER_REQUEST = MAX_TOUCHED_KEYS - 1;
const LOAD_INFLIGHT = Number(process.env.ARBOR_BENCH_INFLIGHT ?? 32);
const HOT_KEY = "hot/key";
const HOT_CHANGES = 1000;
const PAGE = 1000;
const LIST_REPS = 5;
const HISTORY_REPS = 5;
const COST_ROUNDS = Number(process.env.ARBOR_BENCH_COST_ROUNDS ?? 10);
const COST_ACCOUNTS = 10_000;
const COST_BLOCK = 1000;
const WRITE_TIMEOUT_MS = 120_000;

const TARGETS = {
  listKeysPerSec: { at: 20_000, atLeast: true },
  listProofBytesPerKey: { at: 100, atLeast: false },
  historyVersionsPerSec: { at: 5_000, atLeast: true },
  writeCostRatio: { at: 1.25, atLeast: false },
} as const;

const domain = (d: number) => `d${d}`;
const recordKey = (d: number, i: number) => `${domain(d)}/r${String(i).padStart(5, "0")}`;
const recordValue = (key: string) => utf8(`value of ${key}`.padEnd(32, "."));

/** Runs `jobs` with at most `width` in flight; `done` after each. */
async function pool(width: number, jobs: number, one: (i: number) => Promise<void>, done: () => void) {
  let next = 0;
  const worker = async () => {
    while (next < jobs) {
      const i = next++;
      await one(i);
      done();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs) }, worker));
}

/** A progress line every `step` completions, with the rate so far. */
function ticker(what: string, total: number, unit: string, perJob: (i: number) => number) {
  const t0 = performance.now();
  let jobs = 0;
  let units = 0;
  let shown = 0;
  return {
    done(): void {
      units += perJob(jobs++);
      if (units - shown >= total / 10 || units === total) {
        shown = units;
        const s = (performance.now() - t0) / 1000;
        progress(
          `  ${what}: ${units}/${total} ${unit} (${(units / s).toFixed(0)} ${unit}/s, ${s.toFixed(1)} s)`,
        );
      }
    },
    seconds: () => (performance.now() - t0) / 1000,
  };
}

// --- the ordered index's write cost, in process --------------------------------------------------

interface WriteCost {
  readonly withUs: number;
  readonly withoutUs: number;
  readonly ratio: number;
  readonly roundRatios: number[];
  /** the index's own work per transfer, replayed on a copy of the index (medians, µs) */
  readonly parts: { readonly record: number; readonly root: number; readonly store: number };
}

const transferArgs = (a: number, b: number) =>
  new Writer().string(acct(a)).string(acct(b)).varint(1).finish();

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function writeCost(): WriteCost {
  const owner = generateKeyPair();
  const withIndex = new InProcessBank("query write cost (index)", 1_000_000n, { owner, keyIndex: true });
  const without = new InProcessBank("query write cost (no index)", 1_000_000n, { owner, keyIndex: false });
  // Both banks started alike (same owner, same setup requests, signatures deterministic): requests
  // built against one are valid on the other.
  const both = (rs: Uint8Array[]) => {
    withIndex.block(rs);
    without.block(rs);
  };
  const users: KeyPair[] = Array.from({ length: COST_ACCOUNTS }, () => generateKeyPair());
  for (let i = 0; i < COST_ACCOUNTS; i += COST_BLOCK) {
    const ids = Array.from({ length: Math.min(COST_BLOCK, COST_ACCOUNTS - i) }, (_, j) => i + j);
    both(
      ids.map((a) =>
        withIndex.request(users[a]!, "bank/open", [acct(a)], new Writer().string(acct(a)).finish()),
      ),
    );
    both(
      ids.map((a) =>
        withIndex.request(
          owner,
          "bank/mint",
          ["bank/.owner", acct(a)],
          new Writer().string(acct(a)).varint(1_000_000).finish(),
        ),
      ),
    );
  }
  progress(`write cost: ${COST_ACCOUNTS} accounts opened and minted in both ledgers`);
  // A copy of the index, to replay each block's changes on and time the index's parts alone.
  const shadow = OrderedIndex.of(withIndex.ledger.index.entries());
  const parts = { record: [] as number[], root: [] as number[], store: [] as number[] };
  const withUs: number[] = [];
  const withoutUs: number[] = [];
  const roundRatios: number[] = [];
  for (let round = 0; round < COST_ROUNDS; round++) {
    // Disjoint pairs of accounts, another slice each round.
    const base = (round * 2 * COST_BLOCK) % COST_ACCOUNTS;
    const rs: Uint8Array[] = [];
    for (let j = 0; j < COST_BLOCK; j++) {
      const a = (base + 2 * j) % COST_ACCOUNTS;
      const b = (a + 1) % COST_ACCOUNTS;
      rs.push(withIndex.request(users[a]!, "bank/transfer", [acct(a), acct(b)], transferArgs(a, b)));
    }
    let changes: readonly IndexedChange[] = [];
    let height = 0n;
    const measure = (bank: InProcessBank, index: boolean): number => {
      gc();
      const t0 = cpuUs();
      const out = bank.block(rs);
      // What a node writes for the block's changes (node/block-pipeline.ts); a node of the whole
      // tree keeps every value.
      if (index) indexRecords(out.height, out.changes, () => true);
      const us = (cpuUs() - t0) / rs.length;
      if (index) {
        changes = out.changes;
        height = out.height;
      }
      return us;
    };
    let w: number;
    let wo: number;
    if (round % 2 === 0) {
      w = measure(withIndex, true);
      wo = measure(without, false);
    } else {
      wo = measure(without, false);
      w = measure(withIndex, true);
    }
    // The same changes again on the copy: recording them, the root, the store records.
    const replay = changes.map((c) => ({
      write: { key: c.key, value: c.value },
      src: decodeChange(c.change),
    }));
    gc();
    let t = cpuUs();
    const again = replay.flatMap((x) => recordWrites(shadow, [x.write], x.src));
    parts.record.push((cpuUs() - t) / rs.length);
    t = cpuUs();
    shadow.rootHash();
    parts.root.push((cpuUs() - t) / rs.length);
    t = cpuUs();
    indexRecords(height, again, () => true);
    parts.store.push((cpuUs() - t) / rs.length);
    withUs.push(w);
    withoutUs.push(wo);
    roundRatios.push(w / wo);
    progress(
      `  round ${round + 1}/${COST_ROUNDS}: with index ${w.toFixed(1)} µs/transfer, without ${wo.toFixed(1)} µs/transfer, ratio ${(w / wo).toFixed(3)}`,
    );
  }
  const mw = median(withUs);
  const mwo = median(withoutUs);
  return {
    withUs: mw,
    withoutUs: mwo,
    ratio: mw / mwo,
    roundRatios,
    parts: { record: median(parts.record), root: median(parts.root), store: median(parts.store) },
  };
}

// --- the cluster ------------------------------------------------------------------------------

const running = new Set<Cluster>();
process.on("exit", () => {
  for (const c of running) for (const p of c.procs) p?.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

interface Load {
  readonly recordsPerSec: number;
  readonly recordSeconds: number;
  readonly hotPerSec: number;
}

async function load(client: ArborClient): Promise<Load> {
  for (let d = 0; d < DOMAINS; d++) await client.createDomain(domain(d));
  await client.createDomain("hot");
  progress(`created ${DOMAINS} domains and "hot"`);

  const perDomain = Math.ceil(PER_DOMAIN / PER_REQUEST);
  const jobs = DOMAINS * perDomain;
  const size = (i: number) => Math.min(PER_REQUEST, PER_DOMAIN - (i % perDomain) * PER_REQUEST);
  progress(
    `writing ${RECORDS} records: ${jobs} requests of up to ${PER_REQUEST} records, ${LOAD_INFLIGHT} in flight`,
  );
  const t = ticker("records", RECORDS, "records", size);
  await pool(
    LOAD_INFLIGHT,
    jobs,
    async (i) => {
      const d = Math.floor(i / perDomain);
      const first = (i % perDomain) * PER_REQUEST;
      const writes = Array.from({ length: size(i) }, (_, j) => {
        const k = recordKey(d, first + j);
        return [k, recordValue(k)] as const;
      });
      await client.writeRecords(domain(d), writes, { timeoutMs: WRITE_TIMEOUT_MS });
    },
    t.done,
  );
  const recordSeconds = t.seconds();

  // The first write creates the key; the others, pipelined, set the same value (see the top).
  const hotValue = utf8("the hot key's value");
  await client.writeRecords("hot", [[HOT_KEY, hotValue]], { timeoutMs: WRITE_TIMEOUT_MS });
  progress(`writing ${HOT_KEY} ${HOT_CHANGES} times, ${LOAD_INFLIGHT} in flight`);
  const h = ticker(HOT_KEY, HOT_CHANGES - 1, "writes", () => 1);
  await pool(
    LOAD_INFLIGHT,
    HOT_CHANGES - 1,
    async () => {
      await client.writeRecords("hot", [[HOT_KEY, hotValue]], { timeoutMs: WRITE_TIMEOUT_MS });
    },
    h.done,
  );
  return {
    recordsPerSec: RECORDS / recordSeconds,
    recordSeconds,
    hotPerSec: (HOT_CHANGES - 1) / h.seconds(),
  };
}

interface ListResult {
  readonly keysPerSec: number;
  readonly runs: number[];
  readonly proofBytesPerKey: number;
  readonly payloadBytesPerKey: number;
  readonly pages: number;
  readonly rpcMsPerPage: number;
  readonly verifyMsPerPage: number;
}

async function measureList(client: ArborClient): Promise<ListResult> {
  const runs: number[] = [];
  for (let rep = 0; rep < LIST_REPS; rep++) {
    const prefix = `${domain(rep % DOMAINS)}/r`;
    const t0 = performance.now();
    let n = 0;
    for await (const e of client.listAll(prefix, { limit: PAGE })) if (e.key.startsWith(prefix)) n++;
    const s = (performance.now() - t0) / 1000;
    if (n !== PER_DOMAIN) throw new Error(`listing ${prefix} gave ${n} keys, not ${PER_DOMAIN}`);
    runs.push(n / s);
    progress(`  listAll ${prefix}: ${n} keys in ${(s * 1000).toFixed(0)} ms = ${(n / s).toFixed(0)} keys/s`);
  }

  // The raw replies of one domain's pages: proof bytes, round trip, and the client's verification.
  const prefix = `${domain(0)}/r`;
  let proofBytes = 0;
  let payloadBytes = 0;
  let keys = 0;
  let pages = 0;
  const rpcMs: number[] = [];
  const verifyMs: number[] = [];
  for (let node = 0; node < NODES; node++) {
    let after: string | undefined;
    for (;;) {
      const t0 = performance.now();
      const r = await client.node(node).list(prefix, { after, limit: PAGE });
      rpcMs.push(performance.now() - t0);
      const root = (await client.certifiedHeader(r.height)).header.indexRoot;
      const t1 = performance.now();
      const entries = verifyRange(r.proof, root, listingRange(prefix, after ?? null), PAGE, r.done);
      verifyMs.push(performance.now() - t1);
      if (node === 0) {
        proofBytes += r.proof.length;
        keys += entries.length;
        pages++;
        for (const e of entries) payloadBytes += utf8(e.key).length + 32;
      }
      if (r.done) break;
      after = entries[entries.length - 1]!.key;
    }
  }
  return {
    keysPerSec: median(runs),
    runs,
    proofBytesPerKey: proofBytes / keys,
    payloadBytesPerKey: payloadBytes / keys,
    pages,
    rpcMsPerPage: median(rpcMs),
    verifyMsPerPage: median(verifyMs),
  };
}

interface HistoryResult {
  readonly versionsPerSec: number;
  readonly runs: number[];
  readonly rpcMs: number;
  readonly verifyMs: number;
  readonly replyBytes: number;
}

async function measureHistory(client: ArborClient): Promise<HistoryResult> {
  const runs: number[] = [];
  for (let rep = 0; rep < HISTORY_REPS; rep++) {
    const t0 = performance.now();
    let n = 0;
    for await (const v of client.historyAll(HOT_KEY, { limit: PAGE })) if (v.number > 0n) n++;
    const s = (performance.now() - t0) / 1000;
    if (n !== HOT_CHANGES)
      throw new Error(`the history of ${HOT_KEY} gave ${n} versions, not ${HOT_CHANGES}`);
    runs.push(n / s);
    progress(
      `  historyAll ${HOT_KEY}: ${n} versions in ${(s * 1000).toFixed(0)} ms = ${(n / s).toFixed(0)} versions/s`,
    );
  }
  // The raw reply from each node: round trip, bytes, and the client's verification in process.
  const rpcMs: number[] = [];
  const verifyMs: number[] = [];
  let replyBytes = 0;
  for (let node = 0; node < NODES; node++) {
    const t0 = performance.now();
    const r = await client.node(node).history(HOT_KEY, { number: 0n, limit: PAGE });
    rpcMs.push(performance.now() - t0);
    const root = (await client.certifiedHeader(r.height)).header.indexRoot;
    const t1 = performance.now();
    const [entry] = verifyRange(r.entryProof, root, entryRange(HOT_KEY), 1, true);
    verifyHistoryPage(
      { number: entry!.changes, head: entry!.head },
      r.changes.map((c) => c.change),
      r.headBefore,
      PAGE,
    );
    verifyMs.push(performance.now() - t1);
    if (node === 0)
      replyBytes =
        r.entryProof.length +
        r.headBefore.length +
        r.changes.reduce((s, c) => s + c.change.length + (c.value?.length ?? 0), 0);
  }
  return { versionsPerSec: median(runs), runs, rpcMs: median(rpcMs), verifyMs: median(verifyMs), replyBytes };
}

// --- the report -------------------------------------------------------------------------------

function verdict(name: keyof typeof TARGETS, x: number): { line: string; met: boolean } {
  const t = TARGETS[name];
  const met = t.atLeast ? x >= t.at : x <= t.at;
  return {
    line: `target ${t.atLeast ? "≥" : "≤"} ${t.at.toLocaleString("en-US")}: ${met ? "met" : "not met"}`,
    met,
  };
}

async function main(): Promise<void> {
  console.log(machineLine());
  progress(machineLine());
  console.log(
    `load average at the start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  const started = performance.now();

  progress(
    `write cost: two in-process ledgers (with / without the ordered index), ${COST_ACCOUNTS} accounts`,
  );
  const cost = writeCost();

  progress(`--- ${NODES}-node cluster, k = ${K} ---`);
  const cluster = await Cluster.create({ n: NODES, k: K, T: 65536, tickMs: 20 });
  running.add(cluster);
  let loaded: Load;
  let list: ListResult;
  let history: HistoryResult;
  try {
    cluster.startAll();
    await cluster.ready();
    const client = await ArborClient.connect({ genesis: cluster.genesis });
    try {
      loaded = await load(client);
      progress("waiting for every node to reach the same height and root");
      await cluster.converged(60_000);
      progress(`listing: ${LIST_REPS} runs of listAll over a domain of ${PER_DOMAIN} keys, pages of ${PAGE}`);
      list = await measureList(client);
      progress(
        `history: ${HISTORY_REPS} runs of historyAll over ${HOT_KEY} (${HOT_CHANGES} versions), pages of ${PAGE}`,
      );
      history = await measureHistory(client);
    } finally {
      client.close();
    }
  } catch (e) {
    cluster.printLogs();
    throw e;
  } finally {
    await cluster.stop();
    running.delete(cluster);
  }

  const vList = verdict("listKeysPerSec", list.keysPerSec);
  const vProof = verdict("listProofBytesPerKey", list.proofBytesPerKey);
  const vHist = verdict("historyVersionsPerSec", history.versionsPerSec);
  const vCost = verdict("writeCostRatio", cost.ratio);
  const f0 = (x: number) => x.toFixed(0);
  console.log(
    `cluster: ${NODES} nodes on loopback, k = ${K}; ${RECORDS} records in ${DOMAINS} domains written through the SDK in ` +
      `${loaded.recordSeconds.toFixed(1)} s = ${f0(loaded.recordsPerSec)} records/s (${PER_REQUEST} per request, ${LOAD_INFLIGHT} in flight); ` +
      `${HOT_KEY} written ${HOT_CHANGES} times (${f0(loaded.hotPerSec)} writes/s pipelined, same value)`,
  );
  console.log(
    `listKeysPerSec: ${f0(list.keysPerSec)} (median of ${LIST_REPS} listAll runs of ${PER_DOMAIN} keys, pages of ${PAGE}, verified; ` +
      `runs ${list.runs.map(f0).join(", ")}) — ${vList.line}`,
  );
  console.log(
    `  per page of ${PAGE}: raw List round trip ${list.rpcMsPerPage.toFixed(1)} ms, client verification ${list.verifyMsPerPage.toFixed(1)} ms (medians over every page from each of ${NODES} nodes)`,
  );
  console.log(
    `listProofBytesPerKey: ${list.proofBytesPerKey.toFixed(1)} (${list.pages} pages of one domain; listPayloadBytesPerKey ${list.payloadBytesPerKey.toFixed(1)}: key + 32-byte value hash) — ${vProof.line}`,
  );
  console.log(
    `historyVersionsPerSec: ${f0(history.versionsPerSec)} (median of ${HISTORY_REPS} historyAll runs of ${HOT_CHANGES} versions, pages of ${PAGE}, verified; ` +
      `runs ${history.runs.map(f0).join(", ")}) — ${vHist.line}`,
  );
  console.log(
    `  one page of ${PAGE}: raw History round trip ${history.rpcMs.toFixed(1)} ms, client verification ${history.verifyMs.toFixed(1)} ms (medians over ${NODES} nodes); ` +
      `${history.replyBytes} bytes of proof, changes and values from node 0`,
  );
  console.log(
    `writeCostRatio: ${cost.ratio.toFixed(3)} (in-process ledger, blocks of ${COST_BLOCK} transfers, ${COST_ACCOUNTS} accounts: ` +
      `with the index + its store records ${cost.withUs.toFixed(1)} µs CPU/transfer, without ${cost.withoutUs.toFixed(1)} µs; ` +
      `medians of ${COST_ROUNDS} alternating rounds; per-round ratios ${cost.roundRatios.map((r) => r.toFixed(3)).join(", ")}, ` +
      `their median ${median(cost.roundRatios).toFixed(3)}) — ${vCost.line}`,
  );
  console.log(
    `  the index's own work, the same changes replayed on a copy of it: recording them (entry, history head, treap) ${cost.parts.record.toFixed(1)} µs/transfer, ` +
      `root hash ${cost.parts.root.toFixed(1)} µs, store records ${cost.parts.store.toFixed(1)} µs = ` +
      `${(cost.parts.record + cost.parts.root + cost.parts.store).toFixed(1)} µs (medians)`,
  );
  console.log(
    `load average at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}; whole bench ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  const r1 = (x: number) => +x.toFixed(1);
  console.log(
    JSON.stringify({
      bench: "query",
      machine: machineLine(),
      nodes: NODES,
      replication: K,
      records: RECORDS,
      domains: DOMAINS,
      loadRecordsPerSec: Math.round(loaded.recordsPerSec),
      listKeysPerSec: Math.round(list.keysPerSec),
      listRuns: LIST_REPS,
      listProofBytesPerKey: r1(list.proofBytesPerKey),
      listPayloadBytesPerKey: r1(list.payloadBytesPerKey),
      listRpcMsPerPage: r1(list.rpcMsPerPage),
      listVerifyMsPerPage: r1(list.verifyMsPerPage),
      historyVersions: HOT_CHANGES,
      historyVersionsPerSec: Math.round(history.versionsPerSec),
      historyRuns: HISTORY_REPS,
      historyRpcMsPerPage: r1(history.rpcMs),
      historyVerifyMsPerPage: r1(history.verifyMs),
      writeCostRatio: +cost.ratio.toFixed(3),
      writeCostWithUs: r1(cost.withUs),
      writeCostWithoutUs: r1(cost.withoutUs),
      writeCostRounds: COST_ROUNDS,
      writeCostRoundRatioMedian: +median(cost.roundRatios).toFixed(3),
      indexRecordUs: r1(cost.parts.record),
      indexRootUs: r1(cost.parts.root),
      indexStoreRecordsUs: r1(cost.parts.store),
      targets: {
        listKeysPerSec: vList.met,
        listProofBytesPerKey: vProof.met,
        historyVersionsPerSec: vHist.met,
        writeCostRatio: vCost.met,
      },
    }),
  );
}

await main();
