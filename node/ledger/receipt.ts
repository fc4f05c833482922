// Receipts: what every correct node concludes about one request in one block, encoded canonically
// so that equal conclusions are equal bytes. A block header commits to the block's receipts through
// their Merkle root (receipts-root.ts); a node's signature over one receipt is an optional early
// answer (a client trusts f+1 equal signed receipts before the header is certified).

import { Reader, Writer } from "../common/codec.js";
import { concatBytes, fromUtf8, utf8 } from "../common/bytes.js";
import { DecodeError } from "../common/errors.js";
import { RECEIPT_TAG } from "../common/tags.js";
import { MAX_RECEIPT_MESSAGE_BYTES } from "../common/limits.js";
import type { ReceiptReason } from "./reasons.js";

export const RECEIPT_SIGNING_TAG = utf8(RECEIPT_TAG);
const ACCEPTED = 0;
const REJECTED = 1;

interface ReceiptBase {
  readonly requestId: Uint8Array;
  readonly height: bigint;
  /** position of the request in its block */
  readonly index: number;
  readonly gasUsed: bigint;
}

export interface AcceptedReceipt extends ReceiptBase {
  readonly status: "accepted";
  /** the logical timestamp the operation created */
  readonly timestamp: bigint;
  /** SHA-256 of the canonical list of writes (key, set value or remove) */
  readonly writesDigest: Uint8Array;
}

export interface RejectedReceipt extends ReceiptBase {
  readonly status: "rejected";
  readonly reason: ReceiptReason;
  readonly message: string;
}

export type Receipt = AcceptedReceipt | RejectedReceipt;

export function encodeWrites(writes: readonly { key: string; value: Uint8Array | null }[]): Uint8Array {
  const w = new Writer(64).varint(writes.length);
  for (const x of writes) {
    w.string(x.key);
    if (x.value === null) w.u8(0);
    else w.u8(1).bytes(x.value);
  }
  return w.finish();
}

export function encodeReceipt(r: Receipt): Uint8Array {
  const w = new Writer(128).raw(r.requestId).u64(r.height).varint(r.index).varint64(r.gasUsed);
  if (r.status === "accepted") w.u8(ACCEPTED).varint64(r.timestamp).raw(r.writesDigest);
  else w.u8(REJECTED).string(r.reason).string(r.message);
  return w.finish();
}

export function decodeReceipt(b: Uint8Array): Receipt {
  const r = new Reader(b);
  const requestId = r.copy(32, "request id");
  const height = r.u64();
  const index = r.varint(1 << 24, "index");
  const gasUsed = r.varint64("gas used");
  const status = r.u8();
  if (status !== ACCEPTED && status !== REJECTED)
    throw new DecodeError("decode/non-canonical", `receipt status ${status} (0 accepted, 1 rejected)`);
  let out: Receipt;
  if (status === ACCEPTED) {
    const timestamp = r.varint64("timestamp");
    out = { status: "accepted", requestId, height, index, gasUsed, timestamp, writesDigest: r.copy(32) };
  } else {
    const reason = r.string(64, "reason") as ReceiptReason;
    const message = r.string(MAX_RECEIPT_MESSAGE_BYTES, "message");
    out = { status: "rejected", requestId, height, index, gasUsed, reason, message };
  }
  r.end("receipt");
  return out;
}

const ELLIPSIS = "…";

/**
 * A rejected receipt's message as the receipt holds it: at most MAX_RECEIPT_MESSAGE_BYTES of UTF-8,
 * a longer one cut on a character boundary and ended with "…". Every node cuts alike (it is part of
 * the receipt, and so of the block's receipt root).
 */
export function boundReceiptMessage(message: string): string {
  const b = utf8(message);
  if (b.length <= MAX_RECEIPT_MESSAGE_BYTES) return message;
  let end = MAX_RECEIPT_MESSAGE_BYTES - utf8(ELLIPSIS).length;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return fromUtf8(b.subarray(0, end)) + ELLIPSIS;
}

export function receiptSigningMessage(receipt: Uint8Array): Uint8Array {
  return concatBytes(RECEIPT_SIGNING_TAG, receipt);
}
