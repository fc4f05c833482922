// The Merkle prefix tree in memory: get, set and remove records; compute the root label. The
// shape is canonical (internal node at a prefix iff two or more keys share it; a single key's
// subtree collapses to its leaf), so the root depends only on the set of records. Outside its
// partition the tree keeps leaves as summaries and may hold stubs (see history.ts for when).

import { ArborError, invariant, InvariantError } from "../../common/errors.js";
import { bytesToLatin1, copyBytes, latin1Equals, latin1ToBytes } from "../../common/bytes.js";
import { sha256Latin1 } from "../../common/hash.js";
import { MAX_TIMESTAMP } from "../../common/limits.js";
import {
  EmptyNode,
  InternalNode,
  Kind,
  LeafNode,
  labelBytes,
  type TerminalNode,
  type TreeNode,
} from "./node.js";
import { Partition, Place } from "./partition.js";
import { bitAt, bitOf, checkValue, commonPrefixBitsLatin1, keyPathLatin1, prefixOf } from "./path.js";
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

/** Scratch for a path's bytes where the partition needs them (it reads bytes). */
const pathBytes = new Uint8Array(32);

export class MerkleTree {
  root: TreeNode;
  journal: Journal | null = null;

  constructor(
    private _partition: Partition = Partition.whole(),
    root: TreeNode = new EmptyNode(0),
  ) {
    this.root = root;
  }

  get partition(): Partition {
    return this._partition;
  }

  /**
   * Grows the partition (a node taking on prefixes): from now on nothing inside `p` is forgotten
   * and records written there are kept in full. What the tree lacks there (stubs, summary leaves)
   * stays until grafted (graft.ts).
   */
  widen(p: Partition): void {
    invariant(
      this._partition.prefixes.every((q) => p.covers(q)),
      "a partition only grows",
    );
    this._partition = p;
  }

  get rootLabel(): Uint8Array {
    return labelBytes(this.root);
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
    if (node.kind === Kind.Leaf && latin1Equals(node.keyHash, path))
      return { present: true, valueHash: latin1ToBytes(node.valueHash), value: node.value };
    return { present: false };
  }

  get(key: string): Uint8Array | undefined {
    const path = keyPathLatin1(key);
    let n = this.root;
    let d = 0;
    while (n.kind === Kind.Internal) n = n.child(bitOf(path, d++));
    if (n.kind === Kind.Stub) throw new PathUnknownError("store/path-unknown", "a stub hides this key");
    return n.kind === Kind.Leaf && n.keyHash === path ? (n.value ?? undefined) : undefined;
  }

  set(key: string, value: Uint8Array, ts = 0): void {
    checkValue(value);
    const path = keyPathLatin1(key);
    checkTs(ts);
    const full = this.holdsKey(path);
    const leaf = new LeafNode(path, sha256Latin1(value), full ? key : null, full ? value : null, ts);
    this.root = this.insert(this.root, 0, leaf);
  }

  /** Inserts a leaf built elsewhere (e.g. restored from storage or a summary from a proof). */
  setLeaf(leaf: LeafNode): void {
    this.root = this.insert(this.root, 0, leaf);
  }

  remove(key: string, ts = 0): boolean {
    checkTs(ts);
    const r = this.delete(this.root, 0, keyPathLatin1(key), ts);
    if (r === null) return false;
    this.root = r;
    return true;
  }

  removePath(path: Uint8Array, ts: number): boolean {
    const r = this.delete(this.root, 0, bytesToLatin1(path), ts);
    if (r === null) return false;
    this.root = r;
    return true;
  }

