// Pure checks of one node's receipt answer (docs/protocol.md §6, "How a client trusts a receipt").
// A receipt is trusted from a single node when its inclusion path leads to the receipt root of the
// certified header of its height. Only receipts that are the request's one outcome are trusted that
// way: a block may also hold refusals of a copy of the request that the broadcast ordered again
// (a replay, an expiry after the request was applied, a lifetime too long for that block), which
// are in the receipt root too but say nothing final; those need f+1 equal signed receipts (nodes
// keep only the first receipt that counts, receipt-store.ts).

import { bytesEqual, toHex } from "../node/common/bytes.js";
import { ArborError } from "../node/common/errors.js";
import type { Header } from "../node/ledger/header.js";
import { decodeReceipt, type Receipt } from "../node/ledger/receipt.js";
import { receiptPathRoot } from "../node/ledger/receipts-root.js";
import { VerificationError } from "./errors.js";

/** One node's answer to a receipt query, as it came. */
export interface ReceiptAnswer {
  readonly receipt: Uint8Array;
  readonly node: number;
  readonly signature: Uint8Array;
  readonly leafCount: number;
  readonly path: readonly Uint8Array[];
}

/** A receipt answer that decoded, is for the request asked about, and whose path has a root. */
export interface OpenedReceipt {
  readonly receipt: Receipt;
  readonly bytes: Uint8Array;
  /** the receipt root its path leads to: trusted once equal to a certified header's */
  readonly root: Uint8Array;
}

/** Refusals of one copy of a request that another copy may outlive: never its outcome alone. */
const COPY_REFUSALS: ReadonlySet<string> = new Set(["replay", "expired", "bad-lifetime"]);

/**
 * Whether a receipt proven to be in a certified block is the request's outcome: a verdict, or a
 * refusal that the request's bytes alone decide (malformed, bad signature). Exactly once makes a
 * verdict unique to its request id.
 */
export function outcomeByPath(r: Receipt): boolean {
  return r.status === "accepted" || !COPY_REFUSALS.has(r.reason);
}

/**
 * Decodes a node's answer for request `id` and recomputes the root its path leads to. Throws
 * VerificationError (client/bad-receipt) on bytes that do not decode, a receipt for another
 * request, or a path of the wrong shape.
 */
export function openReceipt(id: Uint8Array, a: ReceiptAnswer): OpenedReceipt {
  let receipt: Receipt;
  let root: Uint8Array;
  try {
    receipt = decodeReceipt(a.receipt);
    root = receiptPathRoot(a.receipt, receipt.index, a.leafCount, a.path);
  } catch (e) {
    if (!(e instanceof ArborError)) throw e;
    throw new VerificationError("client/bad-receipt", `node ${a.node}: ${e.message}`, a.node);
  }
  if (!bytesEqual(receipt.requestId, id))
    throw new VerificationError(
      "client/bad-receipt",
      `node ${a.node} sent a receipt for request ${toHex(receipt.requestId).slice(0, 16)}…, not ${toHex(id).slice(0, 16)}…`,
      a.node,
    );
  return { receipt, bytes: a.receipt, root };
}

/**
 * Checks an opened receipt against the certified header of its height (the caller verified the
 * certificate). Throws VerificationError (client/bad-receipt-path) when its path does not lead to
 * that header's receipt root.
 */
export function checkAgainstHeader(o: OpenedReceipt, header: Header, node: number): void {
  if (header.height !== o.receipt.height || !bytesEqual(header.receiptsRoot, o.root))
    throw new VerificationError(
      "client/bad-receipt-path",
      `node ${node} sent a receipt whose path does not lead to the certified receipt root at height ${o.receipt.height}`,
      node,
    );
}
