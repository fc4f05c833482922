// Turning what a node persisted back into what a restarted core needs (Restored). Both the LevelDB
// shell and the simulator's disk read their raw records and hand them here, so how many ledger
// blocks a restart needs, and how the records decode, are decided in one place.

import { TOB_DEDUP_WINDOW, TOB_DELIVER_WINDOW, TOB_RETAINED_BLOCKS } from "../../common/limits.js";
import type { Restored } from "./core.js";
import { decodeEpochState, decodeSafety } from "./state.js";
import { decodeBlock } from "./wire.js";

/**
 * Delivered blocks a restart reads back (the newest ones): enough to serve catch-up and to rebuild
 * the duplicate filter and the undelivered window.
 */
export const RESTORE_LEDGER_BLOCKS = Math.max(TOB_RETAINED_BLOCKS, TOB_DEDUP_WINDOW + TOB_DELIVER_WINDOW);

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
  };
}
