// Checks one node's list of a block's receipts (GetBlockReceipts) against the certified header of
// that height: the receipt root recomputed from the whole list must equal the header's, so a node
// that leaves a receipt out, alters one, adds one or reorders them is caught. Each receipt must also
// claim the block's height and its own position. Portable: no gRPC, no node:* module.

import { bytesEqual } from "../node/common/bytes.js";
import { ArborError } from "../node/common/errors.js";
import { MAX_RECEIPT_LEAVES } from "../node/common/limits.js";
import type { Header } from "../node/ledger/header.js";
import { decodeReceipt, type Receipt } from "../node/ledger/receipt.js";
import { receiptsRoot } from "../node/ledger/receipts-root.js";
import { VerificationError } from "./errors.js";

const CODE = "client/bad-block-receipts";

/**
 * The block's receipts, decoded, once `receipts` (as one node sent them) hash to the receipt root
 * of `header` (whose certificate the caller verified). Throws VerificationError otherwise.
 */
export function verifyBlockReceipts(
  header: Header,
  receipts: readonly Uint8Array[],
  node?: number,
): Receipt[] {
  if (receipts.length > MAX_RECEIPT_LEAVES)
    throw new VerificationError(CODE, `${receipts.length} receipts: more than a block holds`, node);
  if (!bytesEqual(receiptsRoot(receipts), header.receiptsRoot))
    throw new VerificationError(
      CODE,
      `the ${receipts.length} receipts do not hash to the certified receipt root at height ${header.height}`,
      node,
    );
  return receipts.map((b, i) => {
    let r: Receipt;
    try {
      r = decodeReceipt(b);
    } catch (e) {
      if (!(e instanceof ArborError)) throw e;
      throw new VerificationError(CODE, `receipt ${i}: ${e.message}`, node);
    }
    if (r.height !== header.height || r.index !== i)
      throw new VerificationError(CODE, `receipt ${i} claims height ${r.height}, index ${r.index}`, node);
    return r;
  });
}
