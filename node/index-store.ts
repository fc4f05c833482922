// The ordered index and key histories on disk (node/ledger/key-index.ts). Every change a block made
// is written in that block's batch, so after a crash the index is exactly that of the last
// committed block. Genesis changes are not stored: they come from the genesis document at start.
//
// Application keys (under the store's application prefix):
//   'e' ‖ utf8(key)                      → the key's index entry (the newest)
//   'b' ‖ u64 height                     → the block's changes: varint n ‖ n × (string key ‖
//                                          varint number), in order (written for every block
//                                          with a header, so the change feed can serve it)
//   'p'                                  → u64: the height through which superseded values
//                                          have been dropped (pruneValues)
//   'k' ‖ u16 key length ‖ utf8(key) ‖ u64 number
//                                        → 32-byte head before ‖ bytes change ‖ u8 kept
//                                          ‖ [bytes value: the value set, until pruneValues]
//                                          written only when this node's partition holds the
//                                          key: a key's history is kept by its holders, as its
//                                          value is, so the store shrinks with the partition
//   'q' ‖ u64 height ‖ (a 'k' key)       → empty: a value back-filled for a change superseded at
//                                          `height`, a height whose change list this node lacks
//                                          (it was synced after it): pruneValues drops it by this
//                                          record once `height` leaves the retention window

import { Reader, Writer } from "./common/codec.js";
import { utf8 } from "./common/bytes.js";
import {
  MAX_CHANGE_FEED_BYTES,
  MAX_HISTORY_PAGE_BYTES,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
} from "./common/limits.js";
import { ArborError } from "./common/errors.js";
import { genesisChanges, type IndexedChange } from "./ledger/key-index.js";
import { OrderedIndex } from "./store/core/ordered-index.js";
import type { AppRecord, LevelStore } from "./store/level-store.js";

const K_ENTRY = 0x65; // 'e'
const K_CHANGE = 0x6b; // 'k'
const K_BLOCK = 0x62; // 'b'
const K_PRUNED = 0x70; // 'p'
const K_LATE = 0x71; // 'q'
/** Back-filled values (K_LATE) looked at per pruning pass. */
const LATE_PER_PASS = 4096;
/**
 * Index record kinds a snapshot carries (node/snapshot/): the entries, which every node holds alike
 * and needs to apply the next block. Key changes and per-block change lists are the past: a node
 * synced at h has them from h + 1 on.
 */
export const INDEX_COMMON_KINDS: readonly number[] = [K_ENTRY];

/** Blocks whose superseded values one pruning pass drops (it runs after each commit). */
export const PRUNE_BLOCKS_PER_PASS = 64;
const MAX_CHANGE_BYTES = 128;
/** A feed change this node does not keep (a change is never empty). */
const NOT_KEPT = new Uint8Array(0);

function changePrefix(key: string): Writer {
  const k = utf8(key);
  return new Writer(11 + k.length)
    .u8(K_CHANGE)
    .u8(k.length >> 8)
    .u8(k.length & 0xff)
    .raw(k);
}

function changeKey(key: string, number: bigint): Uint8Array {
  return changePrefix(key).u64(number).finish();
}

function lateFloor(height: bigint): Uint8Array {
  return new Writer(9).u8(K_LATE).u64(height).finish();
}

/**
 * The record that has pruneValues drop the value kept with change `number` of `key` once
 * `supersededAt` (the height of the key's next change) leaves the retention window: for a value a
 * node back-fills (node/history-backfill.ts) at a height it has no change list for.
 */
export function lateValueRecord(supersededAt: bigint, key: string, number: bigint): AppRecord {
  const change = changeKey(key, number);
  return {
    key: new Writer(9 + change.length).u8(K_LATE).u64(supersededAt).raw(change).finish(),
    value: new Uint8Array(0),
  };
}

function blockKey(height: bigint): Uint8Array {
  return new Writer(9).u8(K_BLOCK).u64(height).finish();
}

/**
 * The records that store block `height`'s changes; `holds` says which keys' histories (changes
 * and values) this node keeps. Every node writes the block's change list and the new entries.
 */
