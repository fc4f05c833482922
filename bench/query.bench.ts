// bench:query — listings and key histories (docs/protocol.md §15) on a real 4-node cluster on
// loopback (k = 2, test/cluster/cluster.ts), and what the ordered index costs the ledger.
//
// Setup: DOMAINS domains (d0 … d9) of PER_DOMAIN records each (keys dN/r00000 …, values of three
// words of WORDS chosen by the record's number, then the key: "fern oak raven d3/r01234"), written
// through the SDK (ArborClient.writeRecords) in requests of up to 63 records (the domain's .owner
// key is touched too: 64 touched keys, MAX_TOUCHED_KEYS), LOAD_INFLIGHT requests in flight;
// then one key (hot/key) written HOT_CHANGES times, LOAD_INFLIGHT requests in flight. Every write
// of the hot key sets the same value: a request's proof must show each touched key as it is when
// the request is applied (the compatibility check), so writes of different values to one key cannot
// be pipelined — writes of an unchanged value can, and each is a change of its own in the key's
// history (its height, position, request id and signer), as large and as costly to serve and verify.
// When the chain then has fewer than MIN_HEIGHTS heights, one more key (fill/key) is written the
// same way until it has: a past read needs a height PAST_DISTANCE blocks back.
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
//   pastGetRepliesPerSec    verified GETs of one key per second through the SDK at a height H =
//   currentGetRepliesPerSec (current height) − PAST_DISTANCE (client.get([key], {height: H}): the
//                           key's verified history from a holder, docs/protocol.md §15) and at the
//                           current height (client.get([key])): the same GET_READS random record
//                           keys, GET_INFLIGHT in flight from one client, the two alternated
//                           GET_ROUNDS times each after one uncounted warm-up round of each,
//                           medians; pastToCurrentRatio = past ÷ current.
//                           Every value read is checked: the record's value, or at H null for a
//                           record written after H; and a key written after H must read null at H.
//   searchP50Ms             full-text search (client.search, client/search.ts) through an index run
//   searchP50MsPostgres     in process (node/cli/indexer: Indexer, its HTTP search endpoint) on the
//                           embedded engine (PGlite) and on a throwaway PostgreSQL server
//                           (test/indexer/postgres-server.ts; null, with the reason printed, when
//                           it cannot start): the median of SEARCHES queries (single words and
//                           two-word queries of WORDS), limit SEARCH_LIMIT, every hit re-read with
//                           a verified GET by the SDK. Beside it: the index's HTTP answer alone
//                           (median), and how long the index took to catch up on the chain
//                           (every record of the load, plus the hot key's and the filler's blocks).
// Alongside: where the time of a page goes — the raw RPC round trip (node side + transport) and
// the client's verification of the reply, in process — so a slow path shows its slow half. For the
// GETs: the CPU per reply of this process and of the nodes (from /proc) in the past and current
// rounds, and the raw History (one page, as the SDK asks it) and Get RPCs alone, unverified.
//
// Knobs: ARBOR_BENCH_PER_DOMAIN, ARBOR_BENCH_INFLIGHT, ARBOR_BENCH_COST_ROUNDS. Progress goes to
// stderr; the last line of stdout is one JSON object.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ArborClient } from "../client/index.js";
import { PAST_READ_PAGE } from "../client/queries.js";
import { Cluster } from "../test/cluster/cluster.js";
import { machineLine, median, processCpuMs, progress, seeded } from "./machine.js";
import { InProcessBank, acct } from "./in-process-bank.js";
import { installNodeSha256 } from "../node/platform.js";
import { generateKeyPair, type KeyPair } from "../node/keys.js";
import { Writer } from "../node/common/codec.js";
import { bytesEqual, utf8 } from "../node/common/bytes.js";
import { MAX_TOUCHED_KEYS } from "../node/common/limits.js";
import { indexRecords } from "../node/index-store.js";
import { entryRange, listingRange, verifyRange } from "../node/store/core/index-proof.js";
import { decodeChange, verifyHistoryPage } from "../node/store/core/key-history.js";
import { OrderedIndex } from "../node/store/core/ordered-index.js";
import { recordWrites, type IndexedChange } from "../node/ledger/key-index.js";
import { openEngine, type EngineChoice } from "../node/cli/indexer/open-engine.js";
import { Indexer } from "../node/cli/indexer/indexer.js";
import { serveSearch } from "../node/cli/indexer/search-http.js";
import { startPostgres, type PgServer } from "../test/indexer/postgres-server.js";

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
/** past reads: this many blocks back, once the chain has at least MIN_HEIGHTS heights */
const PAST_DISTANCE = 1000n;
const MIN_HEIGHTS = 1050n;
const FILL_KEY = "fill/key";
const FILL_INFLIGHT = 4;
const GET_READS = 2000;
const GET_INFLIGHT = 16;
const GET_ROUNDS = 5;
const SEARCHES = 50;
const SEARCH_LIMIT = 20;

