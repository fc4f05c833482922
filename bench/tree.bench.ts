// bench:tree — the Merkle prefix tree against @ethereumjs/mpt (SHA-256, same keys and values) in
// one run: in-memory batch insert, the tree's heap at N keys, single-key proof size, prove and
// verify time, and records per second persisted to LevelDB in 1,000-record blocks with one fsync
// per block, next to the LevelDB floor: raw batches of the same entry count and bytes, fsync'd.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createMPT, createMerkleProof, verifyMerkleProof } from "@ethereumjs/mpt";
import { installNodeSha256, nodeSha256 } from "../node/platform.js";
import { MerkleTree } from "../node/store/core/tree.js";
import { prove, provenState } from "../node/store/core/proof.js";
import { decodeProof, encodeProof } from "../node/store/core/proof-codec.js";
import { keyPath } from "../node/store/core/path.js";
import { Partition } from "../node/store/core/partition.js";
import { Level } from "level";
import { LevelStore } from "../node/store/level-store.js";
import { bytesEqual, utf8 } from "../node/common/bytes.js";
import { machineLine, median, nowUs, progress } from "./machine.js";

installNodeSha256();
const N = Number(process.env.ARBOR_BENCH_KEYS ?? 100_000);
const BATCH = 1000;
const PROOFS = 2000;
const ROUNDS = 3;
const COMMIT_BLOCKS = 30;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
function randomKey(): string {
  const b = randomBytes(8);
  let s = "";
  for (const x of b) s += ALPHABET[x % 62];
  return s;
}

const keySet = new Set<string>();
while (keySet.size < N) keySet.add(randomKey());
const keys = [...keySet];
const values = keys.map(() => new Uint8Array(randomBytes(32)));
const keyBytes = keys.map(utf8);

