// Turning what a node persisted back into what a restarted core needs (Restored). Both the LevelDB
// shell and the simulator's disk read their raw records and hand them here, so how many ledger
// blocks a restart needs, and how the records decode, are decided in one place.

import {
  TOB_DEDUP_WINDOW,
  TOB_DELIVER_WINDOW,
  TOB_MAX_BLOCK_REQUESTS,
  TOB_RETAINED_BLOCKS,
} from "../../common/limits.js";
import type { Restored } from "./core.js";
import { bytesEqual, bytesToLatin1 } from "../../common/bytes.js";
import { DIGEST_BYTES } from "./committed-chain.js";
import { blockDigests } from "./pool.js";
import { decodeEpochState, decodeSafety, encodeSafety } from "./state.js";
import { decodeBlock } from "./wire.js";

/**
 * Delivered blocks a restart reads back (the newest ones): enough to serve catch-up and to rebuild
 * the duplicate filter and the undelivered window.
 */
export const RESTORE_LEDGER_BLOCKS = Math.max(TOB_RETAINED_BLOCKS, TOB_DEDUP_WINDOW + TOB_DELIVER_WINDOW);
/**
 * Pruning never deletes the newest this many delivered blocks, nor their delivered digests: with
 * them a restarted core rebuilds the duplicate filter of the last TOB_DEDUP_WINDOW heights and
 * chooses leaders as its peers do.
 */
export const PRUNE_KEEP_BLOCKS = TOB_DEDUP_WINDOW + TOB_DELIVER_WINDOW;

/** A node's persisted consensus records, as stored (canonical encodings). */
export interface StoredRecords {
  readonly safety: Uint8Array | undefined;
  readonly epoch: Uint8Array | undefined;
  /** The newest delivered blocks, ascending by height (at most RESTORE_LEDGER_BLOCKS of them). */
  readonly ledger: readonly Uint8Array[];
  /** Stored uncommitted blocks, any order. */
  readonly tree: readonly Uint8Array[];
  /** Highest height the application has durably applied. */
  readonly appliedHeight: number;
  /** The digests each delivered block of the window let through (PersistBatch.fresh), by height. */
  readonly fresh?: ReadonlyArray<{ readonly height: number; readonly digests: Uint8Array }>;
}

/** A block's delivered digests as stored (32 bytes each) back to the filter's strings; RangeError if malformed. */
export function decodeFresh(bytes: Uint8Array): string[] {
  if (bytes.length % DIGEST_BYTES !== 0 || bytes.length / DIGEST_BYTES > TOB_MAX_BLOCK_REQUESTS)
    throw new RangeError("a block's delivered digests are not whole 32-byte digests within the block bound");
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += DIGEST_BYTES)
    out.push(bytesToLatin1(bytes.subarray(i, i + DIGEST_BYTES)));
  return out;
}

/** What a restarted core is given; undefined when nothing was persisted yet (first boot). */
export function restoredFrom(s: StoredRecords): Restored | undefined {
  if (s.safety === undefined || s.epoch === undefined) return undefined;
  return {
    safety: decodeSafety(s.safety),
    epoch: decodeEpochState(s.epoch),
    ledger: s.ledger.map(decodeBlock),
    appliedHeight: s.appliedHeight,
    tree: s.tree.map(decodeBlock),
    fresh: new Map((s.fresh ?? []).map((f) => [f.height, decodeFresh(f.digests)])),
  };
}

/** What a node starting from a snapshot writes into its empty consensus database. */
export interface SnapshotConsensus {
  readonly epoch: Uint8Array;
  readonly safety: Uint8Array;
  readonly blocks: ReadonlyArray<{
    readonly height: number;
    readonly id: Uint8Array;
    readonly bytes: Uint8Array;
  }>;
  readonly fresh: ReadonlyArray<{ readonly height: number; readonly digests: Uint8Array }>;
}

/**
 * The consensus position a snapshot of height `height` carries (an epoch state, the newest
 * delivered blocks, ascending, and the digests every block of the duplicate window delivered,
 * `fresh`, ascending by height), checked: the blocks one chain by hash links ending at `height` in
 * that epoch; a digest list for every height of the window (from max(1, height − TOB_DEDUP_WINDOW
 * + 1)), each well formed, and for a height whose block is carried the digests of requests of that
 * block. With a fresh safety state: no vote at or below the last block's round, and as the highest
 * certificate one for the last block without votes. That block is committed, so the certificate
 * states what is true; it is trusted only locally (a peer refuses a certificate without votes): the
 * node's first timeouts or proposal may be refused until it sees the chain's next certificate, which
 * catching up brings at once. Throws RangeError on anything else.
 */
export function snapshotConsensus(
  height: number,
  epoch: Uint8Array,
  encoded: readonly Uint8Array[],
  fresh: ReadonlyArray<{ readonly height: number; readonly digests: Uint8Array }>,
): SnapshotConsensus {
  const es = decodeEpochState(epoch);
  const blocks = encoded.map((bytes) => ({ bytes, block: decodeBlock(bytes) }));
  const last = blocks[blocks.length - 1]?.block;
  if (!last || last.height !== height) throw new RangeError(`the blocks do not end at height ${height}`);
  if (last.epoch !== es.epoch || last.height <= es.genesisHeight)
    throw new RangeError("the last block is not of the epoch state's epoch");
  for (let i = 1; i < blocks.length; i++) {
    const b = blocks[i]!.block;
    const p = blocks[i - 1]!.block;
    if (b.height !== p.height + 1 || !bytesEqual(b.parentId, p.id))
      throw new RangeError(`the blocks are not one chain at height ${b.height}`);
  }
  const from = Math.max(1, height - TOB_DEDUP_WINDOW + 1);
  if (fresh.length !== height - from + 1 || fresh.some((f, i) => f.height !== from + i))
    throw new RangeError(`the delivered digests do not cover heights ${from}..${height}`);
  const carried = new Map(blocks.map((x) => [x.block.height, new Set(blockDigests(x.block))]));
  for (const f of fresh) {
    const digests = decodeFresh(f.digests);
    const inBlock = carried.get(f.height);
    if (inBlock && digests.some((d) => !inBlock.has(d)))
      throw new RangeError(`height ${f.height}'s delivered digests are not of its block's requests`);
  }
  const highQC = { epoch: es.epoch, round: last.round, blockId: last.id, votes: [] };
  const safety = encodeSafety({ epoch: es.epoch, lastVotedRound: last.round, highQC, highTC: null });
  return {
    epoch,
    safety,
    blocks: blocks.map((x) => ({ height: x.block.height, id: x.block.id, bytes: x.bytes })),
    fresh,
  };
}

/**
 * A node re-synced from a snapshot after falling behind keeps the rounds it voted in: `safety`
 * (a snapshot position's fresh safety state) with its last voted round raised to that of `before`
 * (the node's safety state before it wiped its databases) when both are of one epoch. Without it
 * a node that signed a vote or timeout in a round above the snapshot block's could sign again in
 * that round. A `before` that does not decode leaves `safety` as it is.
 */
export function raiseVotedRound(safety: Uint8Array, before: Uint8Array | undefined): Uint8Array {
  if (before === undefined) return safety;
  const s = decodeSafety(safety);
  let old;
  try {
    old = decodeSafety(before);
  } catch {
    return safety;
  }
  if (old.epoch !== s.epoch || old.lastVotedRound <= s.lastVotedRound) return safety;
  return encodeSafety({ ...s, lastVotedRound: old.lastVotedRound });
}
