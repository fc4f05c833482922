// Taking on a prefix (docs/store.md "Taking on a prefix"): a node whose partition grows fetches the
// records under the new prefixes from their holders in chunks and grafts them into its tree. A
// chunk is the holder's subtree at one tree position, cut down to at most GRAFT_CHUNK_MAX_LEAVES
// full leaves, everything deeper given as stubs (labels) and leaves off the wanted prefix as
// summaries. The receiver recomputes the chunk's label and grafts it only when it equals the label
// its own tree has at that position now: its own tree's root is the certified one (it executes
// every block), so an equal label means the chunk is exactly a part of the certified tree. A
// graft replaces stubs by subtrees (with smaller stubs) and summary leaves by full ones; it never
// changes a label, so the root stays what it was. Pure: no I/O, no clock.

import { ArborError, DecodeError, ProofError } from "../../common/errors.js";
import { bytesToLatin1, latin1ToBytes } from "../../common/bytes.js";
import { Reader, Writer } from "../../common/codec.js";
import {
  GRAFT_CHUNK_MAX_LEAVES,
  MAX_GRAFT_CHUNK_BYTES,
  MAX_GRAFT_CHUNK_NODES,
  MAX_TREE_DEPTH,
} from "../../common/limits.js";
import { labelKind, LabelKind } from "./label.js";
import { EmptyNode, InternalNode, Kind, LeafNode, StubNode, type TreeNode } from "./node.js";
import { Place, type Partition, type Prefix } from "./partition.js";
import { bitAt, prefixOf, samePrefix } from "./path.js";
import { decodeProof, encodeProof } from "./proof-codec.js";
import { labelOf, type ProofNode } from "./proof.js";
import { bytesEq32, type MerkleTree } from "./tree.js";
import type { Position } from "./journal.js";

/**
 * Why a chunk was not grafted. "label-mismatch": its label is not the receiver's at that
 * position (forged or truncated when both are at one height, else stale); "position-absent": the
 * receiver's (or holder's) tree has no node at that position any more (stale); "no-progress": it
 * would replace nothing; "not-held": the holder does not hold the wanted prefix in full.
 */
export type GraftRefusal = "label-mismatch" | "position-absent" | "no-progress" | "not-held";

export class GraftError extends ArborError {
  constructor(
    readonly refusal: GraftRefusal,
    message: string,
  ) {
    super(`graft/${refusal}`, message);
  }
}

/** A decoded chunk: its position and its subtree (verified in shape; its label not yet compared). */
export interface Chunk {
  readonly at: Position;
  readonly root: ProofNode;
}

// --- positions -----------------------------------------------------------------------------

/** "0110" → the position of that prefix (any depth up to 256). */
export function positionOf(bits: string): Position {
  if (bits.length > MAX_TREE_DEPTH || !/^[01]*$/.test(bits))
    throw new DecodeError("graft/bad-position", "a position is a bit string of at most 256 bits");
  const prefix = new Uint8Array(32);
  for (let i = 0; i < bits.length; i++) if (bits[i] === "1") prefix[i >> 3]! |= 1 << (7 - (i & 7));
  return { prefix, depth: bits.length };
}

export function formatPosition(p: Position): string {
  let s = "";
  for (let i = 0; i < p.depth; i++) s += bitAt(p.prefix, i);
  return s;
}

/** True when the positions are on one path (one is a prefix of the other). */
function comparable(a: Uint8Array, da: number, b: Prefix): boolean {
  return samePrefix(a, b.path, Math.min(da, b.bits));
}

/** True when the key path lies under prefix `w`. */
function under(path: Uint8Array, w: Prefix): boolean {
  return samePrefix(path, w.path, w.bits);
}

// --- the holder's side ---------------------------------------------------------------------

/**
 * The chunk a holder serves for position `at`, toward prefix `within` (which `at` must lie on:
 * above it or inside it). Nodes on the way to `within` and inside it are expanded, depth first,
 * until GRAFT_CHUNK_MAX_LEAVES full leaves, MAX_GRAFT_CHUNK_BYTES or MAX_GRAFT_CHUNK_NODES would be
 * passed; the rest is given as stubs, and leaves off `within` as summaries. The caller checks that
 * it holds `within` in full; `lacking` says the tree itself had a stub or a summary leaf where the
 * chunk should give more (a node still taking on a prefix around `within` has not got all of it).
 */
