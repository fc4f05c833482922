// The explorer's receipt and domain panels: a block's receipts (counts and the list), one request's
// receipt by id, the domains. Each shows only what receipt-trust.ts or domains.ts verified, with its
// mark; a failed check replaces the panel (or the cell) with the red failure.
import { toHex, type Receipt } from "../../client/portable.js";
import { blockReceipts, receiptById, type VerifiedBlockReceipts } from "./receipt-trust.js";
import { DOMAIN_SCAN_KEYS, scanDomains } from "./domains.js";
import type { Verifier } from "./trust.js";
import { el, failureMark, fill, searchLink, shortHex, table, verifiedMark } from "./view.js";

/** The cells of a block's row: requests, accepted, rejected (each a span the test can find). */
export async function receiptCells(v: Verifier, height: bigint): Promise<(Node | string)[]> {
  try {
    const r = await blockReceipts(v, height);
    return [
      el("span", { class: "requests" }, String(r.receipts.length)),
      el("span", { class: "accepted" }, String(r.accepted)),
      el("span", { class: "rejected" }, String(r.rejected)),
    ];
  } catch (e) {
    return [el("span", { class: "receipts-failed" }, failureMark(e)), "", ""];
  }
}

function reasonOf(r: Receipt): string {
  return r.status === "rejected" ? `${r.reason}${r.message ? `: ${r.message}` : ""}` : "";
}

function receiptRows(r: VerifiedBlockReceipts): (Node | string)[][] {
  return r.receipts.map((x) => [
    String(x.index),
    searchLink(toHex(x.requestId), shortHex(x.requestId)),
    x.status,
    reasonOf(x),
    String(x.gasUsed),
  ]);
}

/** The receipts section of a block's view (#receipts), checked whole against its certified header. */
export async function showBlockReceipts(v: Verifier, height: bigint): Promise<void> {
  try {
    const r = await blockReceipts(v, height);
    fill(
      "receipts",
      el(
        "h3",
        {},
        `${r.receipts.length} request${r.receipts.length === 1 ? "" : "s"}: ${r.accepted} accepted, ${r.rejected} rejected `,
        verifiedMark(r.height),
      ),
      table(["index", "request", "status", "reason", "gas"], receiptRows(r)),
    );
  } catch (e) {
    fill("receipts", failureMark(e));
  }
}

/** A request's receipt by its id (64 hex digits), checked by its inclusion path. */
export async function showReceipt(v: Verifier, idHex: string): Promise<void> {
  const { receipt: r, outcome } = await receiptById(v, idHex);
  const rows: [string, Node | string][] = [
    ["request", toHex(r.requestId)],
    ["block", searchLink(String(r.height))],
    ["index in block", String(r.index)],
    ["status", r.status],
    ["gas used", String(r.gasUsed)],
  ];
  if (r.status === "rejected") rows.push(["reason", reasonOf(r)]);
  else rows.push(["timestamp", String(r.timestamp)], ["writes digest", toHex(r.writesDigest)]);
  fill(
    "result",
    el(
      "section",
      { id: "receipt" },
      el("h2", {}, `receipt of request ${shortHex(r.requestId)} `, verifiedMark(r.height)),
      table(["field", "value"], rows),
      outcome ? "" : el("p", {}, "a refusal of a re-ordered copy of the request: not its outcome"),
    ),
  );
}

/** The domains found in the first DOMAIN_SCAN_KEYS keys of the index, each a link to its keys. */
export async function showDomains(v: Verifier): Promise<void> {
  const s = await scanDomains(v);
  const [low, high] = s.heights;
  const rows = s.domains.map((d) => [searchLink(`${d}/`, d)]);
  fill(
    "result",
    el(
      "section",
      { id: "domains" },
      el("h2", {}, `${s.domains.length} domains `, verifiedMark(high)),
      low === high ? "" : el("p", {}, `listing pages verified against certified headers ${low} to ${high}`),
      s.complete
        ? el("p", {}, `all ${s.scanned} keys of the index scanned`)
        : el("p", {}, `stopped after ${DOMAIN_SCAN_KEYS} keys of the index: more domains may follow`),
      table(["domain"], rows),
    ),
  );
}
