// The ordered index: every key ever written, in UTF-8 byte order, with its value hash and the head
// of its history chain, in one authenticated structure whose root each block header commits to
// (docs/store.md "The ordered index", docs/protocol.md §15). The Merkle tree cannot list a prefix —
// its paths are hashes of keys — so this second structure keeps the keys' order.
//
// It is a treap: a binary search tree by key that is also a max-heap by priority, the priority of
// a key being SHA-256 of the key (its tree path). Distinct keys have distinct priorities, so the
// shape is a function of the set of keys alone, whatever order they came in, and its depth is
// O(log n) unless someone spends work exponential in the depth to grind keys. A write costs a
// path's worth of hashes, computed once per block when the root is asked for.
//
// Every node sees every write, so every node holds the whole index (about 350 bytes per key in
// memory): listings and histories are the same through every node, whatever its partition.

import { bytesToLatin1, latin1ToBytes, utf8 } from "../../common/bytes.js";
import { Reader, Writer } from "../../common/codec.js";
import { DecodeError, ensures, expects } from "../../common/errors.js";
import { sha256, sha256Latin1 } from "../../common/hash.js";
import { MAX_KEY_BYTES } from "../../common/limits.js";
import { INDEX_NODE_TAG } from "../../common/tags.js";
import { keyPathLatin1 } from "./path.js";

const NODE_TAG = utf8(INDEX_NODE_TAG);
/** The hash of an empty subtree, and the root of an empty index. */
export const EMPTY_INDEX_HASH = new Uint8Array(32);

/** What the index holds for one key. */
export interface IndexEntry {
  readonly key: string;
  /** SHA-256 of the value; null once the key is removed (the entry stays, and so does its history) */
  readonly valueHash: Uint8Array | null;
  /** how many changes the key has had: the length of its history */
  readonly changes: bigint;
  /** the height of the block of its last change */
  readonly height: bigint;
  /** the head of its history chain after the last change (key-history.ts) */
  readonly head: Uint8Array;
}

/**
 * A treap node. Strings hold bytes one per character (latin1): `sk` is the key's UTF-8 bytes, so
 * `<` on it is byte order; `prio` SHA-256 of the key; `enc` the entry's encoding; `hash` the node's.
 * Flat strings cost a fraction of the memory of typed arrays per field (docs/store.md).
 */
export interface IndexNode {
  readonly sk: string;
  readonly prio: string;
  enc: string;
  left: IndexNode | null;
  right: IndexNode | null;
  /** null while a change below has not been hashed in */
  hash: string | null;
}

/** The entry a node holds. */
export function nodeEntry(n: IndexNode): IndexEntry {
  return decodeEntry(latin1ToBytes(n.enc));
}

/** The encoding of the entry a node holds. */
export function nodeEntryBytes(n: IndexNode): Uint8Array {
  return latin1ToBytes(n.enc);
}

/** A key's position in the index order (its UTF-8 bytes as a latin1 string). */
export function sortKey(key: string): string {
  return bytesToLatin1(utf8(key));
}

/** `varint len ‖ key ‖ u8 live ‖ [32 value hash] ‖ varint changes ‖ varint height ‖ 32 head` */
export function writeEntry(w: Writer, e: IndexEntry): Writer {
  w.string(e.key).u8(e.valueHash ? 1 : 0);
  if (e.valueHash) w.raw(e.valueHash);
  return w.varint64(e.changes).varint64(e.height).raw(e.head);
}

function readEntry(r: Reader): IndexEntry {
  const key = r.string(MAX_KEY_BYTES, "index key");
  const live = r.u8();
  if (live > 1) throw new DecodeError("index/bad-entry", "live flag must be 0 or 1");
  const valueHash = live ? r.copy(32, "value hash") : null;
  const changes = r.varint64("changes");
  if (changes === 0n) throw new DecodeError("index/bad-entry", "an entry has at least one change");
  const height = r.varint64("height");
  return { key, valueHash, changes, height, head: r.copy(32, "history head") };
}

export function encodeEntry(e: IndexEntry): Uint8Array {
  return writeEntry(new Writer(64 + e.key.length * 3), e).finish();
}

