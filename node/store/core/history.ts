// The T-history-aware tree (thesis §3.4, §4.3.5, §5.1): a Merkle tree plus a logical timestamp
// advanced by every accepted operation, the root labels of the last T timestamps, and the keys
// each of the last T operations touched. Outside its partition the tree forgets: when an
// operation's touched keys reach age T, every internal node outside the partition on their paths
// that has not changed for T operations becomes a stub — exactly at age T, never earlier, never
// inside the partition. Imported knowledge (subtrees a proof re-materialised) ages out the same way.

import { bytesToLatin1, copyBytes, latin1ToBytes, toHex } from "../../common/bytes.js";
import { LimitError, ensures, invariant } from "../../common/errors.js";
import { MAX_HISTORY_T, MAX_TIMESTAMP } from "../../common/limits.js";
import type { Write } from "../../common/record-write.js";
import { checkPaths, COMPATIBLE, type Verdict } from "./compat.js";
import {
  EmptyNode,
  internalLabelString,
  InternalNode,
  Kind,
  LeafNode,
  StubNode,
  type TreeNode,
} from "./node.js";
import { Partition, Place } from "./partition.js";
import { bitAt, keyPath } from "./path.js";
import { labelOf, nodeAt, type ProofNode } from "./proof.js";
import { MerkleTree } from "./tree.js";
import { labelKind, LabelKind } from "./label.js";

export type { Write };

/** One operation's entry in the history: what the store must persist to restart at this point. */
export interface HistoryEntry {
  readonly ts: number;
  /**
   * The root after this operation, or null when it was not the last of its block: clients only
   * ever see committed states, so roots are sealed once per block (`seal`), not per operation.
   */
  root: Uint8Array | null;
  readonly paths: readonly Uint8Array[];
  /** Opaque to the store, persisted with the entry: the ledger keeps the request id here. */
  readonly tag?: Uint8Array | undefined;
}

/**
 * An entry as the window keeps it: T of them stay in memory, so the root and the touched paths are
 * latin1 strings (the paths concatenated, 32 characters each) — about an eighth of the heap that
 * a Uint8Array per path takes — and the tag, needed only to persist the entry, is not kept.
 */
interface WindowEntry {
  readonly ts: number;
  root: string | null;
  readonly paths: string;
}

export class HistoryTree {
  readonly tree: MerkleTree;
  private _now: number;
  /** entries for timestamps now-T+1 .. now (root labels window and touched-key queue together), a ring */
  private readonly ring: (WindowEntry | undefined)[];
  private head = 0;
  private count = 0;
  private readonly rootCounts = new Map<string, number>();
  /** entries for timestamps added since the last `takeNewEntries` */
  private fresh: HistoryEntry[] = [];

  private constructor(
    readonly T: number,
    tree: MerkleTree,
    now: number,
    entries: readonly HistoryEntry[],
  ) {
    if (!Number.isSafeInteger(T) || T < 1 || T > MAX_HISTORY_T)
      throw new LimitError("history/bad-t", `T must be an integer in 1..${MAX_HISTORY_T}`);
    this.tree = tree;
    this._now = now;
    this.ring = new Array<WindowEntry | undefined>(T);
    for (const e of entries) this.pushEntry(e);
  }

  /** A new history at timestamp 0 whose tree holds the genesis records. */
  static genesis(
    partition: Partition,
    T: number,
    records: Iterable<{ key: string; value: Uint8Array }>,
  ): HistoryTree {
    const tree = new MerkleTree(partition);
    for (const r of records) tree.set(r.key, r.value, 0);
    // Genesis records have never changed: no proof can predate them, so outside the partition
    // they are forgotten at once.
    pruneOutside(tree, 0);
    const h = new HistoryTree(T, tree, 0, []);
    const first: HistoryEntry = { ts: 0, root: tree.rootLabel, paths: [] };
    h.pushEntry(first);
    h.fresh.push(first);
    return h;
  }

  /** Reopens a history from a restored tree and its stored entries (oldest first). */
  static restore(T: number, tree: MerkleTree, entries: readonly HistoryEntry[]): HistoryTree {
    invariant(entries.length > 0, "restore needs at least one history entry");
    const last = entries[entries.length - 1]!;
    const h = new HistoryTree(T, tree, last.ts, entries.slice(-T));
    invariant(
      last.root !== null && toHex(last.root) === toHex(tree.rootLabel),
      "restored tree does not match its last root",
    );
    return h;
  }

  get now(): number {
    return this._now;
  }

  get rootLabel(): Uint8Array {
    return this.tree.rootLabel;
  }