const TARGETS = {
  listKeysPerSec: { at: 20_000, atLeast: true },
  listProofBytesPerKey: { at: 100, atLeast: false },
  historyVersionsPerSec: { at: 5_000, atLeast: true },
  writeCostRatio: { at: 1.25, atLeast: false },
  pastToCurrentRatio: { at: 0.7, atLeast: true },
  searchP50Ms: { at: 20, atLeast: false },
  searchP50MsPostgres: { at: 20, atLeast: false },
} as const;

const domain = (d: number) => `d${d}`;
const recordKey = (d: number, i: number) => `${domain(d)}/r${String(i).padStart(5, "0")}`;
/** 50 words; a record's value holds three of them, so every word and pair of words has hits. */
const WORDS = (
  "amber anchor aspen basalt beacon birch bramble canyon cedar cinder clover coral delta dune " +
  "ember falcon fern fjord glacier glade granite harbor heath heron islet ivory jasper juniper " +
  "kelp lagoon lantern larch maple meadow mesa nectar oak orchid pebble prairie quartz raven reef " +
  "saffron sierra spruce thistle tundra willow zephyr"
).split(" ");
const word = (n: number) => WORDS[n % WORDS.length]!;
/** Record i of domain d: three words by its number r (every pair of words shares many records), then the key. */
function recordValue(d: number, i: number): Uint8Array {
  const r = d * PER_DOMAIN + i;
  const n = WORDS.length;
  return utf8(`${word(r)} ${word(Math.floor(r / n))} ${word(Math.floor(r / (n * n)))} ${recordKey(d, i)}`);
}

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
  /** the height each record request landed at, by request (see `writtenAt`) */
  readonly requestHeights: bigint[];
}

const requestsPerDomain = Math.ceil(PER_DOMAIN / PER_REQUEST);
/** The height record i of domain d was written at. */
const writtenAt = (l: Load, d: number, i: number) =>
  l.requestHeights[d * requestsPerDomain + Math.floor(i / PER_REQUEST)]!;

async function load(client: ArborClient): Promise<Load> {
  for (let d = 0; d < DOMAINS; d++) await client.createDomain(domain(d));
  await client.createDomain("hot");
  await client.createDomain("fill");
  progress(`created ${DOMAINS} domains, "hot" and "fill"`);

  const perDomain = requestsPerDomain;
  const requestHeights: bigint[] = Array.from({ length: DOMAINS * perDomain }, () => 0n);
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
        return [k, recordValue(d, first + j)] as const;
      });
      const r = await client.writeRecords(domain(d), writes, { timeoutMs: WRITE_TIMEOUT_MS });
      if (r.receipt.status !== "accepted") throw new Error(`records request ${i}: ${r.receipt.message}`);
      requestHeights[i] = r.receipt.height;
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
    requestHeights,
  };
}

