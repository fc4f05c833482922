// The Merkle prefix tree in memory: get, set and remove records; compute the root label. The
// shape is canonical (internal node at a prefix iff two or more keys share it; a single key's
// subtree collapses to its leaf), so the root depends only on the set of records. Outside its
// partition the tree keeps leaves as summaries and may hold stubs (see history.ts for when).

import { ArborError, invariant } from "../../common/errors.js";
import { copyBytes } from "../../common/bytes.js";
import { MAX_TIMESTAMP } from "../../common/limits.js";
import { valueHash } from "./label.js";
import { EmptyNode, InternalNode, Kind, LeafNode, type TerminalNode, type TreeNode } from "./node.js";
import { Partition, Place } from "./partition.js";
import { bitAt, checkValue, commonPrefixBits, keyPath, prefixOf } from "./path.js";
import type { Journal, Position } from "./journal.js";

/** An operation reached a part of the tree this node does not store (a bug in the caller: paths must be imported first). */
export class PathUnknownError extends ArborError {}

export type RecordState =
  | { readonly present: false }
  | { readonly present: true; readonly valueHash: Uint8Array; readonly value: Uint8Array | null };

/** Where a walk along a key path stopped. */
export interface PathEnd {
  readonly node: TerminalNode;
  readonly depth: number;
}

export function positionOnPath(path: Uint8Array, depth: number): Position {
  return { prefix: prefixOf(path, depth), depth };
}

export function siblingPosition(path: Uint8Array, depth: number): Position {
  const prefix = prefixOf(path, depth);
  const d = depth - 1;
  prefix[d >> 3]! ^= 1 << (7 - (d & 7));
  return { prefix, depth };
}

export class MerkleTree {
  root: TreeNode;
  journal: Journal | null = null;

  constructor(
    readonly partition: Partition = Partition.whole(),
    root: TreeNode = new EmptyNode(0),
  ) {
    this.root = root;
  }

  get rootLabel(): Uint8Array {
    return this.root.label;
  }

  /** Follows `path` to the terminal node that decides the key's state. */
  walk(path: Uint8Array): PathEnd {
    let n = this.root;
    let d = 0;
    while (n.kind === Kind.Internal) {
      n = n.child(bitAt(path, d));
      d++;
    }
    return { node: n, depth: d };
  }

  /** State of the record with this path, or a PathUnknownError when a stub hides it. */
  stateOf(path: Uint8Array): RecordState {
    const { node } = this.walk(path);
    if (node.kind === Kind.Stub) throw new PathUnknownError("store/path-unknown", "a stub hides this key");
    if (node.kind === Kind.Leaf && bytesEq32(node.keyHash, path))
      return { present: true, valueHash: node.valueHash, value: node.value };
    return { present: false };
  }

  get(key: string): Uint8Array | undefined {
    const s = this.stateOf(keyPath(key));
    return s.present ? (s.value ?? undefined) : undefined;
  }

  set(key: string, value: Uint8Array, ts = 0): void {
    checkValue(value);
    const path = keyPath(key);
    checkTs(ts);
    const full = this.partition.holdsKey(path);
    const leaf = new LeafNode(path, valueHash(value), full ? key : null, full ? value : null, ts);
    this.root = this.insert(this.root, 0, leaf);
  }

  /** Inserts a leaf built elsewhere (e.g. restored from storage or a summary from a proof). */
  setLeaf(leaf: LeafNode): void {
    this.root = this.insert(this.root, 0, leaf);
  }

  remove(key: string, ts = 0): boolean {
    checkTs(ts);
    const path = keyPath(key);
    const r = this.delete(this.root, 0, path, ts);
    if (r === null) return false;
    this.root = r;
    return true;
  }

  removePath(path: Uint8Array, ts: number): boolean {
    const r = this.delete(this.root, 0, path, ts);
    if (r === null) return false;
    this.root = r;
    return true;
  }