export function extractChunk(
  tree: MerkleTree,
  at: Position,
  within: Prefix,
  maxLeaves = GRAFT_CHUNK_MAX_LEAVES,
): Chunk & { readonly lacking: boolean } {
  if (!comparable(at.prefix, at.depth, within))
    throw new GraftError("not-held", "the position is not on the way to the wanted prefix");
  let n = tree.root;
  for (let d = 0; d < at.depth; d++) {
    if (n.kind !== Kind.Internal)
      throw new GraftError("position-absent", `no node at depth ${at.depth} on that path`);
    n = n.child(bitAt(at.prefix, d));
  }
  const budget = {
    leaves: Math.min(maxLeaves, GRAFT_CHUNK_MAX_LEAVES),
    bytes: MAX_GRAFT_CHUNK_BYTES - 1024,
    nodes: MAX_GRAFT_CHUNK_NODES,
    lacking: false,
  };
  const pos = prefixOf(at.prefix, at.depth);
  const root = emit(n, pos, at.depth, within, budget);
  return { at: { prefix: prefixOf(at.prefix, at.depth), depth: at.depth }, root, lacking: budget.lacking };
}

interface Budget {
  leaves: number;
  bytes: number;
  nodes: number;
  /** a stub or summary leaf of the tree itself met on the way to `within` or inside it */
  lacking: boolean;
}

/** `pos` is the node's position (mutated below `depth` and restored). */
function emit(n: TreeNode, pos: Uint8Array, depth: number, within: Prefix, b: Budget): ProofNode {
  b.nodes--;
  switch (n.kind) {
    case Kind.Empty:
      return { t: "empty" };
    case Kind.Stub:
      if (comparable(pos, depth, within)) b.lacking = true;
      b.bytes -= 33;
      return { t: "stub", label: n.label };
    case Kind.Leaf: {
      const keyHash = latin1ToBytes(n.keyHash);
      const valueHash = latin1ToBytes(n.valueHash);
      if (n.value === null && under(keyHash, within)) b.lacking = true;
      const size = n.value === null ? 0 : n.value.length + n.key!.length * 3 + 16;
      if (n.value !== null && under(keyHash, within) && b.leaves > 0 && size <= b.bytes) {
        b.leaves--;
        b.bytes -= size;
        return { t: "leaf", keyHash, valueHash, key: n.key, value: n.value };
      }
      b.bytes -= 66;
      return { t: "leaf", keyHash, valueHash, key: null, value: null };
    }
    case Kind.Internal: {
      // Expanding adds two nodes; stop while some room is left for the stubs of open siblings.
      if (
        !comparable(pos, depth, within) ||
        b.leaves === 0 ||
        b.nodes < 2 * MAX_TREE_DEPTH + 2 ||
        b.bytes < 8192
      )
        return stubOf(n, b);
      const m = 1 << (7 - (depth & 7));
      const left = emit(n.left, pos, depth + 1, within, b);
      pos[depth >> 3]! |= m;
      const right = emit(n.right, pos, depth + 1, within, b);
      pos[depth >> 3]! &= ~m;
      // Two stubs under one node say nothing more than a stub for the node (and are not canonical).
      if (left.t === "stub" && right.t === "stub") return stubOf(n, b);
      return { t: "internal", left, right };
    }
  }
}

function stubOf(n: InternalNode, b: Budget): ProofNode {
  b.bytes -= 33;
  return { t: "stub", label: n.label };
}

// --- encoding ------------------------------------------------------------------------------

/** varint depth ‖ the position's ⌈depth/8⌉ bytes ‖ the subtree in the proof encoding (docs/protocol.md). */
export function encodeChunk(c: Chunk): Uint8Array {
  const body = encodeProof(c.root);
  const n = (c.at.depth + 7) >> 3;
  return new Writer(body.length + 40).varint(c.at.depth).raw(c.at.prefix.subarray(0, n)).raw(body).finish();
}

/**
 * Decodes a chunk from untrusted bytes: bounded in bytes, nodes and full leaves, every leaf on its
 * key's path under the chunk's position, canonical shape, stubs only for internal nodes. Hostile
 * bytes give a DecodeError; the label is compared by `graftChunk`.
 */