function putVarint(out: Uint8Array, at: number, v: bigint): number {
  while (v >= 0x80n) {
    out[at++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[at++] = Number(v);
  return at;
}

function varintBytes(v: bigint): number {
  let n = 1;
  for (; v >= 0x80n; v >>= 7n) n++;
  return n;
}

/**
 * `encodeEntry` for a key given by its sort key (its UTF-8 bytes as latin1), writing straight into
 * an array of the exact size: the ledger encodes one entry per write.
 */
export function encodeEntryAt(
  sk: string,
  valueHash: Uint8Array | null,
  changes: bigint,
  height: bigint,
  head: Uint8Array,
): Uint8Array {
  const len = BigInt(sk.length);
  const size =
    varintBytes(len) + sk.length + 1 + (valueHash ? 32 : 0) + varintBytes(changes) + varintBytes(height) + 32;
  const out = new Uint8Array(size);
  let at = putVarint(out, 0, len);
  for (let i = 0; i < sk.length; i++) out[at++] = sk.charCodeAt(i);
  out[at++] = valueHash ? 1 : 0;
  if (valueHash) {
    out.set(valueHash, at);
    at += 32;
  }
  at = putVarint(out, at, changes);
  at = putVarint(out, at, height);
  out.set(head, at);
  return out;
}

export function decodeEntry(bytes: Uint8Array): IndexEntry {
  const r = new Reader(bytes);
  const e = readEntry(r);
  r.end("index entry");
  return e;
}

/** SHA-256(tag ‖ entry ‖ left hash ‖ right hash): the one node hash, shared with proof checking. */
export function indexNodeHash(entry: Uint8Array, left: Uint8Array, right: Uint8Array): Uint8Array {
  // One scratch buffer for every call (the hash reads it before returning): a proof check hashes a
  // node per level.
  const n = NODE_TAG.length + entry.length + 64;
  if (scratch.length < n) {
    scratch = new Uint8Array(Math.max(n, scratch.length * 2));
    scratch.set(NODE_TAG, 0);
  }
  scratch.set(entry, NODE_TAG.length);
  scratch.set(left, NODE_TAG.length + entry.length);
  scratch.set(right, NODE_TAG.length + entry.length + 32);
  return sha256(scratch.subarray(0, n));
}

let scratch: Uint8Array = new Uint8Array(0);

const EMPTY_LATIN1 = "\x00".repeat(32);

/** The same hash over the latin1 forms a treap node keeps. */
function nodeHashLatin1(enc: string, left: string, right: string): string {
  const t = NODE_TAG.length;
  const b = new Uint8Array(t + enc.length + 64);
  b.set(NODE_TAG, 0);
  for (let i = 0; i < enc.length; i++) b[t + i] = enc.charCodeAt(i);
  const l = t + enc.length;
  for (let i = 0; i < 32; i++) {
    b[l + i] = left.charCodeAt(i);
    b[l + 32 + i] = right.charCodeAt(i);
  }
  return sha256Latin1(b);
}

export class OrderedIndex {
  private top: IndexNode | null = null;
  private count = 0;
  private readonly bySortKey = new Map<string, IndexNode>();

  /** Builds an index holding `entries` (any order; a later entry for a key replaces an earlier). */
  static of(entries: Iterable<IndexEntry>): OrderedIndex {
    const ix = new OrderedIndex();
    for (const e of entries) ix.put(e);
    return ix;
  }

  /**
   * Builds an index from encoded entries (`encodeEntry`; any order, a later one for a key
   * replacing an earlier) at once: sorted by key, then laid out as the one treap of those keys in
   * a single pass (a stack of the right spine), instead of a search and rotations per key. What a
   * node starts with; the same tree as `of` gives.
   */
  static ofEncoded(items: Iterable<{ readonly key: string; readonly encoded: Uint8Array }>): OrderedIndex {
    const ix = new OrderedIndex();
    for (const { key, encoded } of items) {
      const sk = sortKey(key);
      const known = ix.bySortKey.get(sk);
      if (known) known.enc = bytesToLatin1(encoded);
      else ix.bySortKey.set(sk, newNode(key, sk, encoded));
    }
    const sorted = [...ix.bySortKey.values()].sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
    const spine: IndexNode[] = [];
    for (const node of sorted) {
      let last: IndexNode | null = null;
      while (spine.length > 0 && spine[spine.length - 1]!.prio < node.prio) last = spine.pop()!;
      node.left = last;
      if (spine.length > 0) spine[spine.length - 1]!.right = node;
      spine.push(node);
    }
    ix.top = spine[0] ?? null;
    ix.count = sorted.length;
    return ix;
  }

  get size(): number {
    return this.count;
  }

  /** The root node, for proofs (index-proof.ts). Hash it with `rootHash` first. */
  get root(): IndexNode | null {
    return this.top;
  }

  get(key: string): IndexEntry | undefined {
    const n = this.bySortKey.get(sortKey(key));
    return n ? nodeEntry(n) : undefined;
  }

  /** Every entry, in key order. */
  *entries(): Generator<IndexEntry> {
    const stack: IndexNode[] = [];
    let n = this.top;
    while (n || stack.length > 0) {
      for (; n; n = n.left) stack.push(n);
      const m = stack.pop()!;
      yield nodeEntry(m);
      n = m.right;
    }
  }

  /** Sets a key's entry: a new key goes in at its place, a known one is replaced. */
  put(entry: IndexEntry): void {
    expects(entry.head.length === 32 && entry.changes > 0n, "an entry has a head and a change");
    this.putEncoded(entry.key, encodeEntry(entry));
  }

  /**
   * What a key's next change needs of its entry — its change count, last height and head — read
   * from the stored encoding without decoding the rest (the ledger's hot path).
   */
  tail(key: string, sk: string = sortKey(key)): EntryTail | undefined {
    const n = this.bySortKey.get(sk);
    return n ? tailOf(n.enc) : undefined;
  }

  /** `put` for an entry already encoded (`encodeEntry`) for `key`. */
  putEncoded(key: string, encoded: Uint8Array, sk: string = sortKey(key)): void {
    const known = this.bySortKey.get(sk);
    if (known) {
      known.enc = bytesToLatin1(encoded);
      this.dirtyPath(sk);
      return;
    }
    const node = newNode(key, sk, encoded);
    this.top = insert(this.top, node);
    this.bySortKey.set(sk, node);
    this.count++;
  }

  /**
   * Takes a key out (the ledger never does: entries stay for their histories). A follower undoes
   * a block that failed verification with it.
   */
  remove(key: string): void {
    const sk = sortKey(key);
    if (!this.bySortKey.delete(sk)) return;
    this.dirtyPath(sk);
    this.top = removeFrom(this.top, sk);
    this.count--;
  }

  /** The root hash: what the header commits to. Hashes only what changed since the last call. */
  rootHash(): Uint8Array {
    const h = this.top ? latin1ToBytes(hashLatin1(this.top)) : EMPTY_INDEX_HASH;
    ensures(h.length === 32, "the root is a hash");
    return h;
  }

  /** Marks the nodes from the root down to `sk` as changed. */
  private dirtyPath(sk: string): void {
    let n = this.top;
    while (n) {
      n.hash = null;
      if (sk === n.sk) return;
      n = sk < n.sk ? n.left : n.right;
    }
  }
}

/** The fields of an entry a change extends (see `tail`). */
export interface EntryTail {
  readonly changes: bigint;
  readonly height: bigint;
  readonly head: Uint8Array;
}

/** Reads a minimal varint at `at` of a latin1 string; returns [value, next position]. */
function varintAt(s: string, at: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const b = s.charCodeAt(at++);
    v |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [v, at];
    shift += 7n;
  }
}

function tailOf(enc: string): EntryTail {
  // key length and key, live flag, [value hash], changes, height, head (writeEntry's layout)
  let at = 0;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    const b = enc.charCodeAt(at++);
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  at += len;
  at += enc.charCodeAt(at) === 1 ? 33 : 1;
  const [changes, afterChanges] = varintAt(enc, at);
  const [height] = varintAt(enc, afterChanges);
  return { changes, height, head: latin1ToBytes(enc.slice(enc.length - 32)) };
}

/** A node not yet in a tree: the key's place, its priority (SHA-256 of the key) and its entry. */
function newNode(key: string, sk: string, encoded: Uint8Array): IndexNode {
  return { sk, prio: keyPathLatin1(key), enc: bytesToLatin1(encoded), left: null, right: null, hash: null };
}

function insert(n: IndexNode | null, node: IndexNode): IndexNode {
  if (!n) return node;
  n.hash = null;
  if (node.sk < n.sk) {
    n.left = insert(n.left, node);
    return n.left.prio > n.prio ? rotateRight(n) : n;
  }
  n.right = insert(n.right, node);
  return n.right.prio > n.prio ? rotateLeft(n) : n;
}

/** Rotates the node `sk` down until it is a leaf's parent of nothing, then drops it. */
function removeFrom(n: IndexNode | null, sk: string): IndexNode | null {
  if (!n) return null;
  n.hash = null;
  if (sk < n.sk) {
    n.left = removeFrom(n.left, sk);
    return n;
  }
  if (sk > n.sk) {
    n.right = removeFrom(n.right, sk);
    return n;
  }
  if (!n.left) return n.right;
  if (!n.right) return n.left;
  // The child of higher priority takes its place; the node goes on down the other side.
  if (n.left.prio > n.right.prio) {
    const l = rotateRight(n);
    l.right = removeFrom(l.right, sk);
    return l;
  }
  const r = rotateLeft(n);
  r.left = removeFrom(r.left, sk);
  return r;
}

function rotateRight(n: IndexNode): IndexNode {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  l.hash = null;
  return l;
}

function rotateLeft(n: IndexNode): IndexNode {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  r.hash = null;
  return r;
}

/** A node's hash, computing what changed below it first. */
export function hashOf(n: IndexNode | null): Uint8Array {
  return n ? latin1ToBytes(hashLatin1(n)) : EMPTY_INDEX_HASH;
}

function hashLatin1(n: IndexNode): string {
  if (n.hash !== null) return n.hash;
  const left = n.left ? hashLatin1(n.left) : EMPTY_LATIN1;
  const right = n.right ? hashLatin1(n.right) : EMPTY_LATIN1;
  n.hash = nodeHashLatin1(n.enc, left, right);
  return n.hash;
}