  get partition(): Partition {
    return this.tree.partition;
  }

  /** Grows the partition at once (see MerkleTree.widen): positions inside it stop ageing out. */
  widen(p: Partition): void {
    this.tree.widen(p);
  }

  /** The timestamp whose root this label is, if it is among the last T roots (the newest if repeated). */
  timestampOf(root: Uint8Array): number | undefined {
    const id = rootId(root);
    if (!this.rootCounts.has(id)) return undefined;
    for (let i = this.count - 1; i >= 0; i--) if (this.entry(i).root === id) return this.entry(i).ts;
    return undefined;
  }

  /** The i-th entry of the window, oldest first. */
  private entry(i: number): WindowEntry {
    return this.ring[(this.head + i) % this.T]!;
  }

  /** The compatibility verdict of a proof (already decoded and verified) for the checked key paths. */
  check(proof: ProofNode, proofRoot: Uint8Array, paths: readonly Uint8Array[]): Verdict {
    if (!this.rootCounts.has(rootId(proofRoot))) return { ok: false, reason: "stale-root" };
    return checkPaths(this.tree, proof, paths);
  }

  /**
   * Applies an accepted operation: imports from the proof what the checked paths need, applies
   * the writes at the next timestamp, records the new root and the touched paths, and ages out
   * what the operation T timestamps ago touched. The caller must have had `check` return ok.
   */
  apply(proof: ProofNode, paths: readonly Uint8Array[], writes: readonly Write[], tag?: Uint8Array): void {
    invariant(this._now < MAX_TIMESTAMP, "timestamp overflow");
    for (const p of paths) this.importPath(proof, p);
    const ts = this._now + 1;
    for (const w of writes) {
      if (w.value === null) this.tree.remove(w.key, ts);
      else this.tree.set(w.key, w.value, ts);
    }
    this._now = ts;
    const entry: HistoryEntry = { ts, root: null, paths, tag };
    this.pushEntry(entry);
    this.fresh.push(entry);
  }

  /** One operation as a block of its own: check, apply when compatible, seal. */
  execute(
    proof: ProofNode,
    proofRoot: Uint8Array,
    keys: readonly string[],
    writes: readonly Write[],
  ): Verdict {
    const paths = keys.map(keyPath);
    const v = this.check(proof, proofRoot, paths);
    if (v.ok) {
      this.apply(proof, paths, writes);
      this.seal();
    }
    return v.ok ? COMPATIBLE : v;
  }

  /** Entries added since the last call (for the storage shell). */
  takeNewEntries(): HistoryEntry[] {
    const f = this.fresh;
    this.fresh = [];
    return f;
  }

  private pushEntry(e: HistoryEntry): void {
    let old: WindowEntry | undefined;
    if (this.count === this.T) {
      old = this.ring[this.head]!;
      this.head = (this.head + 1) % this.T;
      this.count--;
      if (old.root !== null) this.uncount(old.root);
    }
    const kept: WindowEntry = {
      ts: e.ts,
      root: e.root === null ? null : rootId(e.root),
      paths: e.paths.map(bytesToLatin1).join(""),
    };
    this.ring[(this.head + this.count) % this.T] = kept;
    this.count++;
    if (kept.root !== null) this.countRoot(kept.root);
    // `old` was applied at ts = now - T: the nodes it touched that have not changed since have
    // age exactly T.
    // A node holding the whole tree forgets nothing (every position is inside its partition).
    if (old !== undefined && old.ts > 0 && !this.tree.partition.isWhole)
      for (let i = 0; i < old.paths.length; i += 32)
        this.age(latin1ToBytes(old.paths.slice(i, i + 32)), this._now - this.T);
  }

  private countRoot(id: string): void {
    this.rootCounts.set(id, (this.rootCounts.get(id) ?? 0) + 1);
  }

  private uncount(id: string): void {
    const c = this.rootCounts.get(id)! - 1;
    if (c === 0) this.rootCounts.delete(id);
    else this.rootCounts.set(id, c);
  }

  /**
   * Ends a block: computes the root after its last operation and admits it to the window of
   * roots that proofs may use. Returns the root. Idempotent.
   */
  seal(): Uint8Array {
    const root = this.tree.rootLabel;
    const last = this.entry(this.count - 1);
    if (last.root === null) {
      last.root = rootId(root);
      this.countRoot(last.root);
      // The same operation's entry on its way to storage, unless the store took it unsealed.
      const pending = this.fresh[this.fresh.length - 1];
      if (pending !== undefined && pending.ts === last.ts) pending.root = root;
    }
    ensures(this.count <= this.T && last.ts === this._now, "the window ends at the newest operation");
    ensures(this.rootCounts.has(rootId(root)), "a sealed root is one that proofs may be checked against");
    return root;
  }

