// Where a stopped node's store database puts its bytes: the live entries of its LevelDB (key and
// value lengths, before LevelDB's compression and without superseded entries not yet compacted),
// summed by what the key prefix says they are (node/store/level-store.ts, node/index-store.ts,
// node/receipt-store.ts, node/code-book-store.ts).
import { Level } from "level";

const TOP: Record<string, string> = {
  c: "tree chunks",
  t: "tree (old layout)",
  h: "tree history",
  x: "store extra",
  m: "store meta",
};
/** Application records ('a' ‖ owner byte ‖ …). */
const APP: Record<string, string> = {
  e: "index entries",
  k: "index key changes",
  b: "index block change lists",
  p: "index meta",
  r: "receipts",
  i: "receipts",
  H: "receipts",
  L: "receipts",
  B: "receipts",
  c: "code book",
  o: "code book",
};

/** Logical bytes (key + value) of every live entry of the LevelDB at `dir`, by kind. */
export async function storeBreakdown(dir: string): Promise<Record<string, number>> {
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await db.open({ createIfMissing: false });
  const out: Record<string, number> = {};
  try {
    for await (const [k, v] of db.iterator()) {
      const top = String.fromCharCode(k[0] ?? 0);
      const kind =
        top === "a" ? (APP[String.fromCharCode(k[1] ?? 0)] ?? "other application") : (TOP[top] ?? "other");
      out[kind] = (out[kind] ?? 0) + k.length + v.length;
    }
  } finally {
    await db.close();
  }
  return out;
}
