// Receipts, verified in the browser: a block's whole receipt list (GetBlockReceipts) hashed into
// the receipt root of the block's certified header, and one request's receipt (WaitReceipt) by its
// inclusion path to the certified header of its height. A failed check throws; nothing unchecked
// is returned.
import {
  checkAgainstHeader,
  fromHex,
  openReceipt,
  outcomeByPath,
  verifyBlockReceipts,
  type Receipt,
} from "../../client/portable.js";
import type { Verifier } from "./trust.js";

/** How long the node may wait for a receipt it does not have yet (a search, not a submission). */
export const RECEIPT_WAIT_MS = 1_500;
/** Verified receipt lists kept per node (the latest blocks list asks for the same heights again). */
export const BLOCK_RECEIPTS_CACHE = 64;

export interface VerifiedBlockReceipts {
  /** the certified header the list was checked against */
  readonly height: bigint;
  readonly receipts: readonly Receipt[];
  readonly accepted: number;
  readonly rejected: number;
}

export interface VerifiedReceipt {
  readonly receipt: Receipt;
  /** false: a refusal of a copy of the request (replay, expiry, lifetime), not its outcome */
  readonly outcome: boolean;
}

const caches = new WeakMap<Verifier, Map<bigint, VerifiedBlockReceipts>>();

/** Every receipt of the block at `height`, checked whole against its certified receipt root. */
export async function blockReceipts(v: Verifier, height: bigint): Promise<VerifiedBlockReceipts> {
  let cache = caches.get(v);
  if (!cache) caches.set(v, (cache = new Map()));
  const hit = cache.get(height);
  if (hit) return hit;
  const header = (await v.light.header(height)).header;
  const r = await v.rpc.getBlockReceipts({ height });
  const receipts = verifyBlockReceipts(header, r.receipts);
  const accepted = receipts.filter((x) => x.status === "accepted").length;
  const out = { height, receipts, accepted, rejected: receipts.length - accepted };
  cache.set(height, out);
  if (cache.size > BLOCK_RECEIPTS_CACHE) cache.delete(cache.keys().next().value!);
  return out;
}

/** The node's receipt for request `idHex` (64 hex digits), checked by its inclusion path. */
export async function receiptById(v: Verifier, idHex: string): Promise<VerifiedReceipt> {
  const id = fromHex(idHex.toLowerCase());
  const a = await v.rpc.waitReceipt({ requestId: id, timeoutMs: RECEIPT_WAIT_MS });
  const opened = openReceipt(id, a);
  const header = (await v.light.header(opened.receipt.height)).header;
  checkAgainstHeader(opened, header, a.node);
  return { receipt: opened.receipt, outcome: outcomeByPath(opened.receipt) };
}