export function indexRecords(
  height: bigint,
  changes: readonly IndexedChange[],
  holds: (key: string) => boolean,
): AppRecord[] {
  const list = new Writer(16 + changes.length * 24).varint(changes.length);
  for (const c of changes) list.string(c.key).varint64(c.number);
  const out: AppRecord[] = [{ key: blockKey(height), value: list.finish() }];
  // Built in arrays of the exact size, the key's UTF-8 bytes taken from the encoded entry (which
  // begins with them): a block writes two records per change.
  for (const c of changes) {
    const k = entryKeyBytes(c.entry);
    const entryRecordKey = new Uint8Array(1 + k.length);
    entryRecordKey[0] = K_ENTRY;
    entryRecordKey.set(k, 1);
    out.push({ key: entryRecordKey, value: c.entry });
    if (!holds(c.key)) continue;
    const changeRecordKey = new Uint8Array(11 + k.length);
    changeRecordKey[0] = K_CHANGE;
    changeRecordKey[1] = k.length >> 8;
    changeRecordKey[2] = k.length & 0xff;
    changeRecordKey.set(k, 3);
    new DataView(changeRecordKey.buffer).setBigUint64(3 + k.length, c.number);
    const kept = c.value;
    const size = 32 + varintSize(c.change.length) + c.change.length + 1;
    const value = new Uint8Array(size + (kept ? varintSize(kept.length) + kept.length : 0));
    value.set(c.headBefore, 0);
    let at = putVarint(value, 32, c.change.length);
    value.set(c.change, at);
    at += c.change.length;
    value[at++] = kept ? 1 : 0;
    if (kept) value.set(kept, putVarint(value, at, kept.length));
    out.push({ key: changeRecordKey, value });
  }
  return out;
}

