// Stable reason codes of a rejected request, as receipts carry them. Every correct node reaches
// the same code for the same request at the same position (docs/protocol.md §6).

import type { RejectReason } from "../exec/core/abi.js";
import type { Incompatibility } from "../store/core/compat.js";

export type RequestReason =
  /** the bytes are not a well-formed signed request within bounds */
  | "malformed-request"
  /** the Ed25519 signature does not verify against the caller key */
  | "bad-signature"
  /** a request with the same id was applied before (ids are kept until their validUntil) */
  | "replay"
  /** the block's height is past the request's validUntil: it can never apply */
  | "expired"
  /** the request's validUntil lies MAX_REQUEST_LIFETIME_BLOCKS or more past the block */
  | "bad-lifetime"
  /** the proof does not decode or verify */
  | "bad-proof"
  /** the proof shows no record for the operation, or a record that holds no module the code book has */
  | "op-missing"
  /** the weights of the block's requests that ran before it, with its own, exceed BLOCK_GAS_BUDGET */
  | "block-gas-full"
  /** the modules the operation wrote would take the code book past MAX_CODE_BOOK_BYTES */
  | "code-book-full"
  /** a touched record is present in the proof only as a hash: the operation needs its value */
  | "value-not-in-proof"
  /** a complaint whose evidence proves nothing (or complaints are not accepted by this chain) */
  | "bad-evidence"
  /** a complaint against a node already evicted */
  | "already-evicted"
  /** a proven complaint the membership cannot act on now (last validator, too many changes pending) */
  | "eviction-refused"
  /** a membership change without the approvals the governance rule asks for */
  | "member-unauthorised"
  /** an added node's record is not valid (address, prefixes) or a member record does not decode */
  | "member-invalid"
  /** the added node's id or key was a member's already */
  | "member-exists"
  /** the node to remove is not a current member */
  | "member-unknown"
  /** a repair with no evicted node's record left to reassign */
  | "nothing-to-repair"
  /** a valid change the membership cannot take now (another in this block, last validator, too many pending) */
  | "member-refused";

export type ReceiptReason = RequestReason | Incompatibility | RejectReason;
