// Range proofs over the ordered index: a page of a listing, shown complete. The proof is the treap
// cut down to what the range needs — every node whose subtree may hold a key of the range comes
// with its entry, every other subtree as its hash — written in pre-order:
//   0x00                        an empty subtree
//   0x01 ‖ 32-byte hash         a subtree outside the range
//   0x02 ‖ entry ‖ left ‖ right a node (ordered-index.ts `writeEntry`), then its subtrees
// The verifier recomputes the root and checks that every subtree given as a hash lies wholly
// outside the range, by the key bounds its position in the search tree implies. A node that leaves
// a key of the range out must hide it in such a subtree, and that fails the check: a short listing
// fails verification like a forged value does.
//
// A page covers [start, X): X is the range's end when the page is the last (`done`), else the key
// just after the page's last entry, so the next page starts where this one stopped. A page that is
// not the last holds exactly the `limit` entries asked for.

import { Reader, Writer } from "../../common/codec.js";
import { DecodeError, ProofError } from "../../common/errors.js";
import { MAX_INDEX_DEPTH, MAX_KEY_BYTES } from "../../common/limits.js";
import { bytesEqual, bytesToLatin1, toHex } from "../../common/bytes.js";
import {
  EMPTY_INDEX_HASH,
  hashOf,
  decodeEntry,
  indexNodeHash,
  sortKey,
  nodeEntry,
  nodeEntryBytes,
  type IndexEntry,
  type IndexNode,
  type OrderedIndex,
} from "./ordered-index.js";

const EMPTY = 0;
const PRUNED = 1;
const NODE = 2;

/** A range of sort keys: start inclusive, end exclusive (null: no end). */
export interface SortRange {
  readonly start: string;
  readonly end: string | null;
}

export interface IndexPage {
  /** the entries of the page, in key order */
  readonly entries: readonly IndexEntry[];
  /** no entry of the range comes after this page */
  readonly done: boolean;
  readonly proof: Uint8Array;
}

/** The smallest sort key after `sk`. */
export function successor(sk: string): string {
  return sk + "\x00";
}

/**
 * The sort-key range of the keys under `prefix` after `after` (exclusive; null: from the first):
 * what `list(prefix, {after})` asks for.
 */
export function listingRange(prefix: string, after: string | null): SortRange {
  const p = sortKey(prefix);
  let end: string | null = null;
  for (let i = p.length - 1; i >= 0; i--) {
    const c = p.charCodeAt(i);
    if (c < 0xff) {
      end = p.slice(0, i) + String.fromCharCode(c + 1);
      break;
    }
  }
  const a = after === null ? null : successor(sortKey(after));
  return { start: a !== null && a > p ? a : p, end };
}

/** The range of exactly one key: its entry's proof is a page of that range (limit 1, done). */
export function entryRange(key: string): SortRange {
  const sk = sortKey(key);
  return { start: sk, end: successor(sk) };
}

/** True when no key strictly between `lo` and `hi` (null: unbounded) falls in [start, x). */
export function outside(lo: string | null, hi: string | null, start: string, x: string | null): boolean {
  if (x !== null && start >= x) return true;
  if (hi !== null && hi <= start) return true;
  return lo !== null && x !== null && successor(lo) >= x;
}

/** Proves the first `limit` (≥ 1) entries of `range` and whether they are all of it. */
export function proveRange(index: OrderedIndex, range: SortRange, limit: number): IndexPage {
  index.rootHash();
  const found: IndexNode[] = [];
  collect(index.root, range, limit + 1, found);
  const done = found.length <= limit;
  const page = found.slice(0, limit);
  const x = done ? range.end : successor(page[page.length - 1]!.sk);
  const w = new Writer(256 + page.length * 96);
  write(w, index.root, null, null, range.start, x);
  return { entries: page.map(nodeEntry), done, proof: w.finish() };
}

/** In-order, the nodes of `range`, at most `max`. */
function collect(n: IndexNode | null, range: SortRange, max: number, out: IndexNode[]): void {
  if (!n || out.length >= max) return;
  if (n.sk > range.start) collect(n.left, range, max, out);
  if (out.length >= max) return;
  const before = range.end === null || n.sk < range.end;
  if (n.sk >= range.start && before) out.push(n);
  if (before) collect(n.right, range, max, out);
}

