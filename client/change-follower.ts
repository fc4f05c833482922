// Following the chain's key changes with nothing taken on trust (docs/protocol.md §15, "The change
// feed"): a follower holds its own copy of the ordered index, starting from the genesis index,
// replays each block's changes from a node's feed on it, and keeps the block only when the root it
// computes is the certified header's index root. A feed that leaves a change out, adds one, alters
// one or skips a block with changes ends in a root mismatch, and the block is undone. Values come
// separately and are checked against the value hash their change commits to.

import { bytesEqual, toHex } from "../node/common/bytes.js";
import { decodeChange, changedEntry, type KeyChange } from "../node/store/core/key-history.js";
import { OrderedIndex, type IndexEntry } from "../node/store/core/ordered-index.js";
import { valueHash } from "../node/store/core/label.js";
import { VerificationError } from "./errors.js";

/** One change of a block, as a feed gives it. */
export interface FedChange {
  readonly key: string;
  readonly number: bigint;
  readonly change: Uint8Array;
  readonly value?: Uint8Array | undefined;
}

/** A change the follower verified: its key's entry after it, and its value when one came with it. */
export interface VerifiedChange {
  readonly key: string;
  readonly number: bigint;
  readonly change: KeyChange;
  readonly entry: IndexEntry;
  /** the value, when the feed gave one (checked) */
  readonly value?: Uint8Array;
}

export class ChangeFollower {
  readonly index: OrderedIndex;

  /** `entries`: the index the follower has reached (the genesis entries for a new follower). */
  constructor(
    entries: Iterable<IndexEntry>,
    /** the last height applied (0: only the genesis) */
    public height: bigint,
  ) {
    this.index = OrderedIndex.of(entries);
  }

  /**
   * Replays block `height`'s changes and checks the result against `indexRoot`, the block's
   * certified index root. On a mismatch the block is undone and VerificationError thrown.
   */
  apply(height: bigint, changes: readonly FedChange[], indexRoot: Uint8Array): VerifiedChange[] {
    if (height <= this.height)
      throw new VerificationError("follow/out-of-order", `block ${height} is not after ${this.height}`);
    const undo = new Map<string, IndexEntry | undefined>();
    const out: VerifiedChange[] = [];
    try {
      for (const c of changes) out.push(this.replay(height, c, undo));
      const root = this.index.rootHash();
      if (!bytesEqual(root, indexRoot))
        throw new VerificationError(
          "follow/root-mismatch",
          `block ${height}'s changes give index root ${toHex(root)}, the certified one is ${toHex(indexRoot)}`,
        );
    } catch (e) {
      for (const [key, before] of undo) before ? this.index.put(before) : this.index.remove(key);
      throw e instanceof VerificationError ? e : new VerificationError("follow/bad-change", String(e));
    }
    this.height = height;
    return out;
  }

  private replay(height: bigint, c: FedChange, undo: Map<string, IndexEntry | undefined>): VerifiedChange {
    const change = decodeChange(c.change);
    const before = this.index.get(c.key);
    if (!undo.has(c.key)) undo.set(c.key, before);
    if (change.height !== height || c.number !== (before?.changes ?? 0n) + 1n)
      throw new VerificationError(
        "follow/bad-change",
        `change ${c.number} of ${c.key} does not follow its history`,
      );
    const entry = changedEntry(c.key, before, change, c.change);
    this.index.put(entry);
    const base = { key: c.key, number: c.number, change, entry };
    if (c.value === undefined) return base;
    if (!change.valueHash || !bytesEqual(valueHash(c.value), change.valueHash))
      throw new VerificationError(
        "follow/bad-value",
        `the value given for change ${c.number} of ${c.key} is not the one it set`,
      );
    return { ...base, value: c.value };
  }
}
