// Child process for the crash-safety test: applies deterministic random blocks to a LevelStore
// forever, printing "committed <height> <root>" after each durable commit, until killed. A full
// in-memory mirror (replayed from block 1 at start) supplies the proofs a partitioned store needs.
import { LevelStore } from "../../node/store/level-store.js";
import { installNodeSha256 } from "../../node/platform.js";
import { blockFor, crashPartition, CRASH_T, mirrorAt } from "./crash-blocks.js";
import { prove } from "../../node/store/core/proof.js";
import { toHex } from "../../node/common/bytes.js";

installNodeSha256();
const dir = process.argv[2]!;
const seed = Number(process.argv[3]);
const store = await LevelStore.open(dir, { partition: crashPartition(), T: CRASH_T });
const mirror = mirrorAt(seed, store.height);
for (let h = store.height + 1n; ; h++) {
  for (const op of blockFor(seed, h)) {
    const proof = prove(mirror.tree, op.paths, { leafSiblings: true });
    mirror.apply(proof, op.paths, op.writes);
    store.history.apply(proof, op.paths, op.writes);
  }
  await store.commit(h);
  process.stdout.write(`committed ${h} ${toHex(store.history.rootLabel)}\n`);
}
