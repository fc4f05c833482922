// The chunk vector (docs/vectors/graft.json): a node holding prefix "1" takes on prefix "0"; a
// holder of the whole tree serves the chunk at the first position the node lacks, cut to two full
// records. The node's check: the chunk decodes, is at the asked position, and its label equals the
// label the node's own (certified) tree has there. Mutations it refuses.
import { toHex, utf8 } from "../../node/common/bytes.js";
import { HistoryTree } from "../../node/store/core/history.js";
import { Partition, parsePrefix } from "../../node/store/core/partition.js";
import {
  decodeChunk,
  encodeChunk,
  extractChunk,
  formatPosition,
  treeNeeds,
  type Chunk,
} from "../../node/store/core/graft.js";
import { labelOf, type ProofNode } from "../../node/store/core/proof.js";
import { forgeChunk } from "../../node/byzantine.js";
import { bytesEq32 } from "../../node/store/core/tree.js";
import { codeOf, type Verdict } from "./common.js";

const RECORDS = Array.from({ length: 12 }, (_, i) => ({ key: `vec/k${i}`, value: utf8(`v${i}`) }));

/** `ok`, or why the node refuses `chunk` for position `at` where its tree's label is `label`. */
export function judgeChunk(chunk: Uint8Array, at: string, label: Uint8Array): Verdict {
  let c: Chunk;
  try {
    c = decodeChunk(chunk);
  } catch (e) {
    return codeOf(e);
  }
  if (c.at.depth !== at.length || formatPosition(c.at) !== at) return "graft/other-position";
  return bytesEq32(labelOf(c.root), label) ? "ok" : "graft/label-mismatch";
}

/** The first leaf with a value given as a bare stub of its label. */
function stubFirstLeaf(n: ProofNode, done = { v: false }): ProofNode {
  if (done.v) return n;
  if (n.t === "internal")
    return { t: "internal", left: stubFirstLeaf(n.left, done), right: stubFirstLeaf(n.right, done) };
  if (n.t === "leaf" && n.value !== null) {
    done.v = true;
    return { t: "stub", label: labelOf(n) };
  }
  return n;
}

export function graftVector(): Record<string, unknown> {
  const holder = HistoryTree.genesis(Partition.whole(), 4, RECORDS).tree;
  const node = HistoryTree.genesis(new Partition(["1"]), 4, RECORDS).tree;
  node.widen(node.partition.widen(["0"]));
  const need = treeNeeds(node, 1)[0]!;
  const at = formatPosition(need);
  const chunk = extractChunk(holder, need, parsePrefix("0"), 2);
  const good = encodeChunk(chunk);
  const label = labelOf(decodeChunk(good).root);
  const list: Array<[string, Uint8Array, string]> = [
    [
      "a record's value altered (its value hash recomputed)",
      encodeChunk(forgeChunk(chunk)),
      "graft/label-mismatch",
    ],
    [
      "a record given as a bare stub",
      encodeChunk({ at: chunk.at, root: stubFirstLeaf(chunk.root) }),
      "graft/leaf-stub",
    ],
    ["the last byte missing", good.subarray(0, good.length - 1), "decode/truncated"],
  ];
  return {
    comment:
      "A chunk for a node taking on prefix '0' (docs/protocol.md §16): varint depth ‖ the position's bytes ‖ the subtree in the proof encoding (§3), at most 256 full records. The node grafts it only when the chunk's label equals its own tree's label at that position. Mutations are refused.",
    records: RECORDS.map((r) => [r.key, toHex(r.value)]),
    root: toHex(holder.rootLabel),
    within: "0",
    at,
    labelAt: toHex(label),
    chunk: toHex(good),
    mutations: list.map(([what, bytes, refused]) => {
      const got = judgeChunk(bytes, at, label);
      if (got !== refused) throw new Error(`chunk mutation "${what}": ${got}, not ${refused}`);
      return { what, chunk: toHex(bytes), refused };
    }),
  };
}