console.log(machineLine());
console.log(
  `load average at the start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(`keys: ${N} random 8-character keys, 32-byte values, batches of ${BATCH}`);

/** Heap in use after a full collection (NaN without --expose-gc). */
function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return NaN;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

// --- Arbor insert -------------------------------------------------------------------------
const insertRounds: number[] = [];
/** CPU time (user + system, every thread of the process) per key, per round: less sensitive to a shared machine's load than wall time. */
const insertCpuRounds: number[] = [];
const cpuUs = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const heapBefore = heapAfterGc();
let tree = new MerkleTree();
for (let round = 0; round < ROUNDS; round++) {
  tree = new MerkleTree();
  const t0 = nowUs();
  const c0 = cpuUs();
  for (let i = 0; i < N; i += BATCH) {
    for (let j = i; j < Math.min(N, i + BATCH); j++) tree.set(keys[j]!, values[j]!);
    void tree.rootLabel;
  }
  insertRounds.push((nowUs() - t0) / N);
  insertCpuRounds.push((cpuUs() - c0) / N);
  progress(`arbor insert round ${round + 1}/${ROUNDS}: ${insertRounds[round]!.toFixed(2)} µs/key`);
}
const insertUsPerKey = median(insertRounds);
const insertCpuUsPerKey = median(insertCpuRounds);
const root = tree.rootLabel;
// The tree of the last round, labels computed; the keys and values it shares with the bench are
// counted before.
const treeHeapMB = (heapAfterGc() - heapBefore) / 2 ** 20;
progress(`arbor tree heap at ${N} keys: ${treeHeapMB.toFixed(1)} MB`);

// --- MPT insert ---------------------------------------------------------------------------
const mpt = await createMPT({ useKeyHashing: true, useKeyHashingFunction: nodeSha256 });
const tm0 = nowUs();
const cm0 = cpuUs();
for (let i = 0; i < N; i += BATCH) {
  const ops = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++)
    ops.push({ type: "put" as const, key: keyBytes[j]!, value: values[j]! });
  await mpt.batch(ops);
  if ((i / BATCH) % 20 === 19) progress(`mpt insert ${i + BATCH}/${N}`);
}
const mptInsertUsPerKey = (nowUs() - tm0) / N;
const mptInsertCpuUsPerKey = (cpuUs() - cm0) / N;

// --- proofs -------------------------------------------------------------------------------
const sample = Array.from({ length: PROOFS }, (_, i) => (i * 7919) % N);
const proveTimes: number[] = [];
const verifyTimes: number[] = [];
let proofBytes = 0;
const proofs: Uint8Array[] = [];
for (let rep = 0; rep < ROUNDS; rep++) {
  const t0 = nowUs();
  for (const i of sample) proofs[i] = encodeProof(prove(tree, [keyPath(keys[i]!)]));
  proveTimes.push((nowUs() - t0) / PROOFS);
  const t1 = nowUs();
  for (const i of sample) {
    const d = decodeProof(proofs[i]!);
    if (!bytesEqual(d.rootLabel, root)) throw new Error("proof does not verify");
    const s = provenState(d.root, keyPath(keys[i]!));
    if (!s.covered || !s.present || !bytesEqual(s.value!, values[i]!)) throw new Error("wrong value");
  }
  verifyTimes.push((nowUs() - t1) / PROOFS);
}
for (const i of sample) proofBytes += proofs[i]!.length;
const proofBytesMean = proofBytes / PROOFS;
progress(`arbor proofs: ${proofBytesMean.toFixed(0)} bytes mean`);

const mptRoot = mpt.root();
let mptBytes = 0;
const mptProofs = [];
for (const i of sample.slice(0, 500)) {
  const p = await createMerkleProof(mpt, keyBytes[i]!);
  mptProofs.push([i, p] as const);
  for (const n of p) mptBytes += n.length;
}
const mptVerify: number[] = [];
for (let rep = 0; rep < ROUNDS; rep++) {
  const t0 = nowUs();
  for (const [i, p] of mptProofs) {
    const v = await verifyMerkleProof(keyBytes[i]!, p, {
      useKeyHashing: true,
      useKeyHashingFunction: nodeSha256,
      root: mptRoot,
    } as never);
    if (!v || !bytesEqual(v, values[i]!)) throw new Error("mpt proof did not verify");
  }
  mptVerify.push((nowUs() - t0) / mptProofs.length);
}
const mptProofBytesMean = mptBytes / mptProofs.length;

// --- persistence --------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), "arbor-bench-tree-"));
let commitRecordsPerSec = 0;
let commitCpuUsPerRecord = 0;
/** Each block's batch as the store wrote it: entries put and their bytes. */
const batches: Array<{ puts: number; bytes: number }> = [];
try {
  const store = await LevelStore.open(dir, { partition: Partition.whole(), T: 1000 });
  const t0 = nowUs();
  const c0 = cpuUs();
  let n = 0;
  for (let b = 1; b <= COMMIT_BLOCKS; b++) {
    for (let j = 0; j < BATCH; j++) {
      const k = keys[n % N]!;
      store.history.apply({ t: "empty" }, [keyPath(k)], [{ key: k, value: values[n % N]! }]);
      n++;
    }
    await store.commit(BigInt(b));
    batches.push(store.lastBatch);
    if (b % 10 === 0) progress(`commit ${b}/${COMMIT_BLOCKS} blocks`);
  }
  commitRecordsPerSec = n / ((nowUs() - t0) / 1e6);
  commitCpuUsPerRecord = (cpuUs() - c0) / n;
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// The LevelDB floor: the same number of blocks, each one batch of as many entries and bytes as
// the store's (random bytes, distinct keys), fsync'd; nothing else in the loop.
const floorDir = mkdtempSync(join(tmpdir(), "arbor-bench-floor-"));
let levelFloorRecordsPerSec = 0;
try {
  const db = new Level<Uint8Array, Uint8Array>(floorDir, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  const blocks = batches.map((b, i) => {
    const each = Math.max(1, Math.floor(b.bytes / b.puts) - 13);
    return Array.from({ length: b.puts }, (_, j) => {
      const k = new Uint8Array(13);
      new DataView(k.buffer).setUint32(5, i);
      new DataView(k.buffer).setUint32(9, j);
      return { k, v: new Uint8Array(randomBytes(each)) };
    });
  });
  const t0 = nowUs();
  for (const entries of blocks) {
    const batch = db.batch();
    for (const e of entries) batch.put(e.k, e.v);
    await batch.write({ sync: true });
  }
  levelFloorRecordsPerSec = (COMMIT_BLOCKS * BATCH) / ((nowUs() - t0) / 1e6);
  await db.close();
} finally {
  rmSync(floorDir, { recursive: true, force: true });
}
const commitBytesPerRecord = batches.reduce((a, b) => a + b.bytes, 0) / (COMMIT_BLOCKS * BATCH);

const r = {
  bench: "tree",
  keys: N,
  insertUsPerKey: +insertUsPerKey.toFixed(2),
  insertCpuUsPerKey: +insertCpuUsPerKey.toFixed(2),
  mptInsertCpuUsPerKey: +mptInsertCpuUsPerKey.toFixed(2),
  mptInsertUsPerKey: +mptInsertUsPerKey.toFixed(2),
  proveUs: +median(proveTimes).toFixed(2),
  verifyUs: +median(verifyTimes).toFixed(2),
  mptVerifyUs: +median(mptVerify).toFixed(2),
  proofBytesMean: +proofBytesMean.toFixed(1),
  mptProofBytesMean: +mptProofBytesMean.toFixed(1),
  commitRecordsPerSec: Math.round(commitRecordsPerSec),
  commitCpuUsPerRecord: +commitCpuUsPerRecord.toFixed(2),
  treeHeapMB: Number.isNaN(treeHeapMB) ? null : +treeHeapMB.toFixed(1),
  commitBytesPerRecord: +commitBytesPerRecord.toFixed(1),
  levelFloorRecordsPerSec: Math.round(levelFloorRecordsPerSec),
  loadAverage: loadavg().map((x) => +x.toFixed(2)),
};
const row = (name: string, arbor: string, peer: string, target: string) =>
  console.log(`${name.padEnd(22)} ${arbor.padStart(12)} ${peer.padStart(12)}   ${target}`);
console.log("");
row("metric", "arbor", "mpt", "target");
row(
  "insert µs/key",
  r.insertUsPerKey.toFixed(2),
  r.mptInsertUsPerKey.toFixed(2),
  `≤ 10 and ≥ 15× faster (${(r.mptInsertUsPerKey / r.insertUsPerKey).toFixed(1)}×)`,
);
row(
  "insert CPU µs/key",
  r.insertCpuUsPerKey.toFixed(2),
  r.mptInsertCpuUsPerKey.toFixed(2),
  `every thread of the process (${(r.mptInsertCpuUsPerKey / r.insertCpuUsPerKey).toFixed(1)}×)`,
);
row("prove µs", r.proveUs.toFixed(2), "", "");
row("verify µs", r.verifyUs.toFixed(2), r.mptVerifyUs.toFixed(2), "≤ 45");
row("proof bytes (mean)", r.proofBytesMean.toFixed(1), r.mptProofBytesMean.toFixed(1), "≤ 600");
row("commit records/s", String(r.commitRecordsPerSec), "", "≥ 50,000");
row("commit CPU µs/record", r.commitCpuUsPerRecord.toFixed(2), "", "incl. LevelDB's threads");
row("LevelDB floor rec/s", String(r.levelFloorRecordsPerSec), "", `same batches, fsync'd`);
row("commit bytes/record", r.commitBytesPerRecord.toFixed(1), "", "");
row("tree heap MB", r.treeHeapMB === null ? "(no gc)" : r.treeHeapMB.toFixed(1), "", `${N} keys`);
console.log(`load average at the end: ${r.loadAverage.join(" ")}`);
console.log(JSON.stringify(r));
