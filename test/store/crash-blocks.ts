// Deterministic blocks for the crash-safety test: block h of seed s is always the same.
import { Partition } from "../../node/store/core/partition.js";
import { keyPath } from "../../node/store/core/path.js";
import { HistoryTree, type Write } from "../../node/store/core/history.js";

export const CRASH_T = 4;
export function crashPartition(): Partition {
  return new Partition(["01", "1"]);
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export function blockFor(seed: number, height: bigint): Array<{ paths: Uint8Array[]; writes: Write[] }> {
  const rnd = prng(seed * 1000003 + Number(height));
  const ops: Array<{ paths: Uint8Array[]; writes: Write[] }> = [];
  const nOps = 1 + Math.floor(rnd() * 20);
  for (let i = 0; i < nOps; i++) {
    const writes: Write[] = [];
    for (let j = 0; j < 1 + Math.floor(rnd() * 5); j++) {
      const key = `crash/k${Math.floor(rnd() * 400)}`;
      writes.push({
        key,
        value:
          rnd() < 0.25
            ? null
            : new TextEncoder().encode(`v${height}-${i}-${j}-${"x".repeat(Math.floor(rnd() * 64))}`),
      });
    }
    ops.push({ paths: [...new Set(writes.map((w) => w.key))].map(keyPath), writes });
  }
  return ops;
}

/** A whole-tree history replayed up to `height`: the reference every store must match. */
export function mirrorAt(seed: number, height: bigint): HistoryTree {
  const h = HistoryTree.genesis(Partition.whole(), CRASH_T, []);
  for (let b = 1n; b <= height; b++)
    for (const op of blockFor(seed, b)) h.apply({ t: "empty" }, op.paths, op.writes);
  return h;
}
