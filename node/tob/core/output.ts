// What one step() hands back, shaped so the order "persist, then send, then deliver" cannot be got
// wrong: the persist batch is a field, while sends and deliveries are only reachable through
// persisted(), which the shell calls once the batch is durable (fsync'd). A shell that crashes in
// between simply never sends — exactly the behaviour the safety argument assumes.

import { InvariantError } from "../../common/errors.js";
import type { Delivery } from "./committed-chain.js";
import type { EpochState, SafetyState } from "./state.js";
import type { Block } from "./types.js";
import type { PeerId } from "./validators.js";

/** Everything to make durable, in one atomic write, before any send leaves the node. */
export interface PersistBatch {
  /** Replaces the stored safety state. */
  readonly safety: SafetyState | null;
  /** Replaces the stored epoch state. */
  readonly epoch: EpochState | null;
  /** Appended to the ledger, ascending heights, contiguous with what is stored. */
  readonly blocks: readonly Block[];
  /**
   * For each block of `blocks`, the digests of the requests it delivered (the duplicate filter let
   * them through), 32 bytes each in block order: a restart rebuilds the filter from these exactly,
   * where replaying stored blocks could not know what came before the oldest.
   */
  readonly fresh: readonly Uint8Array[];
  /**
   * Uncommitted blocks to store (keyed by id). A node persists every block before voting for it,
   * so a certified block survives even if every correct node that voted for it crashes.
   */
  readonly tree: readonly Block[];
  /** Stored uncommitted blocks at or below this height may be deleted (they are in the ledger now). */
  readonly treeFloor: number | null;
}

/** One encoded message for a list of peers (a broadcast names every other validator). */
export interface Send {
  readonly to: readonly PeerId[];
  readonly bytes: Uint8Array;
  readonly kind: string;
}

/** Two conflicting statements signed by the same validator (for the trust issue's COMPLAIN). */
export interface Equivocation {
  readonly kind: "double-vote" | "double-proposal";
  readonly epoch: number;
  readonly round: number;
  readonly signer: PeerId;
  /** The two conflicting signed messages, canonical-encoded. */
  readonly first: Uint8Array;
  readonly second: Uint8Array;
}

/** An input that was dropped, with a stable reason code. */
export interface Rejected {
  readonly from: PeerId | null;
  readonly code: string;
  readonly message: string;
}

/** Released after the persist batch is durable: 2. sends, then 3. deliveries, in this order. */
export interface Effects {
  readonly sends: readonly Send[];
  readonly deliveries: readonly Delivery[];
  readonly evidence: readonly Equivocation[];
}

export interface Step {
  /** 1. Write this durably first (null: nothing to write). */
  readonly persist: PersistBatch | null;
  /** Diagnostics; needs no ordering. */
  readonly rejected: readonly Rejected[];
  /** Call once `persist` is durable; returns what may now leave the node. Callable once. */
  persisted(): Effects;
}

export function makeStep(
  persist: PersistBatch | null,
  rejected: readonly Rejected[],
  effects: Effects,
  onRelease: () => void,
): Step {
  let released = false;
  return {
    persist,
    rejected,
    persisted(): Effects {
      if (released) throw new InvariantError("step effects released twice");
      released = true;
      onRelease();
      return effects;
    },
  };
}
