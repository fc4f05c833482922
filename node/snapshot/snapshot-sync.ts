// Snapshot state sync for a joining node with an empty store (docs/state-sync.md): choose a
// snapshot f+1 validators vouch for (snapshot-choice.ts), download its common part from any peer
// offering it (resumed after an interruption) and check its digest, download a tree part from one
// peer and check that it hashes to the certified root of the snapshot's height (a peer whose tree
// part does not is named and the next one asked), then install both as the node's store at that
// height with the height's header and certificate. The consensus then catches up from its peers
// and the node applies only the blocks after the snapshot.
//
// Crash safety: a marker file is written before the install and deleted after it; a node that
// finds the marker at start deletes the half-written databases and syncs again.

import { existsSync } from "node:fs";
import { mkdir, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Level } from "level";
import { bytesEqual, concatBytes, toHex } from "../common/bytes.js";
import { ArborError } from "../common/errors.js";
import {
  SNAPSHOT_FETCH_IN_FLIGHT,
  SNAPSHOT_OFFER_WAIT_MS,
  SNAPSHOT_PAGE_BYTES,
  SNAPSHOT_SERVE_CONCURRENCY,
} from "../common/limits.js";
import { sha256 } from "../common/hash.js";
import type { SignatureVerifier } from "../common/signature-verifier.js";
import type { Genesis, GenesisNode } from "../ledger/genesis.js";
import type { CertifiedHeader } from "../ledger/header.js";
import { APP_RECORD_PREFIX, LevelStore, type RawRecord } from "../store/level-store.js";
import { Partition } from "../store/core/partition.js";
import { ReceiptStore } from "../receipt-store.js";
import { certRecord } from "../certifier.js";
import { DATA_DATABASES } from "../data-format.js";
import { failpoint } from "../failpoints.js";
import type { Logger } from "../log.js";
import { ValidatorSets } from "../ledger/validator-sets.js";
import { awaitSnapshot, certifiedHeaderAt, type Chosen } from "./snapshot-choice.js";
import { SnapshotPeers } from "./snapshot-peers.js";
import { CONSENSUS_RECORD_PREFIX, consensusRecords, readRecords } from "./snapshot-records.js";
import { TobShell } from "../tob/shell.js";
import { raiseVotedRound, snapshotConsensus } from "../tob/core/index.js";
import { endResync, safetyBeforeResync, SNAPSHOT_WORK_DIR } from "./resync-marker.js";
import { writeAll } from "./snapshot-file.js";

export interface SnapshotSyncDeps {
  readonly dataDir: string;
  readonly chain: Uint8Array;
  readonly genesis: Genesis;
  /** the nodes to ask (not this one) */
  readonly peers: readonly GenesisNode[];
  readonly credentials: grpc.ChannelCredentials;
  /** this node's partition, which its store is created with */
  readonly partition: Partition;
  readonly verifier: SignatureVerifier;
  readonly log: Logger;
  /** how long to look for a vouched snapshot (SNAPSHOT_OFFER_WAIT_MS) */
  readonly offerWaitMs?: number;
}

export type SyncOutcome =
  { readonly synced: true; readonly height: bigint } | { readonly synced: false; readonly reason: string };

const INSTALLING = "INSTALLING";
const COMMON_FILE = "common.part";
const STATE_FILE = "state.json";
/** How often a download logs how far it got. */
const PROGRESS_LOG_MS = 5_000;

/** A page callback that logs `what` with the bytes done of `total`, at most every PROGRESS_LOG_MS. */
function progressLog(log: Logger, what: string, from: bigint, total: bigint): (at: bigint) => void {
  let last = Date.now();
  return (at) => {
    if (Date.now() - last < PROGRESS_LOG_MS) return;
    last = Date.now();
    log.info(what, { bytes: Number(at - from), of: Number(total - from) });
  };
}

/** Busy answers (50 ms apart) tolerated per part: about a minute of servers busy with others. */
const MAX_BUSY_WAITS = 1200;
/** Failed page requests tolerated per part before the sync gives up. */
const MAX_PAGE_FAILURES = 20;