function write(
  w: Writer,
  n: IndexNode | null,
  lo: string | null,
  hi: string | null,
  start: string,
  x: string | null,
): void {
  if (!n) {
    w.u8(EMPTY);
    return;
  }
  if (outside(lo, hi, start, x)) {
    w.u8(PRUNED).raw(hashOf(n));
    return;
  }
  w.u8(NODE).raw(nodeEntryBytes(n));
  write(w, n.left, lo, n.sk, start, x);
  write(w, n.right, n.sk, hi, start, x);
}

interface Walk {
  readonly r: Reader;
  readonly bytes: Uint8Array;
  readonly start: string;
  /** entries whose keys are in the range from `start` on (the page's end is checked after) */
  readonly entries: { sk: string; entry: IndexEntry }[];
  /** the key bounds of every subtree given as a hash */
  readonly pruned: { lo: string | null; hi: string | null }[];
}

/**
 * Checks a page against the index root a certified header holds, for the range asked and the
 * `limit` asked, and returns its entries. Throws ProofError when the proof does not hash to `root`,
 * hides part of the page's range, or does not match what was asked (DecodeError when malformed).
 */
export function verifyRange(
  proof: Uint8Array,
  root: Uint8Array,
  range: SortRange,
  limit: number,
  done: boolean,
): IndexEntry[] {
  const walk: Walk = { r: new Reader(proof), bytes: proof, start: range.start, entries: [], pruned: [] };
  const got = read(walk, null, null, 0);
  walk.r.end("index proof");
  if (!bytesEqual(got, root))
    throw new ProofError("index/root-mismatch", `the listing proves root ${toHex(got)}, not ${toHex(root)}`);
  // In key order. A page that is not the last holds exactly `limit` entries; nodes of the range
  // after them are revealed only as ancestors of the page.
  const inRange = walk.entries.filter((e) => range.end === null || e.sk < range.end);
  if (done && inRange.length > limit)
    throw new ProofError("index/over-limit", "the last page holds more entries than asked");
  if (!done && inRange.length < limit)
    throw new ProofError("index/short-page", "a page that is not the last is short");
  const page = inRange.slice(0, limit);
  const x = done ? range.end : successor(page[page.length - 1]!.sk);
  for (const p of walk.pruned)
    if (!outside(p.lo, p.hi, range.start, x))
      throw new ProofError("index/incomplete", "the listing hides part of its range behind a hash");
  return page.map((e) => e.entry);
}

/** Reads past one entry (`writeEntry`'s layout), returning its key's sort key. */
function skipEntry(r: Reader): string {
  const keyBytes = r.view(MAX_KEY_BYTES, "index key");
  const live = r.u8();
  if (live > 1) throw new DecodeError("index/bad-entry", "live flag must be 0 or 1");
  if (live) r.raw(32, "value hash");
  r.varint64("changes");
  r.varint64("height");
  r.raw(32, "history head");
  return bytesToLatin1(keyBytes);
}

function read(w: Walk, lo: string | null, hi: string | null, depth: number): Uint8Array {
  if (depth > MAX_INDEX_DEPTH)
    throw new DecodeError("index/too-deep", `index proof deeper than ${MAX_INDEX_DEPTH}`);
  const marker = w.r.u8();
  if (marker === EMPTY) return EMPTY_INDEX_HASH;
  if (marker === PRUNED) {
    w.pruned.push({ lo, hi });
    return w.r.raw(32, "subtree hash");
  }
  if (marker !== NODE) throw new DecodeError("index/bad-marker", `unknown index proof marker ${marker}`);
  const from = w.r.offset;
  const sk = skipEntry(w.r);
  const encoded = w.bytes.subarray(from, w.r.offset);
  if ((lo !== null && sk <= lo) || (hi !== null && sk >= hi))
    throw new ProofError("index/out-of-order", "an index proof node is out of key order");
  const left = read(w, lo, sk, depth + 1);
  // Only entries that may be listed are decoded (and so checked field by field); the others are
  // ancestors on the way, bound by the root like every byte of the proof.
  if (sk >= w.start) w.entries.push({ sk, entry: decodeEntry(encoded) });
  const right = read(w, sk, hi, depth + 1);
  return indexNodeHash(encoded, left, right);
}