function varintSize(v: number): number {
  let n = 1;
  for (; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

function putVarint(out: Uint8Array, at: number, v: number): number {
  for (; v >= 0x80; v = Math.floor(v / 0x80)) out[at++] = (v % 0x80) | 0x80;
  out[at++] = v;
  return at;
}

/** The key's UTF-8 bytes at the start of an encoded entry (`varint length ‖ key ‖ …`). */
function entryKeyBytes(entry: Uint8Array): Uint8Array {
  let len = 0;
  let at = 0;
  for (let shift = 1; ; shift *= 0x80) {
    const b = entry[at++]!;
    len += (b & 0x7f) * shift;
    if (b < 0x80) break;
  }
  return entry.subarray(at, at + len);
}

/**
 * The index a node starts with: the genesis entries, then the stored ones (which replace them),
 * built at once from their encodings.
 */
export async function loadIndex(
  store: LevelStore,
  genesis: ReadonlyArray<{ key: string; value: Uint8Array }>,
): Promise<OrderedIndex> {
  const items = genesisChanges(genesis).map((c) => ({ key: c.key, encoded: c.entry }));
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (const r of await store.appRange(Uint8Array.of(K_ENTRY), Uint8Array.of(K_ENTRY + 1)))
    items.push({ key: decoder.decode(r.key.subarray(1)), encoded: r.value });
  return OrderedIndex.ofEncoded(items);
}

/** One stored change as a history page gives it. */
export interface StoredChange {
  readonly change: Uint8Array;
  /** the value it set, when this node keeps it */
  readonly value: Uint8Array | null;
}

/** Reads key histories: stored changes, and the genesis changes from the genesis document. */
export class HistoryReader {
  private readonly genesis: Map<string, IndexedChange>;

  constructor(
    private readonly store: LevelStore,
    genesis: ReadonlyArray<{ key: string; value: Uint8Array }>,
  ) {
    this.genesis = new Map(genesisChanges(genesis).map((c) => [c.key, c]));
  }

  /**
   * The changes `number` down to `number - limit + 1` (at least 1), newest first, and the head
   * before the oldest of them. `unsaved`: changes of a block whose batch is still being written.
   * The caller checks `number` against the key's entry.
   */
  async page(
    key: string,
    number: bigint,
    limit: number,
    unsaved: readonly IndexedChange[] = [],
    maxBytes = MAX_HISTORY_PAGE_BYTES,
  ): Promise<{ changes: StoredChange[]; headBefore: Uint8Array }> {
    const oldest = number - BigInt(limit) + 1n > 1n ? number - BigInt(limit) + 1n : 1n;
    const found = new Map<bigint, StoredChange & { headBefore: Uint8Array }>();
    const g = this.genesis.get(key);
    if (oldest === 1n && g) found.set(1n, { headBefore: g.headBefore, change: g.change, value: g.value });
    // Exact keys, read together: far cheaper than an iterator for the few changes a page holds.
    const numbers: bigint[] = [];
    for (let n = number; n >= oldest; n--) if (!(n === 1n && g)) numbers.push(n);
    const rows = await this.store.appGetMany(numbers.map((n) => changeKey(key, n)));
    rows.forEach((v, i) => {
      if (v) found.set(numbers[i]!, decodeStored(v));
    });
    for (const c of unsaved)
      if (c.key === key && c.number >= oldest && c.number <= number)
        found.set(c.number, { headBefore: c.headBefore, change: c.change, value: c.value });
    const changes: StoredChange[] = [];
    // Values while they fit MAX_HISTORY_PAGE_BYTES, newest first: a page of 1,000 changes of 1 MiB
    // values would not fit one reply. A value left out is checked by its hash like any other.
    let bytes = 0;
    for (let n = number; n >= oldest; n--) {
      const c = found.get(n);
      if (!c) throw new ArborError("history/unavailable", `change ${n} of ${key} is not stored on this node`);
      bytes += c.change.length;
      const fits = c.value !== null && bytes + c.value.length <= maxBytes;
      if (fits) bytes += c.value!.length;
      changes.push({ change: c.change, value: fits ? c.value : null });
    }
    return { changes, headBefore: found.get(oldest)!.headBefore };
  }
}

/** One change as the change feed gives it: `change` is empty when this node does not keep it. */
export interface FeedChange extends StoredChange {
  readonly key: string;
  readonly number: bigint;
}

/** Bytes a fed change costs a reply besides its key, change and value (framing, its number). */
const FEED_CHANGE_OVERHEAD = 32;

/**
 * The changes of the stored blocks from `from` on, block by block, at most `maxBlocks` blocks and
 * (past the first block) `maxChanges` changes and `maxBytes` of changes; values while they fit in
 * `maxBytes` too (the rest come without theirs). Every change of a block is listed; those of keys
 * this node does not hold come without their bytes (a follower gets them from a holder).
 */
export async function readBlockChanges(
  store: LevelStore,
  from: bigint,
  maxBlocks: number,
  maxChanges: number,
  maxBytes = MAX_CHANGE_FEED_BYTES,
): Promise<{ height: bigint; changes: FeedChange[] }[]> {
  const rows = await store.appRange(blockKey(from), Uint8Array.of(K_BLOCK + 1), maxBlocks);
  const out: { height: bigint; changes: FeedChange[] }[] = [];
  let total = 0;
  let bytes = 0;
  for (const row of rows) {
    const r = new Reader(row.value);
    const n = r.varint(Number.MAX_SAFE_INTEGER, "change count");
    if (out.length > 0 && total + n > maxChanges) break;
    const refs: { key: string; number: bigint }[] = [];
    for (let i = 0; i < n; i++)
      refs.push({ key: r.string(MAX_KEY_BYTES, "key"), number: r.varint64("number") });
    r.end("block changes");
    const stored = await store.appGetMany(refs.map((c) => changeKey(c.key, c.number)));
    const changes = refs.map((c, i): FeedChange => {
      const v = stored[i];
      if (!v) return { ...c, change: NOT_KEPT, value: null };
      const { change, value } = decodeStored(v);
      return { ...c, change, value };
    });
    // Bounded in bytes too: the block's changes first (a next block only if they fit), then its
    // values while they fit; a value left out is read by Get or History (its hash is in the change).
    let changeBytes = 0;
    for (const c of changes) changeBytes += FEED_CHANGE_OVERHEAD + c.key.length * 3 + c.change.length;
    if (out.length > 0 && bytes + changeBytes > maxBytes) break;
    bytes += changeBytes;
    const fitting = changes.map((c) => {
      if (c.value === null) return c;
      if (bytes + c.value.length > maxBytes) return { ...c, value: null };
      bytes += c.value.length;
      return c;
    });
    out.push({ height: new Reader(row.key.subarray(1)).u64(), changes: fitting });
    total += n;
  }
  return out;
}

function decodeStored(v: Uint8Array): StoredChange & { headBefore: Uint8Array } {
  const r = new Reader(v);
  const headBefore = r.copy(32, "head before");
  const change = r.bytes(MAX_CHANGE_BYTES, "change");
  const value = r.u8() === 1 ? r.bytes(MAX_VALUE_BYTES, "value") : null;
  r.end("stored change");
  return { headBefore, change, value };
}

/** The lowest change number of `key` this node stores (undefined: none). */
export async function lowestStoredChange(store: LevelStore, key: string): Promise<bigint | undefined> {
  const prefix = changePrefix(key).finish();
  // Every change record of the key is the prefix and 8 bytes: all below prefix ‖ 0xFF × 8 ‖ 0x00.
  const end = new Uint8Array(prefix.length + 9);
  end.set(prefix);
  end.fill(0xff, prefix.length, prefix.length + 8);
  const [first] = await store.appRange(changeKey(key, 0n), end, 1);
  return first ? new Reader(first.key.subarray(prefix.length)).u64() : undefined;
}

/** Whether this node stores each of these changes. */
export async function storesChanges(
  store: LevelStore,
  changes: ReadonlyArray<{ key: string; number: bigint }>,
): Promise<boolean[]> {
  const rows = await store.appGetMany(changes.map((c) => changeKey(c.key, c.number)));
  return rows.map((r) => r !== undefined);
}

/** A stored change of `key` (undefined when this node does not store it). */
export async function storedChange(
  store: LevelStore,
  key: string,
  number: bigint,
): Promise<(StoredChange & { headBefore: Uint8Array }) | undefined> {
  const v = await store.appGet(changeKey(key, number));
  return v === undefined ? undefined : decodeStored(v);
}

/** The record of one change of `key`, as a block's batch writes it for a key the node holds. */
export function changeRecord(
  key: string,
  number: bigint,
  headBefore: Uint8Array,
  change: Uint8Array,
  value: Uint8Array | null,
): AppRecord {
  const w = new Writer(48 + change.length + (value ? value.length + 5 : 0))
    .raw(headBefore)
    .bytes(change)
    .u8(value ? 1 : 0);
  if (value) w.bytes(value);
  return { key: changeKey(key, number), value: w.finish() };
}

/** The height through which superseded values have been dropped (pruneValues). */
export async function valuesPrunedThrough(store: LevelStore): Promise<bigint> {
  const mark = await store.appGet(Uint8Array.of(K_PRUNED));
  return mark ? new Reader(mark).u64() : 0n;
}

/**
 * Drops the values that no height of the retention window needs: when block h ≤ `windowStart`
 * changed a key, the value its previous change set was the key's value only at heights below h,
 * so it goes (the change itself stays: histories are forever). A bounded pass, resumed from the
 * height it reached; a pass lost to a crash is redone.
 */
export async function pruneValues(store: LevelStore, windowStart: bigint): Promise<void> {
  await pruneLateValues(store, windowStart);
  const through = await valuesPrunedThrough(store);
  if (windowStart <= through) return;
  const blocks = await store.appRange(
    blockKey(through + 1n),
    blockKey(windowStart + 1n),
    PRUNE_BLOCKS_PER_PASS,
  );
  if (blocks.length === 0) return;
  const older: Uint8Array[] = [];
  for (const row of blocks) {
    const r = new Reader(row.value);
    const n = r.varint(Number.MAX_SAFE_INTEGER, "change count");
    for (let i = 0; i < n; i++) {
      const key = r.string(MAX_KEY_BYTES, "key");
      const number = r.varint64("number");
      if (number > 1n) older.push(changeKey(key, number - 1n));
    }
  }
  const stored = await store.appGetMany(older);
  const writes: AppRecord[] = [];
  stored.forEach((v, i) => {
    const w = v && withoutValue(v);
    if (w) writes.push({ key: older[i]!, value: w });
  });
  const last = new Reader(blocks[blocks.length - 1]!.key.subarray(1)).u64();
  writes.push({ key: Uint8Array.of(K_PRUNED), value: new Writer(8).u64(last).finish() });
  await store.appWrite(writes);
}

/** Drops back-filled values superseded at or below `windowStart` (their K_LATE records go too). */
async function pruneLateValues(store: LevelStore, windowStart: bigint): Promise<void> {
  const late = await store.appRange(lateFloor(0n), lateFloor(windowStart + 1n), LATE_PER_PASS);
  if (late.length === 0) return;
  const changes = late.map((row) => row.key.subarray(9));
  const stored = await store.appGetMany(changes);
  const writes: AppRecord[] = late.map((row) => ({ key: row.key, value: null }));
  stored.forEach((v, i) => {
    const w = v && withoutValue(v);
    if (w) writes.push({ key: changes[i]!, value: w });
  });
  await store.appWrite(writes);
}

/** A stored change with its value dropped, or null when it keeps none. */
function withoutValue(stored: Uint8Array): Uint8Array | null {
  const c = decodeStored(stored);
  if (c.value === null) return null;
  return new Writer(48 + c.change.length).raw(c.headBefore).bytes(c.change).u8(0).finish();
}