  /** Replaces the terminal at the end of `path`'s walk at `depth` (used by import and ageing). */
  replaceAt(path: Uint8Array, depth: number, node: TreeNode): void {
    if (depth === 0) {
      this.detachSubtree(this.root, path, 0);
      this.root = node;
      this.attachSubtree(node, path, 0);
      return;
    }
    const parents: InternalNode[] = [];
    let n = this.root;
    for (let d = 0; d < depth; d++) {
      invariant(n.kind === Kind.Internal, "replaceAt: path shorter than depth");
      parents.push(n);
      n = n.child(bitAt(path, d));
    }
    this.detachSubtree(n, path, depth);
    this.attachSubtree(node, path, depth);
    parents[depth - 1]!.setChild(bitAt(path, depth - 1), node);
    for (let i = depth - 2; i >= 0; i--) parents[i]!.touch();
  }

  // --- journaling -------------------------------------------------------------------------

  private attach(n: TerminalNode, pos: () => Position): void {
    this.journal?.attach(n, pos());
  }

  private detach(n: TerminalNode, pos: () => Position): void {
    this.journal?.detach(n, pos());
  }

  /** Detaches every terminal in the subtree rooted at the position (path, depth). */
  detachSubtree(n: TreeNode, path: Uint8Array, depth: number): void {
    if (!this.journal) return;
    const j = this.journal;
    forEachTerminal(n, prefixOf(path, depth), depth, (t, pos) => j.detach(t, pos));
  }

  attachSubtree(n: TreeNode, path: Uint8Array, depth: number): void {
    if (!this.journal) return;
    const j = this.journal;
    forEachTerminal(n, prefixOf(path, depth), depth, (t, pos) => j.attach(t, pos));
  }

  // --- insert and delete ------------------------------------------------------------------

  private insert(n: TreeNode, depth: number, leaf: LeafNode): TreeNode {
    const path = leaf.keyHash;
    switch (n.kind) {
      case Kind.Internal: {
        const b = bitAt(path, depth);
        n.setChild(b, this.insert(n.child(b), depth + 1, leaf));
        return n;
      }
      case Kind.Empty:
        this.detach(n, () => positionOnPath(path, depth));
        this.attach(leaf, () => positionOnPath(path, depth));
        return leaf;
      case Kind.Leaf:
        if (bytesEq32(n.keyHash, path)) {
          this.detach(n, () => positionOnPath(path, depth));
          this.attach(leaf, () => positionOnPath(path, depth));
          return leaf;
        }
        return this.split(n, depth, leaf);
      case Kind.Stub:
        throw new PathUnknownError("store/path-unknown", `insert reached a stub at depth ${depth}`);
    }
  }

  /** Replaces leaf `old` at `depth` by the smallest subtree holding both `old` and `leaf`. */
  private split(old: LeafNode, depth: number, leaf: LeafNode): TreeNode {
    const path = leaf.keyHash;
    const ts = leaf.ts;
    const cp = commonPrefixBits(old.keyHash, path);
    invariant(cp >= depth && cp < 256, "split: leaves do not share the position");
    this.detach(old, () => positionOnPath(path, depth));
    // The old record now sits at a new, deeper position: it is a new node there.
    const moved = old.at(Math.max(ts, old.ts));
    this.attach(moved, () => positionOnPath(old.keyHash, cp + 1));
    this.attach(leaf, () => positionOnPath(path, cp + 1));
    let sub: TreeNode = bitAt(path, cp) ? new InternalNode(moved, leaf) : new InternalNode(leaf, moved);
    for (let d = cp - 1; d >= depth; d--) {
      const e = new EmptyNode(ts);
      this.attach(e, () => siblingPosition(path, d + 1));
      sub = bitAt(path, d) ? new InternalNode(e, sub) : new InternalNode(sub, e);
    }
    return sub;
  }

