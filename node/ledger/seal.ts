// Seals an applied block: the header a node signs for it, computed from the block's outcome, the
// previous header's hash and the validator sets alone, so every honest node seals the same bytes.
// The caller seals only blocks with requests: an empty block changes nothing a header commits to
// but the height (docs/protocol.md §7).

import { validatorsHash, type Header, type Validator } from "./header.js";
import type { BlockOutcome } from "./ledger.js";

/** A validator-set change a block decided: the new set takes effect at `fromHeight`. */
export interface SealedChange {
  readonly fromHeight: bigint;
  readonly validators: readonly Validator[];
}

export interface SealInput {
  readonly chain: Uint8Array;
  readonly outcome: BlockOutcome;
  /** the hash of the node's previous header (32 zero bytes before the first) */
  readonly previous: Uint8Array;
  /** the validators at the block's height */
  readonly validators: readonly Validator[];
  readonly change: SealedChange | null;
}

export function sealHeader(s: SealInput): Header {
  const out = s.outcome;
  if (s.previous.length !== 32) throw new RangeError("the previous header hash must be 32 bytes");
  if (s.change && s.change.fromHeight <= out.height)
    throw new RangeError("a validator change takes effect after the block that decides it");
  return {
    chain: s.chain,
    height: out.height,
    timestamp: BigInt(out.timestamp),
    root: out.root,
    receiptsRoot: out.receiptTree.root,
    indexRoot: out.indexRoot,
    validatorsHash: validatorsHash(s.validators),
    previous: s.previous,
    nextValidatorsHash: s.change ? validatorsHash(s.change.validators) : new Uint8Array(32),
    nextFromHeight: s.change ? s.change.fromHeight : 0n,
  };
}
