// The four kinds of tree node held in memory, and their labels. Terminal nodes (empty, leaf,
// stub) carry the logical timestamp at which the node at their position last changed; an internal
// node's timestamp is the newest of its children's. Leaves may be full (key and value) or
// summaries (key hash and value hash only: what a node keeps of an old record outside its
// partition).
//
// Hashes are held as 32-character latin1 strings (one character per byte): a string costs a
// fraction of a Uint8Array on the heap and node:crypto returns it without a copy. A leaf or
// internal node keeps its SHA-256 digest as computed; its label is that digest with the kind bit
// set (leaf) or cleared (internal), applied wherever the label is written out. An internal node
// holds its digest as eight 32-bit words instead (it changes with every batch below it); the
// digest is marked stale when a child changes and recomputed, bottom-up, only when a label is
// asked for: a batch of insertions hashes each touched node once.

import { EMPTY_LABEL, LABEL_BYTES } from "./label.js";
import { sha256Latin1 } from "../../common/hash.js";
import { bytesToLatin1 } from "../../common/bytes.js";
import { invariant } from "../../common/errors.js";

export const enum Kind {
  Empty = 0,
  Leaf = 1,
  Internal = 2,
  Stub = 3,
}

/** Storage bookkeeping (`saved`): never persisted yet. Otherwise the version it was persisted at. */
export const UNSAVED = -1;
/** Storage bookkeeping: left the tree before it was ever persisted (nothing to write). */
export const DROPPED = -2;

const TAG_LEAF = 0x01;
const TAG_INTERNAL = 0x02;

export class EmptyNode {
  readonly kind = Kind.Empty;
  saved = UNSAVED;
  constructor(readonly ts: number) {}
  get label(): Uint8Array {
    return EMPTY_LABEL;
  }
}

export class LeafNode {
  readonly kind = Kind.Leaf;
  saved = UNSAVED;
  /** SHA-256 of the leaf's label preimage; null until first needed */
  digest: string | null = null;
  constructor(
    /** the key's path, latin1 */
    readonly keyHash: string,
    /** latin1 */
    readonly valueHash: string,
    /** null for a summary leaf */
    readonly key: string | null,
    /** null for a summary leaf */
    readonly value: Uint8Array | null,
    readonly ts: number,
  ) {}
  get label(): Uint8Array {
    return labelBytes(this);
  }
  get isSummary(): boolean {
    return this.value === null;
  }
  /** The same record at a new position or time (labels are position-independent). */
  at(ts: number): LeafNode {
    const n = new LeafNode(this.keyHash, this.valueHash, this.key, this.value, ts);
    n.digest = this.digest;
    return n;
  }
  summary(): LeafNode {
    const n = new LeafNode(this.keyHash, this.valueHash, null, null, this.ts);
    n.digest = this.digest;
    return n;
  }
}

/** Stands for an internal subtree this node does not store. Leaves are never stubbed (see label.ts). */
export class StubNode {
  readonly kind = Kind.Stub;
  saved = UNSAVED;
  constructor(
    /** the subtree's label, latin1 */
    readonly digest: string,
    readonly ts: number,
  ) {
    invariant(isInternalLabel(digest), "stub must stand for an internal node");
  }
  get label(): Uint8Array {
    return labelBytes(this);
  }
}

export class InternalNode {
  readonly kind = Kind.Internal;
  // Declared before the digest words: what a walk down the tree reads sits at the object's start.
  ts: number;
  /** false when a child changed since the digest was computed (recomputed on demand) */
  hashed = false;
  // SHA-256 of the label preimage as eight big-endian 32-bit words in the node itself: an
  // internal node's digest changes with every batch below it, and words cost no allocation, no
  // collection and no second memory access when the parent is hashed.
  w0 = 0;
  w1 = 0;
  w2 = 0;
  w3 = 0;
  w4 = 0;
  w5 = 0;
  w6 = 0;
  w7 = 0;
  constructor(
    public left: TreeNode,
    public right: TreeNode,
  ) {
    this.ts = left.ts > right.ts ? left.ts : right.ts;
  }
  get label(): Uint8Array {
    return labelBytes(this);
  }
  /** Called after a child was replaced: drops the digest and refreshes the timestamp. */
  touch(): void {
    this.hashed = false;
    this.ts = this.left.ts > this.right.ts ? this.left.ts : this.right.ts;
  }
  child(bit: number): TreeNode {
    return bit ? this.right : this.left;
  }
  setChild(bit: number, n: TreeNode): void {
    if (bit) this.right = n;
    else this.left = n;
    this.touch();
  }
  /**
   * Replaces the child at `bit`, whose timestamp was `was`, by `n`. When `n` is at least as new
   * as what it replaces (every insertion and removal at the current timestamp), the timestamp
   * follows from the old one without reading the other child: on a large tree that read is a
   * cache miss per level.
   */
  replaceChild(bit: number, was: number, n: TreeNode): void {
    if (bit) this.right = n;
    else this.left = n;
    this.hashed = false;
    const ts = n.ts;
    if (ts >= was) {
      if (ts > this.ts) this.ts = ts;
    } else this.ts = this.left.ts > this.right.ts ? this.left.ts : this.right.ts;
  }
}

