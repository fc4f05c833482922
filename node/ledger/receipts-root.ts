// The receipt root a block header commits to: a binary Merkle tree over the block's receipts in
// order, so that one receipt is proven by its inclusion path instead of by f+1 node signatures.
//
// leaf(r)      = SHA-256(0x00 ‖ receipt bytes)
// node(l, r)   = SHA-256(0x01 ‖ l ‖ r)
// tree(leaves) = leaves paired left to right level by level; an odd last one moves up unchanged
//                (the shape of RFC 6962's split at the largest power of two below the count)
// root         = SHA-256("arbor:receipts:v1" ‖ u64 count ‖ tree), tree = 32 zero bytes when empty
//
// The count is inside the root, so a path's shape (which levels have a sibling) is fixed by the
// header and the receipt's index: a node cannot pick another count to make a path fit.

import { Writer } from "../common/codec.js";
import { bytesEqual, utf8 } from "../common/bytes.js";
import { ProofError } from "../common/errors.js";
import { sha256 } from "../common/hash.js";
import { MAX_RECEIPT_LEAVES } from "../common/limits.js";
import { RECEIPTS_ROOT_TAG as RECEIPTS_TAG } from "../common/tags.js";

export const RECEIPTS_ROOT_TAG = utf8(RECEIPTS_TAG);
const LEAF = 0x00;
const INNER = 0x01;
const HASH = 32;

export function receiptLeafHash(receipt: Uint8Array): Uint8Array {
  const b = new Uint8Array(1 + receipt.length);
  b[0] = LEAF;
  b.set(receipt, 1);
  return sha256(b);
}

function inner(left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = new Uint8Array(1 + 2 * HASH);
  b[0] = INNER;
  b.set(left, 1);
  b.set(right, 1 + HASH);
  return sha256(b);
}

function sealRoot(count: number, tree: Uint8Array): Uint8Array {
  return sha256(new Writer(64).raw(RECEIPTS_ROOT_TAG).u64(BigInt(count)).raw(tree).finish());
}

/** The tree of one block's receipts: its root, and the inclusion path of any of them. */
export class ReceiptTree {
  /** levels[0] are the leaf hashes; the last level holds the tree's top (absent when empty) */
  private readonly levels: Uint8Array[][];
  readonly root: Uint8Array;

  /** The tree of a block's receipts (their bytes, in block order). */
  static of(receipts: readonly Uint8Array[]): ReceiptTree {
    return new ReceiptTree(receipts.map(receiptLeafHash));
  }

  /** The tree over these leaf hashes (receiptLeafHash of each receipt, in block order). */
  static fromLeafHashes(leafHashes: readonly Uint8Array[]): ReceiptTree {
    return new ReceiptTree(leafHashes);
  }

  private constructor(leafHashes: readonly Uint8Array[]) {
    let level = [...leafHashes];
    this.levels = [level];
    while (level.length > 1) {
      const up: Uint8Array[] = [];
      for (let i = 0; i < level.length; i += 2)
        up.push(i + 1 < level.length ? inner(level[i]!, level[i + 1]!) : level[i]!);
      this.levels.push(up);
      level = up;
    }
    this.root = sealRoot(leafHashes.length, level[0] ?? new Uint8Array(HASH));
  }

  get count(): number {
    return this.levels[0]!.length;
  }

  get leafHashes(): readonly Uint8Array[] {
    return this.levels[0]!;
  }

  /** The sibling hashes from the leaf at `index` up to the top (levels without a sibling skipped). */
  path(index: number): Uint8Array[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.count)
      throw new RangeError(`no receipt at index ${index} of ${this.count}`);
    const out: Uint8Array[] = [];
    let i = index;
    for (let l = 0; l < this.levels.length - 1; l++) {
      const level = this.levels[l]!;
      const sibling = i ^ 1;
      if (sibling < level.length) out.push(level[sibling]!);
      i >>= 1;
    }
    return out;
  }
}

/** The receipt root of a block's receipts, in order. */
export function receiptsRoot(receipts: readonly Uint8Array[]): Uint8Array {
  return ReceiptTree.of(receipts).root;
}

/** How many sibling hashes the path of the leaf at `index` has in a tree of `count` leaves. */
export function receiptPathLength(index: number, count: number): number {
  let n = 0;
  for (let i = index, len = count; len > 1; i >>= 1, len = (len + 1) >> 1) if ((i ^ 1) < len) n++;
  return n;
}

/**
 * The root that a receipt at `index` of `count`, with this path, belongs to. Throws ProofError on
 * a path of the wrong shape (a count out of bounds, an index outside it, a wrong number or size of
 * hashes): the caller compares the result with a certified header's receipt root.
 */
export function receiptPathRoot(
  receipt: Uint8Array,
  index: number,
  count: number,
  path: readonly Uint8Array[],
): Uint8Array {
  if (!Number.isInteger(count) || count < 1 || count > MAX_RECEIPT_LEAVES)
    throw new ProofError("receipt/bad-path", `receipt count ${count} outside 1..${MAX_RECEIPT_LEAVES}`);
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new ProofError("receipt/bad-path", `receipt index ${index} outside a block of ${count}`);
  if (path.length !== receiptPathLength(index, count))
    throw new ProofError(
      "receipt/bad-path",
      `path of ${path.length} hashes, ${receiptPathLength(index, count)} expected`,
    );
  let h = receiptLeafHash(receipt);
  let k = 0;
  for (let i = index, len = count; len > 1; i >>= 1, len = (len + 1) >> 1) {
    const sibling = i ^ 1;
    if (sibling >= len) continue;
    const s = path[k++]!;
    if (s.length !== HASH) throw new ProofError("receipt/bad-path", "a path hash is not 32 bytes");
    h = i & 1 ? inner(s, h) : inner(h, s);
  }
  return sealRoot(count, h);
}

/** Whether a receipt at `index` of `count` with this path is in the block whose receipt root is `root`. */
export function verifyReceiptPath(
  receipt: Uint8Array,
  index: number,
  count: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    return bytesEqual(receiptPathRoot(receipt, index, count, path), root);
  } catch (e) {
    if (e instanceof ProofError) return false;
    throw e;
  }
}

/** A receipt and what places it under its block's receipt root (its index is inside the receipt). */
export interface ProvenReceipt {
  readonly receipt: Uint8Array;
  /** receipts in its block */
  readonly count: number;
  /** sibling hashes from the leaf up, as ReceiptTree.path gives them */
  readonly path: readonly Uint8Array[];
}