export function decodeChunk(bytes: Uint8Array): Chunk {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_GRAFT_CHUNK_BYTES + 64)
    throw new DecodeError("graft/too-large", `a chunk is at most ${MAX_GRAFT_CHUNK_BYTES} bytes`);
  const r = new Reader(bytes);
  const depth = r.varint(MAX_TREE_DEPTH, "chunk depth");
  const prefix = new Uint8Array(32);
  prefix.set(r.raw((depth + 7) >> 3, "chunk position"));
  if (!prefixOf(prefix, depth).every((x, i) => x === prefix[i]))
    throw new DecodeError("graft/non-canonical", "bits past the chunk's depth are not zero");
  let root: ProofNode;
  try {
    root = decodeProof(bytes.subarray(r.offset), {
      at: { prefix, depth },
      maxBytes: MAX_GRAFT_CHUNK_BYTES,
      maxNodes: MAX_GRAFT_CHUNK_NODES,
    }).root;
  } catch (e) {
    if (e instanceof ProofError) throw new DecodeError(e.code.replace(/^proof\//, "graft/"), e.message);
    throw e;
  }
  let leaves = 0;
  const check = (n: ProofNode): void => {
    if (n.t === "internal") {
      check(n.left);
      check(n.right);
    } else if (n.t === "stub" && labelKind(n.label) !== LabelKind.Internal)
      throw new DecodeError("graft/leaf-stub", "a chunk may not give a leaf as a bare label");
    else if (n.t === "leaf" && n.value !== null && ++leaves > GRAFT_CHUNK_MAX_LEAVES)
      throw new DecodeError("graft/too-many-leaves", `more than ${GRAFT_CHUNK_MAX_LEAVES} full leaves`);
  };
  check(root);
  return { at: { prefix, depth }, root };
}

// --- the receiver's side -------------------------------------------------------------------

/** A position where the tree lacks something: a stub, or a summary leaf (its key path given). */
export interface Need extends Position {
  readonly keyHash?: Uint8Array;
}

/** What a graft did: pieces filled, and what is still missing inside the grafted subtrees. */
export interface GraftResult {
  /** stubs replaced and summary leaves made full */
  readonly filled: number;
  /** stubs and summary leaves left inside the partition within the replaced parts */
  readonly needs: Need[];
}

/**
 * Grafts `chunk` into `tree` when its label equals the tree's label at the chunk's position.
 * Where the tree has a stub and the chunk more, the chunk's nodes replace it; where the tree has a
 * summary leaf inside its partition and the chunk the full record, that replaces it; the tree's
 * own detail is kept everywhere else. New nodes take the timestamp of what they replace (as
 * subtrees a proof re-materialised do). Throws GraftError when nothing is grafted.
 */
export function graftChunk(tree: MerkleTree, chunk: Chunk): GraftResult {
  const { at } = chunk;
  let n = tree.root;
  for (let d = 0; d < at.depth; d++) {
    if (n.kind !== Kind.Internal)
      throw new GraftError("position-absent", `this tree has no node at depth ${at.depth} on that path`);
    n = n.child(bitAt(at.prefix, d));
  }
  if (!bytesEq32(n.label, labelOf(chunk.root)))
    throw new GraftError("label-mismatch", `the chunk at "${formatPosition(at)}" is not this tree's subtree`);
  const swaps: Array<{ pos: Uint8Array; depth: number; node: TreeNode }> = [];
  merge(tree.partition, n, chunk.root, prefixOf(at.prefix, at.depth), at.depth, swaps);
  if (swaps.length === 0) throw new GraftError("no-progress", "the chunk has nothing this tree lacks");
  const needs: Need[] = [];
  for (const s of swaps) {
    tree.replaceAt(s.pos, s.depth, s.node);
    collectNeeds(tree.partition, s.node, s.pos, s.depth, needs);
  }
  return { filled: swaps.length, needs };
}

function merge(
  part: Partition,
  local: TreeNode,
  c: ProofNode,
  pos: Uint8Array,
  depth: number,
  swaps: Array<{ pos: Uint8Array; depth: number; node: TreeNode }>,
): void {
  if (local.kind === Kind.Stub) {
    if (c.t !== "stub") swaps.push({ pos: pos.slice(), depth, node: toLocal(part, c, local.ts) });
    return;
  }
  if (local.kind === Kind.Leaf) {
    // Equal labels: the same record. Made full where the partition holds it.
    if (local.value === null && c.t === "leaf" && c.value !== null && part.holdsKey(c.keyHash))
      swaps.push({ pos: pos.slice(), depth, node: toLocal(part, c, local.ts) });
    return;
  }
  if (local.kind === Kind.Internal && c.t === "internal") {
    const m = 1 << (7 - (depth & 7));
    merge(part, local.left, c.left, pos, depth + 1, swaps);
    pos[depth >> 3]! |= m;
    merge(part, local.right, c.right, pos, depth + 1, swaps);
    pos[depth >> 3]! &= ~m;
  }
}

/** Tree nodes for a chunk's subtree, all at timestamp `ts`; values copied (the chunk's bytes are not kept). */
function toLocal(part: Partition, c: ProofNode, ts: number): TreeNode {
  switch (c.t) {
    case "empty":
      return new EmptyNode(ts);
    case "stub":
      return new StubNode(bytesToLatin1(c.label), ts);
    case "leaf": {
      const full = c.value !== null && c.key !== null && part.holdsKey(c.keyHash);
      return new LeafNode(
        bytesToLatin1(c.keyHash),
        bytesToLatin1(c.valueHash),
        full ? c.key : null,
        full ? c.value!.slice() : null,
        ts,
      );
    }
    case "internal":
      return new InternalNode(toLocal(part, c.left, ts), toLocal(part, c.right, ts));
  }
}

// --- what is missing -----------------------------------------------------------------------

/**
 * Where the subtree `n` at (pos, depth) still lacks what the partition must hold: stubs at
 * positions not outside the partition, and summary leaves of keys it holds. Pushes their positions.
 */
export function collectNeeds(
  part: Partition,
  n: TreeNode,
  pos: Uint8Array,
  depth: number,
  out: Need[],
  limit = Infinity,
): void {
  if (out.length >= limit) return;
  switch (n.kind) {
    case Kind.Empty:
      return;
    case Kind.Stub:
      if (part.place(pos, depth) !== Place.Outside) out.push({ prefix: prefixOf(pos, depth), depth });
      return;
    case Kind.Leaf:
      if (n.value === null) {
        const keyHash = latin1ToBytes(n.keyHash);
        if (part.holdsKey(keyHash)) out.push({ prefix: prefixOf(pos, depth), depth, keyHash });
      }
      return;
    case Kind.Internal: {
      if (part.place(pos, depth) === Place.Outside) return;
      const p = prefixOf(pos, depth);
      collectNeeds(part, n.left, p, depth + 1, out, limit);
      p[depth >> 3]! |= 1 << (7 - (depth & 7));
      collectNeeds(part, n.right, p, depth + 1, out, limit);
    }
  }
}

/**
 * Whether `need` still stands: the tree still has, at its position, the stub or the summary leaf
 * it names. A need filled meanwhile (another chunk's graft reached it) no longer does, and an
 * honest chunk for it has nothing left to give.
 */
export function needStands(tree: MerkleTree, need: Need): boolean {
  let n = tree.root;
  for (let d = 0; d < need.depth; d++) {
    if (n.kind !== Kind.Internal) return false;
    n = n.child(bitAt(need.prefix, d));
  }
  if (need.keyHash === undefined) return n.kind === Kind.Stub;
  return n.kind === Kind.Leaf && n.value === null && n.keyHash === bytesToLatin1(need.keyHash);
}

/** Everything the tree still lacks inside its partition (at most `limit` positions). */
export function treeNeeds(tree: MerkleTree, limit = Infinity): Need[] {
  const out: Need[] = [];
  collectNeeds(tree.partition, tree.root, new Uint8Array(32), 0, out, limit);
  return out;
}

/** A member that may serve a need, and the prefix to ask it for (`within`). */
export interface ChunkSource<T> {
  readonly holder: T;
  readonly within: Prefix;
}

/**
 * Who can serve `need`, and for which prefix: a holder's prefix `q` and one of `part`'s prefixes
 * `p` that both lie on the need's way (for a summary leaf, both hold its key); the holder holds
 * the deeper of the two in full, and this node is taking it on, so that is the `within` to ask
 * for. One source per holder (its widest `within`), the widest first: a holder of all of `p` fills
 * the need at once; when none has all of it (the others hold finer prefixes, as after a repair
 * dealt a coarser prefix than any member had) or those that do cannot serve it yet (they are
 * taking it on too), holders of parts of it fill those parts, and what is left of the need shows
 * up deeper, under other holders' prefixes.
 */
export function chunkSources<T>(
  part: Partition,
  need: Need,
  holders: ReadonlyArray<{ readonly holder: T; readonly prefixes: readonly Prefix[] }>,
): ChunkSource<T>[] {
  const onWay = (w: Prefix): boolean =>
    need.keyHash !== undefined ? under(need.keyHash, w) : comparable(need.prefix, need.depth, w);
  const mine = part.prefixes.filter(onWay);
  const out: ChunkSource<T>[] = [];
  for (const h of holders) {
    let best: Prefix | null = null;
    for (const q of h.prefixes) {
      if (!onWay(q)) continue;
      for (const p of mine) {
        const [wide, deep] = p.bits <= q.bits ? [p, q] : [q, p];
        if (!samePrefix(deep.path, wide.path, wide.bits)) continue;
        if (best === null || deep.bits < best.bits) best = deep;
      }
    }
    if (best !== null) out.push({ holder: h.holder, within: best });
  }
  return out.sort((a, b) => a.within.bits - b.within.bits);
}

/**
 * The prefix of `part` to ask a holder for at a need (the `within` of a request): for a summary
 * leaf, the prefix holding its key; for a stub, the widest prefix on its path. Null when none.
 */
export function prefixFor(part: Partition, at: Need): Prefix | null {
  let best: Prefix | null = null;
  for (const p of part.prefixes) {
    if (at.keyHash !== undefined ? !under(at.keyHash, p) : !comparable(at.prefix, at.depth, p)) continue;
    if (best === null || p.bits < best.bits) best = p;
  }
  return best;
}