  /** Returns the new subtree, or null when the key was absent (nothing changes). */
  private delete(n: TreeNode, depth: number, path: Uint8Array, ts: number): TreeNode | null {
    switch (n.kind) {
      case Kind.Empty:
        return null;
      case Kind.Stub:
        throw new PathUnknownError("store/path-unknown", `remove reached a stub at depth ${depth}`);
      case Kind.Leaf: {
        if (!bytesEq32(n.keyHash, path)) return null;
        const e = new EmptyNode(ts);
        this.detach(n, () => positionOnPath(path, depth));
        this.attach(e, () => positionOnPath(path, depth));
        return e;
      }
      case Kind.Internal: {
        const b = bitAt(path, depth);
        const c = this.delete(n.child(b), depth + 1, path, ts);
        if (c === null) return null;
        const other = n.child(b ? 0 : 1);
        // Canonical shape: a subtree left with a single leaf (or none) collapses to it.
        if (
          (c.kind === Kind.Empty && other.kind === Kind.Leaf) ||
          (c.kind === Kind.Leaf && other.kind === Kind.Empty)
        ) {
          const leaf = (c.kind === Kind.Leaf ? c : other) as LeafNode;
          this.detach(c as TerminalNode, () => positionOnPath(path, depth + 1));
          this.detach(other as TerminalNode, () => siblingPosition(path, depth + 1));
          const up = leaf.at(Math.max(ts, leaf.ts));
          this.attach(up, () => positionOnPath(path, depth));
          return up;
        }
        invariant(
          !(c.kind === Kind.Empty && other.kind === Kind.Empty),
          "delete: internal node with two empty children",
        );
        n.setChild(b, c);
        return n;
      }
    }
  }

  // --- inspection -------------------------------------------------------------------------

  /** Counts nodes by kind and by place relative to the partition (for memory bounds and tests). */
  census(): { nodes: number; outside: number; stubs: number; fullLeaves: number; summaries: number } {
    const c = { nodes: 0, outside: 0, stubs: 0, fullLeaves: 0, summaries: 0 };
    const prefix = new Uint8Array(32);
    const visit = (n: TreeNode, depth: number): void => {
      c.nodes++;
      if (this.partition.place(prefix, depth) === Place.Outside && n.kind !== Kind.Empty) c.outside++;
      if (n.kind === Kind.Stub) c.stubs++;
      else if (n.kind === Kind.Leaf) n.isSummary ? c.summaries++ : c.fullLeaves++;
      else if (n.kind === Kind.Internal) {
        visit(n.left, depth + 1);
        prefix[depth >> 3]! |= 1 << (7 - (depth & 7));
        visit(n.right, depth + 1);
        prefix[depth >> 3]! &= ~(1 << (7 - (depth & 7)));
      }
    };
    visit(this.root, 0);
    return c;
  }

  /** Every full record this tree stores, in path order. */
  *records(): Generator<{ key: string; value: Uint8Array }> {
    const stack: TreeNode[] = [this.root];
    while (stack.length) {
      const n = stack.pop()!;
      if (n.kind === Kind.Internal) stack.push(n.right, n.left);
      else if (n.kind === Kind.Leaf && n.key !== null && n.value !== null)
        yield { key: n.key, value: n.value };
    }
  }
}

/** Calls `f` for every terminal below `n`, with its position. `prefix` is consumed (mutated). */
export function forEachTerminal(
  n: TreeNode,
  prefix: Uint8Array,
  depth: number,
  f: (t: TerminalNode, pos: Position) => void,
): void {
  if (n.kind !== Kind.Internal) {
    f(n, { prefix: copyBytes(prefix), depth });
    return;
  }
  const m = 1 << (7 - (depth & 7));
  forEachTerminal(n.left, prefix, depth + 1, f);
  prefix[depth >> 3]! |= m;
  forEachTerminal(n.right, prefix, depth + 1, f);
  prefix[depth >> 3]! &= ~m;
}

export function bytesEq32(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkTs(ts: number): void {
  invariant(Number.isSafeInteger(ts) && ts >= 0 && ts <= MAX_TIMESTAMP, `bad timestamp ${ts}`);
}