/** The current height (node 0's, checked against what it signed). */
async function currentHeight(client: ArborClient): Promise<bigint> {
  return (await client.nodeStatus(0)).height;
}

/** Writes FILL_KEY (the same value, pipelined) until the chain has MIN_HEIGHTS heights; the writes made. */
async function fillHeights(client: ArborClient): Promise<number> {
  const value = utf8("filler");
  let writes = 0;
  let height = await currentHeight(client);
  if (height >= MIN_HEIGHTS) return 0;
  progress(`the chain has ${height} heights: writing ${FILL_KEY} until it has ${MIN_HEIGHTS}`);
  await client.writeRecords("fill", [[FILL_KEY, value]], { timeoutMs: WRITE_TIMEOUT_MS });
  writes++;
  while (height < MIN_HEIGHTS) {
    await pool(
      FILL_INFLIGHT,
      FILL_INFLIGHT * 10,
      async () => {
        const r = await client.writeRecords("fill", [[FILL_KEY, value]], { timeoutMs: WRITE_TIMEOUT_MS });
        if (r.receipt.height > height) height = r.receipt.height;
        writes++;
      },
      () => {},
    );
    progress(`  ${FILL_KEY}: ${writes} writes, height ${height}`);
  }
  return writes;
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

// --- reads at a past height --------------------------------------------------------------------

const LATE_KEY = "fill/late";

/** A round's throughput and CPU per reply (this process; the nodes, from /proc, 10 ms ticks). */
interface Round {
  readonly perSec: number;
  readonly clientMs: number;
  readonly nodesMs: number;
}

interface GetResult {
  readonly past: Round;
  readonly current: Round;
  readonly pastRuns: number[];
  readonly currentRuns: number[];
  /** the raw replies alone, unverified: History (one page, as the SDK asks) and Get, from a holder */
  readonly rawHistory: Round;
  readonly rawGet: Round;
  /** the height the past reads asked for, and how far below the height then */
  readonly at: bigint;
  readonly distance: bigint;
  readonly fillWrites: number;
  /** of the keys read, those written after `at` (read as null there) */
  readonly writtenAfter: number;
}

/** Runs `one` for 0 … jobs − 1, GET_INFLIGHT in flight; the throughput and CPU per job. */
async function timedRound(
  jobs: number,
  pids: ReadonlyArray<number | undefined>,
  one: (j: number) => Promise<void>,
): Promise<Round> {
  const nodesCpu = () => pids.reduce<number>((s, pid) => s + processCpuMs(pid), 0);
  const n0 = nodesCpu();
  const c0 = cpuUs();
  const t0 = performance.now();
  await pool(GET_INFLIGHT, jobs, one, () => {});
  const s = (performance.now() - t0) / 1000;
  return { perSec: jobs / s, clientMs: (cpuUs() - c0) / 1000 / jobs, nodesMs: (nodesCpu() - n0) / jobs };
}

type Pick = { readonly key: string; readonly now: Uint8Array; readonly then: Uint8Array | null };

/** One round of verified GETs: every pick read once, at `at` or now, each value checked. */
function getRound(
  client: ArborClient,
  pids: ReadonlyArray<number | undefined>,
  picks: readonly Pick[],
  at: bigint | undefined,
): Promise<Round> {
  return timedRound(picks.length, pids, async (j) => {
    const p = picks[j]!;
    const got = (await client.get([p.key], at === undefined ? undefined : { height: at })).get(p.key);
    const want = at === undefined ? p.now : p.then;
    const ok = want === null ? got === null : got !== null && got !== undefined && bytesEqual(got, want);
    if (!ok) throw new Error(`${p.key} read ${at === undefined ? "now" : `at ${at}`}: not its value`);
  });
}

/** Random record keys (the same every run), with their values now and at `at`. */
function getPicks(loaded: Load, at: bigint): Pick[] {
  const rand = seeded(7);
  return Array.from({ length: GET_READS }, () => {
    const d = Math.floor(rand() * DOMAINS);
    const i = Math.floor(rand() * PER_DOMAIN);
    const now = recordValue(d, i);
    return { key: recordKey(d, i), now, then: writtenAt(loaded, d, i) <= at ? now : null };
  });
}

async function measureGets(
  client: ArborClient,
  pids: ReadonlyArray<number | undefined>,
  loaded: Load,
  fillWrites: number,
): Promise<GetResult> {
  // A key written now, after the height read: it must read as null there.
  await client.writeRecords("fill", [[LATE_KEY, utf8("late")]], { timeoutMs: WRITE_TIMEOUT_MS });
  const height = await currentHeight(client);
  const at = height - PAST_DISTANCE;
  if (at < 1n) throw new Error(`the chain has ${height} heights, too few to read ${PAST_DISTANCE} back`);
  const late = (await client.get([LATE_KEY], { height: at })).get(LATE_KEY);
  if (late !== null) throw new Error(`${LATE_KEY}, written after ${at}, read at ${at}: not null`);
  const picks = getPicks(loaded, at);
  const writtenAfter = picks.filter((p) => p.then === null).length;
  progress(
    `gets: ${GET_READS} keys (${writtenAfter} written after ${at}) at height ${at} (${PAST_DISTANCE} below ${height}) and now, ${GET_INFLIGHT} in flight, ${GET_ROUNDS} rounds each`,
  );
  const past: Round[] = [];
  const current: Round[] = [];
  // One round of each first, not counted: both paths run JIT-compiled code when measured (short
  // rounds of cold code measured the compiler more than the reads).
  await getRound(client, pids, picks, at);
  await getRound(client, pids, picks, undefined);
  for (let round = 0; round < GET_ROUNDS; round++) {
    for (const isPast of round % 2 === 0 ? [true, false] : [false, true]) {
      const r = await getRound(client, pids, picks, isPast ? at : undefined);
      (isPast ? past : current).push(r);
      progress(
        `  round ${round + 1}: ${isPast ? "past" : "current"} ${r.perSec.toFixed(0)} replies/s, CPU per reply: client ${r.clientMs.toFixed(2)} ms, nodes ${r.nodesMs.toFixed(2)} ms`,
      );
    }
  }
  // The raw RPCs alone, from the key's first holder: what the node and the transport cost.
  const holder = (key: string) => client.node(client.holders(key)[0]!);
  const rawHistory = await timedRound(picks.length, pids, async (j) => {
    const key = picks[j]!.key;
    await holder(key).history(key, { number: 0n, limit: PAST_READ_PAGE, minHeight: at });
  });
  const rawGet = await timedRound(picks.length, pids, async (j) => {
    await holder(picks[j]!.key).get([picks[j]!.key]);
  });
  const med = (rs: Round[]): Round => ({
    perSec: median(rs.map((r) => r.perSec)),
    clientMs: median(rs.map((r) => r.clientMs)),
    nodesMs: median(rs.map((r) => r.nodesMs)),
  });
  return {
    past: med(past),
    current: med(current),
    pastRuns: past.map((r) => r.perSec),
    currentRuns: current.map((r) => r.perSec),
    rawHistory,
    rawGet,
    at,
    distance: height - at,
    fillWrites,
    writtenAfter,
  };
}

// --- full-text search through an index --------------------------------------------------------

interface SearchRun {
  readonly engine: string;
  readonly catchUpSeconds: number;
  readonly blocks: number;
  readonly height: bigint;
  /** median ms of client.search (the index's answer + the verified re-reads of its hits) */
  readonly p50Ms: number;
  /** median ms of the index's HTTP answer alone */
  readonly indexP50Ms: number;
  readonly hits: number;
  readonly empty: number;
  /** each query's verified keys, in order */
  readonly keys: string[][];
}

/** SEARCHES queries: single words and two-word queries of WORDS. */
function searchQueries(): string[] {
  return Array.from({ length: SEARCHES }, (_, q) =>
    q % 2 === 0 ? word(q * 7 + 1) : `${word(q * 3)} ${word(q * 11 + 5)}`,
  );
}

const pgServers = new Set<PgServer>();
process.on("exit", () => {
  for (const s of pgServers) s.stop();
});

/** Indexes the chain into `choice`'s engine in process, serves its search, and times the queries. */
async function searchOn(client: ArborClient, engineName: string, choice: EngineChoice): Promise<SearchRun> {
  const engine = await openEngine(choice);
  try {
    const ix = await Indexer.open(client, engine);
    progress(`${engineName}: catching up from height ${ix.height}`);
    const t0 = performance.now();
    const tick = setInterval(() => progress(`  ${engineName}: height ${ix.height}`), 5_000);
    try {
      await ix.catchUp();
    } finally {
      clearInterval(tick);
    }
    const catchUpSeconds = (performance.now() - t0) / 1000;
    progress(
      `${engineName}: at height ${ix.height} after ${catchUpSeconds.toFixed(1)} s (${ix.written} blocks)`,
    );
    const server = await serveSearch((q) => ix.search(q), "127.0.0.1", 0);
    const base = `http://127.0.0.1:${server.port}`;
    try {
      const qs = searchQueries();
      for (const q of qs.slice(0, 5)) await client.search(q, { index: base, limit: SEARCH_LIMIT });
      const ms: number[] = [];
      const indexMs: number[] = [];
      const keys: string[][] = [];
      let hits = 0;
      let empty = 0;
      for (const q of qs) {
        const t1 = performance.now();
        const r = await client.search(q, { index: base, limit: SEARCH_LIMIT });
        ms.push(performance.now() - t1);
        if (r.dropped.length > 0) throw new Error(`${engineName}: "${q}" named keys that do not verify`);
        hits += r.hits.length;
        if (r.hits.length === 0) empty++;
        keys.push(r.hits.map((h) => h.key));
        const t2 = performance.now();
        const res = await fetch(`${base}/search?q=${encodeURIComponent(q)}&limit=${SEARCH_LIMIT}`);
        await res.json();
        indexMs.push(performance.now() - t2);
      }
      return {
        engine: engineName,
        catchUpSeconds,
        blocks: ix.written,
        height: ix.height,
        p50Ms: median(ms),
        indexP50Ms: median(indexMs),
        hits,
        empty,
        keys,
      };
    } finally {
      await server.close();
    }
  } finally {
    await engine.close();
  }
}

interface SearchFigures {
  readonly embedded: SearchRun;
  readonly postgres: SearchRun | string;
  /** queries whose verified keys differ between the engines */
  readonly differ: number;
}

async function measureSearch(client: ArborClient): Promise<SearchFigures> {
  const dir = mkdtempSync(join(tmpdir(), "arbor-bench-index-"));
  let embedded: SearchRun;
  try {
    embedded = await searchOn(client, "embedded", { data: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pg = await startPostgres();
  if (typeof pg === "string") {
    progress(`PostgreSQL skipped: ${pg}`);
    return { embedded, postgres: pg, differ: 0 };
  }
  pgServers.add(pg);
  try {
    const postgres = await searchOn(client, "postgres", { postgres: pg.url });
    const differ = postgres.keys.filter((ks, q) => ks.join("\n") !== embedded.keys[q]!.join("\n")).length;
    return { embedded, postgres, differ };
  } finally {
    pgServers.delete(pg);
    pg.stop();
  }
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

interface ClusterFigures {
  readonly loaded: Load;
  readonly list: ListResult;
  readonly history: HistoryResult;
  readonly gets: GetResult;
  readonly search: SearchFigures;
}

/** The cluster part: load it, then listings, histories, reads at a past height and searches. */
async function onCluster(): Promise<ClusterFigures> {
  progress(`--- ${NODES}-node cluster, k = ${K} ---`);
  const cluster = await Cluster.create({ n: NODES, k: K, T: 65536, tickMs: 20 });
  running.add(cluster);
  try {
    cluster.startAll();
    await cluster.ready();
    const client = await ArborClient.connect({ genesis: cluster.genesis });
    try {
      const loaded = await load(client);
      const fillWrites = await fillHeights(client);
      progress("waiting for every node to reach the same height and root");
      await cluster.converged(60_000);
      progress(`listing: ${LIST_REPS} runs of listAll over a domain of ${PER_DOMAIN} keys, pages of ${PAGE}`);
      const list = await measureList(client);
      progress(
        `history: ${HISTORY_REPS} runs of historyAll over ${HOT_KEY} (${HOT_CHANGES} versions), pages of ${PAGE}`,
      );
      const history = await measureHistory(client);
      const pids = cluster.procs.map((p) => p?.pid);
      const gets = await measureGets(client, pids, loaded, fillWrites);
      progress(`search: indexers in process, ${SEARCHES} queries, limit ${SEARCH_LIMIT}`);
      const search = await measureSearch(client);
      return { loaded, list, history, gets, search };
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
}

const f0 = (x: number) => x.toFixed(0);
const r1 = (x: number) => +x.toFixed(1);

/** The figure lines of the listings, histories and write cost. */
function printQueryLines(cost: WriteCost, c: ClusterFigures): Record<string, boolean> {
  const { loaded, list, history } = c;
  const vList = verdict("listKeysPerSec", list.keysPerSec);
  const vProof = verdict("listProofBytesPerKey", list.proofBytesPerKey);
  const vHist = verdict("historyVersionsPerSec", history.versionsPerSec);
  const vCost = verdict("writeCostRatio", cost.ratio);
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
  return {
    listKeysPerSec: vList.met,
    listProofBytesPerKey: vProof.met,
    historyVersionsPerSec: vHist.met,
    writeCostRatio: vCost.met,
  };
}

/** The figure lines of the reads at a past height and the searches. */
function printReadLines(c: ClusterFigures): Record<string, boolean | null> {
  const { gets, search } = c;
  const ratio = gets.past.perSec / gets.current.perSec;
  const vRatio = verdict("pastToCurrentRatio", ratio);
  console.log(
    `pastGetRepliesPerSec: ${f0(gets.past.perSec)} (client.get([key], {height: ${gets.at}}), ${gets.distance} blocks below the height then; runs ${gets.pastRuns.map(f0).join(", ")}); ` +
      `currentGetRepliesPerSec: ${f0(gets.current.perSec)} (runs ${gets.currentRuns.map(f0).join(", ")}); ` +
      `medians of ${GET_ROUNDS} alternating rounds of the same ${GET_READS} random record keys (${gets.writtenAfter} written after ${gets.at}, read as null there), ` +
      `${GET_INFLIGHT} in flight, one client, every value checked` +
      (gets.fillWrites > 0
        ? `; ${gets.fillWrites} writes of ${FILL_KEY} first, to reach ${MIN_HEIGHTS} heights`
        : ""),
  );
  console.log(`pastToCurrentRatio: ${ratio.toFixed(3)} — ${vRatio.line}`);
  const cpu = (r: Round) => `client ${r.clientMs.toFixed(2)} ms, nodes ${r.nodesMs.toFixed(2)} ms`;
  console.log(
    `  CPU per reply (medians): past ${cpu(gets.past)}; current ${cpu(gets.current)}. ` +
      `Raw RPCs alone, unverified, from the key's first holder, ${GET_INFLIGHT} in flight: ` +
      `History (limit ${PAST_READ_PAGE}, minHeight ${gets.at}) ${f0(gets.rawHistory.perSec)} replies/s, ${cpu(gets.rawHistory)}; ` +
      `Get ${f0(gets.rawGet.perSec)} replies/s, ${cpu(gets.rawGet)}`,
  );
  const runLine = (s: SearchRun) =>
    `${s.p50Ms.toFixed(1)} (median of ${SEARCHES} client.search queries over ${RECORDS} records, limit ${SEARCH_LIMIT}, hits re-read with verified GETs; ` +
    `${s.hits} verified hits, ${s.empty} queries without; the index's HTTP answer alone ${s.indexP50Ms.toFixed(1)} ms; ` +
    `catch-up from empty to height ${s.height} (${s.blocks} blocks) ${s.catchUpSeconds.toFixed(1)} s = ${f0(RECORDS / s.catchUpSeconds)} records/s)`;
  const vSearch = verdict("searchP50Ms", search.embedded.p50Ms);
  console.log(`searchP50Ms: ${runLine(search.embedded)} — ${vSearch.line}`);
  let pgMet: boolean | null = null;
  if (typeof search.postgres === "string")
    console.log(`searchP50MsPostgres: skipped (${search.postgres}) — target not measured`);
  else {
    const v = verdict("searchP50MsPostgres", search.postgres.p50Ms);
    pgMet = v.met;
    console.log(`searchP50MsPostgres: ${runLine(search.postgres)} — ${v.line}`);
    console.log(`  the two engines' verified hits differ for ${search.differ} of ${SEARCHES} queries`);
  }
  return { pastToCurrentRatio: vRatio.met, searchP50Ms: vSearch.met, searchP50MsPostgres: pgMet };
}

/** The last line: every figure as one JSON object. */
function printJson(cost: WriteCost, c: ClusterFigures, targets: Record<string, boolean | null>): void {
  const { loaded, list, history, gets, search } = c;
  const pg = typeof search.postgres === "string" ? null : search.postgres;
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
      pastGetRepliesPerSec: Math.round(gets.past.perSec),
      currentGetRepliesPerSec: Math.round(gets.current.perSec),
      pastToCurrentRatio: +(gets.past.perSec / gets.current.perSec).toFixed(3),
      pastDistance: Number(gets.distance),
      pastClientCpuMsPerReply: +gets.past.clientMs.toFixed(2),
      pastNodesCpuMsPerReply: +gets.past.nodesMs.toFixed(2),
      currentClientCpuMsPerReply: +gets.current.clientMs.toFixed(2),
      currentNodesCpuMsPerReply: +gets.current.nodesMs.toFixed(2),
      rawHistoryRepliesPerSec: Math.round(gets.rawHistory.perSec),
      rawGetRepliesPerSec: Math.round(gets.rawGet.perSec),
      getReads: GET_READS,
      getInflight: GET_INFLIGHT,
      getRounds: GET_ROUNDS,
      searchP50Ms: r1(search.embedded.p50Ms),
      searchIndexP50Ms: r1(search.embedded.indexP50Ms),
      indexCatchUpRecordsPerSec: Math.round(RECORDS / search.embedded.catchUpSeconds),
      searchP50MsPostgres: pg && r1(pg.p50Ms),
      searchIndexP50MsPostgres: pg && r1(pg.indexP50Ms),
      indexCatchUpRecordsPerSecPostgres: pg && Math.round(RECORDS / pg.catchUpSeconds),
      searchQueries: SEARCHES,
      searchLimit: SEARCH_LIMIT,
      targets,
    }),
  );
}

const loadLine = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

async function main(): Promise<void> {
  console.log(machineLine());
  progress(machineLine());
  console.log(`load average at the start: ${loadLine()}`);
  const started = performance.now();
  progress(
    `write cost: two in-process ledgers (with / without the ordered index), ${COST_ACCOUNTS} accounts`,
  );
  const cost = writeCost();
  const c = await onCluster();
  const targets = { ...printQueryLines(cost, c), ...printReadLines(c) };
  console.log(
    `load average at the end: ${loadLine()}; whole bench ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  printJson(cost, c, targets);
}

await main();
