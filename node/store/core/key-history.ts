// A key's history as a hash chain: every change of a key (set or removed, by which request, signed
// by whom, in which block) extends the chain `head' = SHA-256(tag ‖ head ‖ change)`, from 32 zero
// bytes. The ordered index holds each key's head and change count, and the header commits to the
// index, so a certified header commits to every change ever made to every key. A history page is a
// run of consecutive changes, newest first, with the head before its oldest: the client rehashes
// the run forward and must reach the head it trusts. Leaving a change out, reordering or altering
// one breaks the chain (docs/protocol.md §15).

import { bytesEqual, utf8 } from "../../common/bytes.js";
import { Reader, Writer } from "../../common/codec.js";
import { DecodeError, ProofError, expects } from "../../common/errors.js";
import { sha256 } from "../../common/hash.js";
import { KEY_HISTORY_TAG } from "../../common/tags.js";
import type { IndexEntry } from "./ordered-index.js";

const TAG = utf8(KEY_HISTORY_TAG);
/** The head of a key that has had no change. */
export const EMPTY_HISTORY_HEAD = new Uint8Array(32);
const NOBODY = new Uint8Array(32);

/** One change of a key. */
export interface KeyChange {
  /** the block it was made in (0: a genesis record) */
  readonly height: bigint;
  /** the request's position in its block (a genesis record: its position in the genesis) */
  readonly index: number;
  /** the request that made it (32 zero bytes for a genesis record) */
  readonly requestId: Uint8Array;
  /** the public key that signed that request (32 zero bytes for a genesis record) */
  readonly signer: Uint8Array;
  /** SHA-256 of the new value; null when the change removed the key */
  readonly valueHash: Uint8Array | null;
}

/** `u64 height ‖ varint index ‖ 32 request id ‖ 32 signer ‖ u8 live ‖ [32 value hash]` */
export function encodeChange(c: KeyChange): Uint8Array {
  expects(c.requestId.length === 32 && c.signer.length === 32, "a change names a request and a signer");
  const w = new Writer(112)
    .u64(c.height)
    .varint(c.index)
    .raw(c.requestId)
    .raw(c.signer)
    .u8(c.valueHash ? 1 : 0);
  if (c.valueHash) w.raw(c.valueHash);
  return w.finish();
}

export function decodeChange(bytes: Uint8Array): KeyChange {
  const r = new Reader(bytes);
  const height = r.u64();
  const index = r.varint(0xffff_ffff, "request index");
  const requestId = r.copy(32, "request id");
  const signer = r.copy(32, "signer");
  const live = r.u8();
  if (live > 1) throw new DecodeError("history/bad-change", "live flag must be 0 or 1");
  const valueHash = live ? r.copy(32, "value hash") : null;
  r.end("key change");
  return { height, index, requestId, signer, valueHash };
}

/** The head after `change` (its encoding) extends the chain at `head`. */
export function nextHead(head: Uint8Array, change: Uint8Array): Uint8Array {
  const b = new Uint8Array(TAG.length + 32 + change.length);
  b.set(TAG, 0);
  b.set(head, TAG.length);
  b.set(change, TAG.length + 32);
  return sha256(b);
}

/** A genesis record's change: height 0, by nobody. */
export function genesisChange(position: number, valueHash: Uint8Array): KeyChange {
  return { height: 0n, index: position, requestId: NOBODY, signer: NOBODY, valueHash };
}

/** The key's entry after `change`, from its entry before (undefined: a key never written). */
export function changedEntry(
  key: string,
  before: IndexEntry | undefined,
  change: KeyChange,
  encoded: Uint8Array = encodeChange(change),
): IndexEntry {
  expects(before === undefined || before.height <= change.height, "changes come in height order");
  return {
    key,
    valueHash: change.valueHash,
    changes: (before?.changes ?? 0n) + 1n,
    height: change.height,
    head: nextHead(before?.head ?? EMPTY_HISTORY_HEAD, encoded),
  };
}

/** Where a history page starts: the change number of its newest change and the head after it. */
export interface HistoryCursor {
  /** 1-based: the key's first change is 1, its last is the entry's `changes` */
  readonly number: bigint;
  readonly head: Uint8Array;
}

/**
 * Checks a page of changes (encoded, newest first) that should end at `from`, given the head
 * before its oldest change. Returns the changes and the cursor of the page after (null when the
 * page reached the key's first change). Throws ProofError when the chain does not reach the head.
 */
export function verifyHistoryPage(
  from: HistoryCursor,
  changes: readonly Uint8Array[],
  headBefore: Uint8Array,
  limit: number,
): { changes: KeyChange[]; next: HistoryCursor | null } {
  const n = BigInt(changes.length);
  if (changes.length === 0 || changes.length > limit || n > from.number)
    throw new ProofError(
      "history/bad-page",
      `a page of ${changes.length} changes from change ${from.number}`,
    );
  const last = n === from.number;
  if (last && !bytesEqual(headBefore, EMPTY_HISTORY_HEAD))
    throw new ProofError("history/bad-chain", "the key's first change must follow the empty head");
  if (!last && changes.length < limit)
    throw new ProofError("history/short-page", "a page stopped before the first change");
  let h = headBefore;
  for (let i = changes.length - 1; i >= 0; i--) h = nextHead(h, changes[i]!);
  if (!bytesEqual(h, from.head))
    throw new ProofError("history/bad-chain", "the changes do not chain to the certified head");
  const decoded = changes.map(decodeChange);
  for (let i = 1; i < decoded.length; i++)
    if (decoded[i]!.height > decoded[i - 1]!.height)
      throw new ProofError("history/bad-order", "a change is newer than the one after it");
  return { changes: decoded, next: last ? null : { number: from.number - n, head: headBefore } };
}
