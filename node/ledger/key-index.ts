// The ledger's ordered index of keys and their histories (node/store/core/ordered-index.ts,
// key-history.ts): every write of every accepted request, in order, becomes one change of its key.
// Every node applies every write, so the index and its root are the same on every node whatever its
// partition; the header commits to the root. Genesis records are each key's first change, at
// height 0, in ascending key order.

import { compareUtf8 } from "../common/bytes.js";
import { invariant } from "../common/errors.js";
import type { Write } from "../common/record-write.js";
import { valueHash } from "../store/core/label.js";
import {
  EMPTY_HISTORY_HEAD,
  encodeChange,
  nextHead,
  genesisChange,
  type KeyChange,
} from "../store/core/key-history.js";
import {
  decodeEntry,
  encodeEntryAt,
  OrderedIndex,
  sortKey,
  type IndexEntry,
} from "../store/core/ordered-index.js";

/** One change as a node stores it: enough to serve the key's history page by page. */
export interface IndexedChange {
  readonly key: string;
  /** 1-based position in the key's history */
  readonly number: bigint;
  /** the key's history head before this change */
  readonly headBefore: Uint8Array;
  /** the encoded change (key-history.ts) */
  readonly change: Uint8Array;
  /** the value it set (null: removed); a node keeps it only for keys of its partition */
  readonly value: Uint8Array | null;
  /** the key's entry after it, encoded (ordered-index.ts `encodeEntry`) */
  readonly entry: Uint8Array;
}

/** Who made a block's changes: the request's height, position, id and signer. */
export interface ChangeSource {
  readonly height: bigint;
  readonly index: number;
  readonly requestId: Uint8Array;
  readonly signer: Uint8Array;
}

/** Records `writes` (one request's, in order) in `index`; returns the changes made. */
export function recordWrites(
  index: OrderedIndex,
  writes: readonly Write[],
  src: ChangeSource,
): IndexedChange[] {
  const out: IndexedChange[] = [];
  for (const w of writes) {
    const change: KeyChange = { ...src, valueHash: w.value ? valueHash(w.value) : null };
    out.push(recordChange(index, w.key, change, w.value));
  }
  return out;
}

function recordChange(
  index: OrderedIndex,
  key: string,
  change: KeyChange,
  value: Uint8Array | null,
): IndexedChange {
  const sk = sortKey(key);
  const before = index.tail(key, sk);
  invariant(before === undefined || before.height <= change.height, "changes come in height order");
  const encoded = encodeChange(change);
  const headBefore = before?.head ?? EMPTY_HISTORY_HEAD;
  const number = (before?.changes ?? 0n) + 1n;
  const entry = encodeEntryAt(sk, change.valueHash, number, change.height, nextHead(headBefore, encoded));
  index.putEncoded(key, entry, sk);
  return { key, number, headBefore, change: encoded, value, entry };
}

/** The genesis records' changes, one per key, in ascending key order (the genesis index). */
export function genesisChanges(records: ReadonlyArray<{ key: string; value: Uint8Array }>): IndexedChange[] {
  const index = new OrderedIndex();
  const sorted = [...records].sort((a, b) => compareUtf8(a.key, b.key));
  return sorted.map((r, i) => recordChange(index, r.key, genesisChange(i, valueHash(r.value)), r.value));
}

/** The index's entries at height 0: what the genesis records' changes give. */
export function genesisEntries(records: ReadonlyArray<{ key: string; value: Uint8Array }>): IndexEntry[] {
  return genesisChanges(records).map((c) => decodeEntry(c.entry));
}
