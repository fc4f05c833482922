// Which store records a snapshot carries, and how they are framed. The common part is what every
// node holds alike at a height whatever its partition and needs to apply the next block: history
// entries, extras (decided ids, validator schedule, membership), the code book and the ordered
// index's entries. It leaves out what is per node (the meta record, which names the partition; the
// tree's chunk records, which form the tree part) and the record of the past, which no block's
// verdict or root depends on: receipts, own headers, key changes and the change feed's per-block
// lists (most of a store's bytes). A node synced from a snapshot at h keeps those from h on, as if
// it had pruned everything before, and sends a client asking for older ones to another node.
//
// Framing, for both parts: each record is varint key length ‖ key ‖ varint value length ‖ value,
// the keys being the store database's own (docs/protocol.md §17).

import { Reader, Writer } from "../common/codec.js";
import { DecodeError } from "../common/errors.js";
import { SNAPSHOT_MAX_RECORD_BYTES } from "../common/limits.js";
import { APP_RECORD_PREFIX, type RawRecord } from "../store/level-store.js";
import { INDEX_COMMON_KINDS } from "../index-store.js";
import { CODE_BOOK_KINDS } from "../code-book-store.js";

/** The application record kinds the common part carries, ascending. */
export const COMMON_APP_KINDS: readonly number[] = [...INDEX_COMMON_KINDS, ...CODE_BOOK_KINDS].sort(
  (a, b) => a - b,
);

/**
 * The common part ends with the consensus records a node needs to start its consensus at the
 * snapshot's height (keys beginning with 0, which no store key does): the epoch state, then the
 * newest SNAPSHOT_CONSENSUS_BLOCKS delivered blocks, ascending, then the digests each of the last
 * TOB_DEDUP_WINDOW delivered blocks let through, ascending by height. They are the same on every
 * correct node.
 */
export const CONSENSUS_RECORD_PREFIX = 0x00;
const CONSENSUS_EPOCH = 0x65; // 'e'
const CONSENSUS_BLOCK = 0x62; // 'b'
const CONSENSUS_FRESH = 0x66; // 'f'

export function consensusEpochRecord(epochState: Uint8Array): RawRecord {
  return { key: Uint8Array.of(CONSENSUS_RECORD_PREFIX, CONSENSUS_EPOCH), value: epochState };
}

export function consensusBlockRecord(height: number, block: Uint8Array): RawRecord {
  return {
    key: new Writer(10).u8(CONSENSUS_RECORD_PREFIX).u8(CONSENSUS_BLOCK).u64(BigInt(height)).finish(),
    value: block,
  };
}

/** The digests the delivered block at `height` let through (32 bytes each, in block order). */
export function consensusFreshRecord(height: number, digests: Uint8Array): RawRecord {
  return {
    key: new Writer(10).u8(CONSENSUS_RECORD_PREFIX).u8(CONSENSUS_FRESH).u64(BigInt(height)).finish(),
    value: digests,
  };
}

/** A common part's consensus position, its records in the order they came. */
export interface ConsensusPosition {
  readonly epoch: Uint8Array;
  readonly blocks: Uint8Array[];
  readonly fresh: Array<{ height: number; digests: Uint8Array }>;
}

/** The consensus records of a common part (throws snapshot/bad-consensus if malformed). */
export function consensusRecords(records: Iterable<RawRecord>): ConsensusPosition {
  let epoch: Uint8Array | null = null;
  const blocks: Uint8Array[] = [];
  const fresh: Array<{ height: number; digests: Uint8Array }> = [];
  for (const r of records) {
    if (r.key[0] !== CONSENSUS_RECORD_PREFIX) continue;
    if (r.key.length === 2 && r.key[1] === CONSENSUS_EPOCH && epoch === null) epoch = r.value;
    else if (r.key.length === 10 && r.key[1] === CONSENSUS_BLOCK) blocks.push(r.value);
    else if (r.key.length === 10 && r.key[1] === CONSENSUS_FRESH)
      fresh.push({ height: Number(new Reader(r.key.subarray(2)).u64()), digests: r.value });
    else throw new DecodeError("snapshot/bad-consensus", "an unknown consensus record");
  }
  if (epoch === null || blocks.length === 0)
    throw new DecodeError("snapshot/bad-consensus", "the common part has no consensus position");
  return { epoch, blocks, fresh };
}

/** Whether the common part carries a store record of the application prefix. */
export function carriedInCommon(key: Uint8Array): boolean {
  return key[0] === APP_RECORD_PREFIX && COMMON_APP_KINDS.includes(key[1]!);
}

/** Appends one framed record. */
export function frameRecord(w: Writer, r: RawRecord): void {
  w.bytes(r.key).bytes(r.value);
}

/**
 * Reads framed records from `buf` (a whole part, or a run of whole records); throws DecodeError
 * snapshot/bad-record on a malformed or truncated one.
 */
export function* readRecords(buf: Uint8Array): Generator<RawRecord> {
  const r = new Reader(buf);
  while (r.remaining > 0) {
    try {
      const key = r.view(SNAPSHOT_MAX_RECORD_BYTES, "record key");
      const value = r.view(SNAPSHOT_MAX_RECORD_BYTES, "record value");
      yield { key, value };
    } catch (e) {
      throw new DecodeError("snapshot/bad-record", `a snapshot record: ${(e as Error).message}`);
    }
  }
}
