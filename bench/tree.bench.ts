// bench:tree — the Merkle prefix tree against @ethereumjs/mpt (SHA-256, same keys and values) in
// one run: in-memory batch insert, single-key proof size, prove and verify time, and records per
// second persisted to LevelDB in 1,000-record blocks with one fsync per block.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createMPT, createMerkleProof, verifyMerkleProof } from "@ethereumjs/mpt";
import { installNodeSha256, nodeSha256 } from "../node/platform.js";
import { MerkleTree } from "../node/store/core/tree.js";
import { prove, provenState } from "../node/store/core/proof.js";
import { decodeProof, encodeProof } from "../node/store/core/proof-codec.js";
import { keyPath } from "../node/store/core/path.js";
import { Partition } from "../node/store/core/partition.js";
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
console.log(`keys: ${N} random 8-character keys, 32-byte values, batches of ${BATCH}`);

// --- Arbor insert -------------------------------------------------------------------------
const insertRounds: number[] = [];
let tree = new MerkleTree();
for (let round = 0; round < ROUNDS; round++) {
  tree = new MerkleTree();
  const t0 = nowUs();
  for (let i = 0; i < N; i += BATCH) {
    for (let j = i; j < Math.min(N, i + BATCH); j++) tree.set(keys[j]!, values[j]!);
    void tree.rootLabel;
  }
  insertRounds.push((nowUs() - t0) / N);
  progress(`arbor insert round ${round + 1}/${ROUNDS}: ${insertRounds[round]!.toFixed(2)} µs/key`);
}
const insertUsPerKey = median(insertRounds);
const root = tree.rootLabel;

// --- MPT insert ---------------------------------------------------------------------------
const mpt = await createMPT({ useKeyHashing: true, useKeyHashingFunction: nodeSha256 });
const tm0 = nowUs();
for (let i = 0; i < N; i += BATCH) {
  const ops = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++)
    ops.push({ type: "put" as const, key: keyBytes[j]!, value: values[j]! });
  await mpt.batch(ops);
  if ((i / BATCH) % 20 === 19) progress(`mpt insert ${i + BATCH}/${N}`);
}
const mptInsertUsPerKey = (nowUs() - tm0) / N;

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
try {
  const store = await LevelStore.open(dir, { partition: Partition.whole(), T: 1000 });
  const t0 = nowUs();
  let n = 0;
  for (let b = 1; b <= COMMIT_BLOCKS; b++) {
    for (let j = 0; j < BATCH; j++) {
      const k = keys[n % N]!;
      store.history.apply({ t: "empty" }, [keyPath(k)], [{ key: k, value: values[n % N]! }]);
      n++;
    }
    await store.commit(BigInt(b));
    if (b % 10 === 0) progress(`commit ${b}/${COMMIT_BLOCKS} blocks`);
  }
  commitRecordsPerSec = n / ((nowUs() - t0) / 1e6);
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const r = {
  bench: "tree",
  keys: N,
  insertUsPerKey: +insertUsPerKey.toFixed(2),
  mptInsertUsPerKey: +mptInsertUsPerKey.toFixed(2),
  proveUs: +median(proveTimes).toFixed(2),
  verifyUs: +median(verifyTimes).toFixed(2),
  mptVerifyUs: +median(mptVerify).toFixed(2),
  proofBytesMean: +proofBytesMean.toFixed(1),
  mptProofBytesMean: +mptProofBytesMean.toFixed(1),
  commitRecordsPerSec: Math.round(commitRecordsPerSec),
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
row("prove µs", r.proveUs.toFixed(2), "", "");
row("verify µs", r.verifyUs.toFixed(2), r.mptVerifyUs.toFixed(2), "≤ 45");
row("proof bytes (mean)", r.proofBytesMean.toFixed(1), r.mptProofBytesMean.toFixed(1), "≤ 600");
row("commit records/s", String(r.commitRecordsPerSec), "", "≥ 50,000");
console.log(JSON.stringify(r));