export type TerminalNode = EmptyNode | LeafNode | StubNode;
export type TreeNode = TerminalNode | InternalNode;

// --- labels ---------------------------------------------------------------------------------

/** The preimage of a label: tag ‖ 32 bytes ‖ 32 bytes (docs/protocol.md §2). */
const scratch = new Uint8Array(1 + 2 * LABEL_BYTES);

function writeLatin1(s: string, o: number): void {
  for (let i = 0; i < LABEL_BYTES; i++) scratch[o + i] = s.charCodeAt(i);
}

/** The leaf's digest, computed once (leaves never change; a new record is a new leaf). */
export function leafDigest(n: LeafNode): string {
  if (n.digest !== null) return n.digest;
  scratch[0] = TAG_LEAF;
  writeLatin1(n.keyHash, 1);
  writeLatin1(n.valueHash, 1 + LABEL_BYTES);
  return (n.digest = sha256Latin1(scratch));
}

/** Computes the internal node's digest, hashing first whatever below it changed since it was last asked. */
export function hashInternal(n: InternalNode): void {
  if (n.hashed) return;
  const l = n.left;
  const r = n.right;
  // Children first: the scratch buffer is only filled once nothing below needs it any more.
  if (l.kind === Kind.Internal) hashInternal(l);
  else if (l.kind === Kind.Leaf) leafDigest(l);
  if (r.kind === Kind.Internal) hashInternal(r);
  else if (r.kind === Kind.Leaf) leafDigest(r);
  scratch[0] = TAG_INTERNAL;
  putLabel(l, 1);
  putLabel(r, 1 + LABEL_BYTES);
  const h = sha256Latin1(scratch);
  n.w0 = word(h, 0);
  n.w1 = word(h, 4);
  n.w2 = word(h, 8);
  n.w3 = word(h, 12);
  n.w4 = word(h, 16);
  n.w5 = word(h, 20);
  n.w6 = word(h, 24);
  n.w7 = word(h, 28);
  n.hashed = true;
}

/** Big-endian 32-bit word at `i` of a latin1 digest (a signed 32-bit integer: a small integer to V8). */
function word(h: string, i: number): number {
  return (
    (h.charCodeAt(i) << 24) | (h.charCodeAt(i + 1) << 16) | (h.charCodeAt(i + 2) << 8) | h.charCodeAt(i + 3)
  );
}

/** Writes word `w` big-endian at `o` of `out` (element stores keep the low 8 bits). */
function putWord(out: Uint8Array, o: number, w: number): void {
  out[o] = w >>> 24;
  out[o + 1] = w >>> 16;
  out[o + 2] = w >>> 8;
  out[o + 3] = w;
}

/** Writes the internal node's digest (computed) at `o` of `out`. */
function putWords(n: InternalNode, out: Uint8Array, o: number): void {
  putWord(out, o, n.w0);
  putWord(out, o + 4, n.w1);
  putWord(out, o + 8, n.w2);
  putWord(out, o + 12, n.w3);
  putWord(out, o + 16, n.w4);
  putWord(out, o + 20, n.w5);
  putWord(out, o + 24, n.w6);
  putWord(out, o + 28, n.w7);
}

/** Writes a child's label (digest already computed) into the preimage at `o`. */
function putLabel(n: TreeNode, o: number): void {
  switch (n.kind) {
    case Kind.Empty:
      scratch.fill(0, o, o + LABEL_BYTES);
      return;
    case Kind.Leaf:
      writeLatin1(n.digest!, o);
      scratch[o]! |= 0x80;
      return;
    case Kind.Internal:
      putWords(n, scratch, o);
      scratch[o]! &= 0x7f;
      return;
    case Kind.Stub:
      writeLatin1(n.digest, o);
      return;
  }
}

/** A node's label as bytes (a fresh array). */
export function labelBytes(n: TreeNode): Uint8Array {
  const out = new Uint8Array(LABEL_BYTES);
  let s: string;
  switch (n.kind) {
    case Kind.Empty:
      return out;
    case Kind.Internal:
      hashInternal(n);
      putWords(n, out, 0);
      out[0]! &= 0x7f;
      return out;
    case Kind.Leaf:
      s = leafDigest(n);
      break;
    case Kind.Stub:
      s = n.digest;
      break;
  }
  for (let i = 0; i < LABEL_BYTES; i++) out[i] = s.charCodeAt(i);
  if (n.kind === Kind.Leaf) out[0]! |= 0x80;
  return out;
}

/** An internal node's label as a latin1 string (what a stub standing for it holds). */
export function internalLabelString(n: InternalNode): string {
  return bytesToLatin1(labelBytes(n));
}

/** True when the latin1 string is a label of the internal kind (top bit clear, not all zero). */
export function isInternalLabel(s: string): boolean {
  if (s.length !== LABEL_BYTES || s.charCodeAt(0) & 0x80) return false;
  for (let i = 0; i < LABEL_BYTES; i++) if (s.charCodeAt(i) !== 0) return true;
  return false;
}
