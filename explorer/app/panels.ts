// The explorer's panels: the chain and its validators, the latest blocks (with their receipt counts),
// one block (with its receipts, receipt-panels.ts); a key and a listing are in key-panels.ts. Each
// shows only what trust.ts verified, with its mark; a failed check replaces the panel's content
// with the red failure.
import { toHex, type CertifiedHeader } from "../../client/portable.js";
import type { Verifier } from "./trust.js";
import { el, fill, searchLink, shortHex, table, verifiedMark } from "./view.js";
import { receiptCells, showBlockReceipts } from "./receipt-panels.js";

/** Heights back from the newest that the latest blocks list covers (not every height has a header). */
export const SHOWN_BLOCKS = 10;

export { searchLink } from "./view.js";

export function showChain(v: Verifier, chain: string, nodeId: number): void {
  const rows = v.genesis.nodes.map((n) => [
    String(n.id) + (n.id === nodeId ? " (reading)" : ""),
    n.address,
    shortHex(n.publicKey),
    n.prefixes.join(" ") || "(all)",
  ]);
  fill(
    "chain",
    el(
      "p",
      {},
      `chain ${chain} · “${v.genesis.name}” · ${v.genesis.nodes.length} validators · every record on ${v.genesis.replication}`,
    ),
    table(["node", "address", "public key", "prefixes"], rows),
  );
}

/**
 * The latest blocks up to `top`, each header verified by the light client and its receipts counted
 * from the whole list checked against that header (a failed list turns its cells red).
 */
export async function showBlocks(v: Verifier, top: CertifiedHeader): Promise<void> {
  const headers = await v.recent(top.header.height, SHOWN_BLOCKS);
  const counts = await Promise.all(headers.map((c) => receiptCells(v, c.header.height)));
  const rows = headers.map((c, i) => {
    const h = c.header.height;
    return [
      searchLink(String(h)),
      String(c.header.timestamp),
      String(c.signatures.length),
      ...counts[i]!,
      shortHex(c.header.root),
      shortHex(c.header.receiptsRoot),
      verifiedMark(h),
    ];
  });
  const head = ["height", "timestamp", "signers", "requests", "accepted", "rejected"];
  fill("blocks", table([...head, "state root", "receipts root", ""], rows));
}

export async function showBlock(v: Verifier, height: bigint): Promise<void> {
  const c = await v.light.header(height);
  const h = c.header;
  const rows: [string, string][] = [
    ["height", String(h.height)],
    ["timestamp", String(h.timestamp)],
    ["state root", toHex(h.root)],
    ["receipts root", toHex(h.receiptsRoot)],
    ["index root", toHex(h.indexRoot)],
    ["previous header", toHex(h.previous)],
    ["signed by", c.signatures.map((s) => `node ${s.signer}`).join(", ")],
  ];
  fill(
    "result",
    el("h2", {}, `block ${height} `, verifiedMark(height)),
    table(["field", "value"], rows),
    el("section", { id: "receipts" }, "receipts: checking…"),
  );
  await showBlockReceipts(v, height);
}