  /** Replaces the terminal at the end of `path`'s walk at `depth` (used by import and ageing). */
  replaceAt(path: Uint8Array, depth: number, node: TreeNode): void {
    if (depth === 0) {
      this.detachSubtree(this.root);
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
    this.detachSubtree(n);
    this.attachSubtree(node, path, depth);
    parents[depth - 1]!.setChild(bitAt(path, depth - 1), node);
    for (let i = depth - 2; i >= 0; i--) parents[i]!.touch();
  }

  private holdsKey(path: string): boolean {
    if (this.partition.isWhole) return true;
    for (let i = 0; i < 32; i++) pathBytes[i] = path.charCodeAt(i);
    return this.partition.holdsKey(pathBytes);
  }

  // --- journaling -------------------------------------------------------------------------

  /** Detaches every terminal in the subtree `n`. */
  detachSubtree(n: TreeNode): void {
    const j = this.journal;
    if (j === null) return;
    const visit = (m: TreeNode): void => {
      if (m.kind === Kind.Internal) {
        visit(m.left);
        visit(m.right);
      } else j.detach(m);
    };
    visit(n);
  }

  /** Attaches every terminal in the subtree `n` rooted at the position (path, depth). */
  attachSubtree(n: TreeNode, path: Uint8Array, depth: number): void {
    const j = this.journal;
    if (j === null) return;
    forEachTerminal(n, prefixOf(path, depth), depth, (t, pos) =>
      j.attach(t, bytesToLatin1(pos.prefix), pos.depth, false),
    );
  }

  // --- insert and delete ------------------------------------------------------------------

  private insert(n: TreeNode, depth: number, leaf: LeafNode): TreeNode {
    const path = leaf.keyHash;
    switch (n.kind) {
      case Kind.Internal: {
        const b = bitOf(path, depth);
        const c = n.child(b);
        const was = c.ts;
        n.replaceChild(b, was, this.insert(c, depth + 1, leaf));
        return n;
      }
      case Kind.Empty:
        if (this.journal !== null) {
          this.journal.detach(n);
          this.journal.attach(leaf, path, depth, false);
        }
        return leaf;
      case Kind.Leaf:
        if (n.keyHash === path) {
          if (this.journal !== null) {
            this.journal.detach(n);
            this.journal.attach(leaf, path, depth, false);
          }
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
    const cp = commonPrefixBitsLatin1(old.keyHash, path);
    invariant(cp >= depth && cp < 256, "split: leaves do not share the position");
    // The old record now sits at a new, deeper position: it is a new node there.
    const moved = old.at(ts > old.ts ? ts : old.ts);
    const j = this.journal;
    if (j !== null) {
      j.detach(old);
      j.attach(moved, old.keyHash, cp + 1, false);
      j.attach(leaf, path, cp + 1, false);
    }
    let sub: TreeNode = bitOf(path, cp) ? new InternalNode(moved, leaf) : new InternalNode(leaf, moved);
    for (let d = cp - 1; d >= depth; d--) {
      const e = new EmptyNode(ts);
      if (j !== null) j.attach(e, path, d + 1, true);
      sub = bitOf(path, d) ? new InternalNode(e, sub) : new InternalNode(sub, e);
    }
    return sub;
  }

  /** Returns the new subtree, or null when the key was absent (nothing changes). */
  private delete(n: TreeNode, depth: number, path: string, ts: number): TreeNode | null {
    switch (n.kind) {
      case Kind.Empty:
        return null;
      case Kind.Stub:
        throw new PathUnknownError("store/path-unknown", `remove reached a stub at depth ${depth}`);
      case Kind.Leaf: {
        if (n.keyHash !== path) return null;
        const e = new EmptyNode(ts);
        if (this.journal !== null) {
          this.journal.detach(n);
          this.journal.attach(e, path, depth, false);
        }
        return e;
      }
      case Kind.Internal: {
        const b = bitOf(path, depth);
        const was = n.child(b).ts;
        const c = this.delete(n.child(b), depth + 1, path, ts);
        if (c === null) return null;
        const other = n.child(b ? 0 : 1);
        // Canonical shape: a subtree left with a single leaf (or none) collapses to it.
        if (
          (c.kind === Kind.Empty && other.kind === Kind.Leaf) ||
          (c.kind === Kind.Leaf && other.kind === Kind.Empty)
        ) {
          const leaf = (c.kind === Kind.Leaf ? c : other) as LeafNode;
          const up = leaf.at(ts > leaf.ts ? ts : leaf.ts);
          if (this.journal !== null) {
            this.journal.detach(c as TerminalNode);
            this.journal.detach(other as TerminalNode);
            this.journal.attach(up, path, depth, false);
          }
          return up;
        }
        invariant(
          !(c.kind === Kind.Empty && other.kind === Kind.Empty),
          "delete: internal node with two empty children",
        );
        n.replaceChild(b, was, c);
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
  // The message is built only on failure: this runs once per write.
  if (!(Number.isSafeInteger(ts) && ts >= 0 && ts <= MAX_TIMESTAMP))
    throw new InvariantError(`bad timestamp ${ts}`);
}