  /** Algorithm 1's import: replaces a stub on `path` by the matching subtree of the proof. */
  private importPath(proof: ProofNode, path: Uint8Array): void {
    const end = this.tree.walk(path);
    if (end.node.kind !== Kind.Stub) return;
    const there = nodeAt(proof, path, end.depth);
    invariant(
      there !== null && labelOf(there).every((b, i) => b === (end.node as StubNode).label[i]),
      "import without a matching node",
    );
    this.tree.replaceAt(path, end.depth, graft(there, path, end.depth, end.node.ts));
  }

  /** Stubs what is outside the partition on `path` and unchanged since `threshold`. */
  private age(path: Uint8Array, threshold: number): void {
    const part = this.tree.partition;
    let n: TreeNode = this.tree.root;
    let d = 0;
    for (;;) {
      if (n.kind !== Kind.Internal) return;
      const place = part.place(path, d);
      // Below a position inside the partition, everything is inside: nothing to forget.
      if (place === Place.Inside) return;
      if (place === Place.Outside && n.ts <= threshold) {
        this.tree.replaceAt(path, d, new StubNode(internalLabelString(n), n.ts));
        return;
      }
      const b = bitAt(path, d);
      const s = n.child(b ? 0 : 1);
      if (s.kind === Kind.Internal && s.ts <= threshold) {
        const sp = flipBit(path, d);
        if (part.place(sp, d + 1) === Place.Outside)
          this.tree.replaceAt(sp, d + 1, new StubNode(internalLabelString(s), s.ts));
      }
      n = n.child(b);
      d++;
    }
  }
}

/** A cheap map key for a 32-byte root label (its latin1 string, as the window keeps it). */
const rootId = bytesToLatin1;

function flipBit(path: Uint8Array, i: number): Uint8Array {
  const p = copyBytes(path);
  p[i >> 3]! ^= 1 << (7 - (i & 7));
  return p;
}

/**
 * Local nodes for a proof subtree that replaces a stub: the checked path is expanded, every
 * node beside it becomes a stub (internal) or a summary (leaf). All carry the stub's timestamp,
 * so they age out when the stub would have.
 */
function graft(n: ProofNode, path: Uint8Array, depth: number, ts: number): TreeNode {
  switch (n.t) {
    case "empty":
      return new EmptyNode(ts);
    case "leaf":
      return new LeafNode(bytesToLatin1(n.keyHash), bytesToLatin1(n.valueHash), null, null, ts);
    case "stub":
      return new StubNode(bytesToLatin1(n.label), ts);
    case "internal": {
      const b = bitAt(path, depth);
      const on = graft(b ? n.right : n.left, path, depth + 1, ts);
      const off = beside(b ? n.left : n.right, ts);
      return b ? new InternalNode(off, on) : new InternalNode(on, off);
    }
  }
}

function beside(n: ProofNode, ts: number): TreeNode {
  switch (n.t) {
    case "empty":
      return new EmptyNode(ts);
    case "leaf":
      return new LeafNode(bytesToLatin1(n.keyHash), bytesToLatin1(n.valueHash), null, null, ts);
    default: {
      const label = labelOf(n);
      // The compatibility check refuses proofs whose leaves beside a checked path are bare stubs.
      invariant(labelKind(label) === LabelKind.Internal, "graft: a leaf beside the path is only a stub");
      return new StubNode(bytesToLatin1(label), ts);
    }
  }
}

/** Stubs every internal node outside the partition whose timestamp is at most `threshold`. */
export function pruneOutside(tree: MerkleTree, threshold: number): void {
  const part = tree.partition;
  const visit = (n: TreeNode, prefix: Uint8Array, depth: number): TreeNode => {
    if (n.kind !== Kind.Internal) return n;
    const place = part.place(prefix, depth);
    if (place === Place.Outside && n.ts <= threshold) return new StubNode(internalLabelString(n), n.ts);
    const left = visit(n.left, prefix, depth + 1);
    const rp = flipBit(prefix, depth);
    const right = visit(n.right, rp, depth + 1);
    if (left !== n.left || right !== n.right) {
      n.left = left;
      n.right = right;
      n.touch();
    }
    return n;
  };
  invariant(tree.journal === null, "pruneOutside runs before journaling starts");
  tree.root = visit(tree.root, new Uint8Array(32), 0);
}