/** Whether a node stopped in the middle of installing a snapshot (its store must be redone). */
export function installInterrupted(dataDir: string): boolean {
  return existsSync(join(dataDir, SNAPSHOT_WORK_DIR, INSTALLING));
}

/** Whether the node has no store yet (or one whose install from a snapshot was interrupted). */
export function storeMissing(dataDir: string): boolean {
  return !existsSync(join(dataDir, DATA_DATABASES.store, "CURRENT")) || installInterrupted(dataDir);
}

/** After a failed install: deletes what it wrote, so the node starts from the genesis instead. */
export async function abandonInstall(dataDir: string): Promise<void> {
  if (!installInterrupted(dataDir)) return;
  await rm(join(dataDir, DATA_DATABASES.store), { recursive: true, force: true });
  await rm(join(dataDir, DATA_DATABASES.meta), { recursive: true, force: true });
  await rm(join(dataDir, DATA_DATABASES.consensus), { recursive: true, force: true });
  await rm(join(dataDir, SNAPSHOT_WORK_DIR, INSTALLING), { force: true });
}

/** Syncs the node's store from a snapshot; `synced: false` leaves the data directory's databases untouched. */
export async function syncFromSnapshot(d: SnapshotSyncDeps): Promise<SyncOutcome> {
  const work = join(d.dataDir, SNAPSHOT_WORK_DIR);
  await mkdir(work, { recursive: true });
  if (installInterrupted(d.dataDir)) {
    d.log.warn("a snapshot install was interrupted: its databases are deleted and the sync redone");
    await abandonInstall(d.dataDir);
  }
  const peers = new SnapshotPeers(d.peers, d.credentials);
  let installed = false;
  try {
    const history = new ValidatorSets(d.genesis, d.chain, d.verifier, (why) => {
      throw new ArborError("snapshot/bad-transition", why);
    });
    const waitMs = d.offerWaitMs ?? SNAPSHOT_OFFER_WAIT_MS;
    const { chosen, nothing } = await awaitSnapshot(peers, d.chain, history, d.verifier, d.log, waitMs);
    if (chosen === null) {
      const reason = nothing ? "no peer offers a snapshot" : "no snapshot vouched for by f+1 validators";
      return { synced: false, reason };
    }
    d.log.info("syncing from a snapshot", {
      height: chosen.height,
      bytes: Number(chosen.commonBytes),
      vouching: chosen.vouching,
    });
    const cert = await certifiedHeaderAt(peers, d.chain, chosen.height, history, d.verifier, d.log);
    if (cert === null) return { synced: false, reason: `no certified header at height ${chosen.height}` };
    const common = await downloadCommon(work, peers, chosen, d.log);
    const tree = await downloadTree(peers, byCoverage(chosen, d), cert, common, d.log);
    await install(d, work, common, tree, cert);
    installed = true;
    return { synced: true, height: chosen.height };
  } finally {
    peers.close();
    // A failed install's databases go (the node replays from the genesis instead); whatever the
    // outcome, the downloads are of no more use. (A process killed meanwhile never gets here: at its
    // next start it finds the marker, or resumes the download.)
    if (!installed) await abandonInstall(d.dataDir);
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Fetches payload bytes [from, to) of the snapshot from its servers into `sink`, in order, page by
 * page with SNAPSHOT_FETCH_IN_FLIGHT pages asked at once (spread over the servers; a failed page is
 * asked of the next server); throws after MAX_PAGE_FAILURES failures.
 */
async function fetchRange(
  peers: SnapshotPeers,
  servers: readonly number[],
  height: bigint,
  from: bigint,
  to: bigint,
  sink: (b: Uint8Array) => Promise<void>,
  progress?: (at: bigint) => void,
): Promise<void> {
  const page = BigInt(SNAPSHOT_PAGE_BYTES);
  const pages = Number((to - from + page - 1n) / page);
  let failures = 0;
  let waits = 0;
  let turn = 0;
  const fetchPage = async (i: number): Promise<Uint8Array> => {
    const offset = from + BigInt(i) * page;
    const want = Number(to - offset < page ? to - offset : page);
    for (;;) {
      try {
        const r = await peers.snapshot(servers[turn++ % servers.length]!, height, offset);
        if (r.data.length < want || r.data.length > SNAPSHOT_PAGE_BYTES)
          throw new ArborError("snapshot/bad-page", `a page of ${r.data.length} bytes at ${offset}`);
        return r.data.subarray(0, want);
      } catch (e) {
        // A server busy with other pages is asked again later; that is no failure.
        const busy = (e as { code?: number }).code === grpc.status.RESOURCE_EXHAUSTED;
        if (busy ? ++waits > MAX_BUSY_WAITS : ++failures > MAX_PAGE_FAILURES) throw e;
        await new Promise((r) => setTimeout(r, busy ? 50 : 100 * Math.min(failures, 10)));
      }
    }
  };
  const ahead: Promise<Uint8Array>[] = [];
  let asked = 0;
  const ask = (): void => {
    const p = fetchPage(asked++);
    p.catch(() => undefined); // awaited in order below; a later page's failure must not go unhandled
    ahead.push(p);
  };
  const window = Math.min(SNAPSHOT_FETCH_IN_FLIGHT, servers.length * SNAPSHOT_SERVE_CONCURRENCY);
  while (ahead.length < window && asked < pages) ask();
  let at = from;
  for (let done = 0; done < pages; done++) {
    const b = await ahead.shift()!;
    if (asked < pages) ask();
    await sink(b);
    at += BigInt(b.length);
    progress?.(at);
  }
}

/**
 * The common part, checked against the vouched digest: first from all its servers (one after
 * another when one fails), resumed from what an earlier attempt at the same snapshot left; if it
 * does not hash right, from each server alone until one's does (a server that signs the vouched
 * statement but serves other bytes is named).
 */
async function downloadCommon(
  work: string,
  peers: SnapshotPeers,
  c: Chosen,
  log: Logger,
): Promise<Uint8Array> {
  const all = c.servers.map((x) => x.peer);
  const first = await commonFrom(work, peers, c, all, true, log);
  if (first !== null) return first;
  log.warn("snapshot sync: the common part does not hash to the vouched digest; asking each node alone", {
    servers: all,
  });
  for (const server of all) {
    const bytes = await commonFrom(work, peers, c, [server], false, log).catch(() => null);
    if (bytes !== null) return bytes;
    log.warn("snapshot sync: a peer's common part does not hash to the vouched digest", { peer: server });
  }
  throw new ArborError("snapshot/bad-common-part", "no peer served a common part with the vouched digest");
}

/** The common part from `servers`, or null when it does not hash to the digest (the file is then deleted). */
async function commonFrom(
  work: string,
  peers: SnapshotPeers,
  c: Chosen,
  servers: readonly number[],
  resume: boolean,
  log: Logger,
): Promise<Uint8Array | null> {
  const file = join(work, COMMON_FILE);
  const stateFile = join(work, STATE_FILE);
  const state = JSON.stringify({ height: String(c.height), digest: toHex(c.digest) });
  let have = 0n;
  if (resume && existsSync(stateFile) && existsSync(file) && (await readFile(stateFile, "utf8")) === state)
    have = BigInt((await stat(file)).size);
  if (have > c.commonBytes) have = 0n;
  if (have === 0n) {
    await writeFile(file, new Uint8Array(0));
    await writeFile(stateFile, state);
  } else log.info("snapshot sync: resuming the common part", { bytes: Number(have) });
  const fh = await open(file, "a");
  try {
    const progress = progressLog(log, "snapshot sync: downloading the common part", 0n, c.commonBytes);
    await fetchRange(
      peers,
      servers,
      c.height,
      have,
      c.commonBytes,
      async (b) => {
        await writeAll(fh, b);
      },
      progress,
    );
    await fh.sync();
  } finally {
    await fh.close();
  }
  const bytes = new Uint8Array(await readFile(file));
  if (bytesEqual(sha256(bytes), c.digest)) return bytes;
  await rm(file, { force: true });
  return null;
}

/**
 * The snapshot with its servers ordered by how many of this node's prefixes their partition (as
 * the genesis names it) covers, most first: what the tree part lacks is fetched by chunks later.
 */
function byCoverage(c: Chosen, d: SnapshotSyncDeps): Chosen {
  const mine = d.partition.prefixes;
  const covered = (peer: number): number => {
    const node = d.peers.find((p) => p.id === peer);
    if (!node) return 0;
    const theirs = new Partition(node.prefixes);
    return mine.filter((p) => theirs.covers(p)).length;
  };
  const servers = [...c.servers].sort((a, b) => covered(b.peer) - covered(a.peer));
  return { ...c, servers };
}

/**
 * One server's tree part that hashes to the certified root, as the chunk records to install
 * (LevelStore.snapshotTree); servers whose part does not are named and the next one is asked.
 */
async function downloadTree(
  peers: SnapshotPeers,
  c: Chosen,
  cert: CertifiedHeader,
  common: Uint8Array,
  log: Logger,
): Promise<RawRecord[]> {
  for (const server of c.servers) {
    const parts: Uint8Array[] = [];
    try {
      const progress = progressLog(
        log,
        "snapshot sync: downloading the tree part",
        c.commonBytes,
        server.totalBytes,
      );
      await fetchRange(
        peers,
        [server.peer],
        c.height,
        c.commonBytes,
        server.totalBytes,
        async (b) => {
          parts.push(b.slice());
        },
        progress,
      );
      const tree = LevelStore.snapshotTree(readRecords(concatBytes(...parts)), readRecords(common));
      if (bytesEqual(tree.root, cert.header.root)) return tree.records;
      log.warn("snapshot sync: a peer's tree part does not hash to the certified root", {
        peer: server.peer,
        root: toHex(tree.root),
        certified: toHex(cert.header.root),
      });
    } catch (e) {
      log.warn("snapshot sync: a peer's tree part was refused", { peer: server.peer, error: String(e) });
    }
  }
  throw new ArborError("snapshot/no-tree", "no peer served a tree part that hashes to the certified root");
}

/** Writes the store (and the certificate into the node database) between the marker's creation and removal. */
async function install(
  d: SnapshotSyncDeps,
  work: string,
  common: Uint8Array,
  tree: readonly RawRecord[],
  cert: CertifiedHeader,
): Promise<void> {
  const h = cert.header;
  await writeFile(join(work, INSTALLING), "");
  const app = (r: { key: Uint8Array; value: Uint8Array | null }): RawRecord => ({
    key: concatBytes(Uint8Array.of(APP_RECORD_PREFIX), r.key),
    value: r.value!,
  });
  // The consensus position first: a chain of blocks ending at the snapshot's height (vouched with
  // the common part, checked by hash links here).
  const position = consensusRecords(readRecords(common));
  const start = snapshotConsensus(Number(h.height), position.epoch, position.blocks, position.fresh);
  const consensus = { ...start, safety: raiseVotedRound(start.safety, safetyBeforeResync(d.dataDir)) };
  function* records(): Generator<RawRecord> {
    for (const r of readRecords(common)) if (r.key[0] !== CONSENSUS_RECORD_PREFIX) yield r;
    yield* tree;
    // The height's own header (the hash chain goes on from it) and where the receipts begin.
    yield app(ReceiptStore.ownHeaderRecord(h));
    yield app(ReceiptStore.syncedRecord(h.height));
  }
  await LevelStore.install(
    join(d.dataDir, DATA_DATABASES.store),
    (async function* () {
      yield* records();
    })(),
    { height: h.height, now: Number(h.timestamp), root: h.root },
    d.genesis.T,
    d.partition,
  );
  await TobShell.install(join(d.dataDir, DATA_DATABASES.consensus), consensus);
  failpoint("snapshot-install");
  const meta = new Level<Uint8Array, Uint8Array>(join(d.dataDir, DATA_DATABASES.meta), {
    keyEncoding: "view",
    valueEncoding: "view",
  });
  await meta.open();
  const c = certRecord(cert);
  await meta.put(c.key, c.value, { sync: true });
  await meta.close();
  await rm(join(work, INSTALLING), { force: true });
  await endResync(d.dataDir);
}
