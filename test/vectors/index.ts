// The ordered-index and key-history vector (docs/vectors/index.json, docs/protocol.md §15): a
// small index built from two blocks of writes — every entry with its encoding and node hash, the
// root, listing pages with their proofs, a key's entry proof and a key never written, a key's
// history with every head, a history page — and mutations the verifiers refuse, with their codes.
import { toHex, utf8 } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";
import { recordWrites, type IndexedChange } from "../../node/ledger/key-index.js";
import {
  entryRange,
  listingRange,
  proveRange,
  verifyRange,
  type SortRange,
} from "../../node/store/core/index-proof.js";
import { verifyHistoryPage, type HistoryCursor } from "../../node/store/core/key-history.js";
import {
  decodeEntry,
  nodeEntry,
  nodeEntryBytes,
  hashOf,
  OrderedIndex,
  type IndexNode,
} from "../../node/store/core/ordered-index.js";
import { proofHidingKey } from "../../node/byzantine.js";
import { codeOf, flip, keyOf } from "./common.js";

const SIGNER = keyOf("alice").publicKey;

function build(): { index: OrderedIndex; changes: IndexedChange[] } {
  const index = new OrderedIndex();
  const changes: IndexedChange[] = [];
  const blocks: { key: string; value: Uint8Array | null }[][] = [
    [
      { key: "bank/a", value: utf8("100") },
      { key: "bank/b", value: utf8("50") },
      { key: "bank/c", value: utf8("7") },
      { key: "shop/x", value: utf8("open") },
      { key: "é/1", value: utf8("accent") },
    ],
    [
      { key: "bank/a", value: utf8("90") },
      { key: "bank/b", value: utf8("60") },
    ],
    [
      { key: "bank/a", value: null },
      { key: "bank/d", value: utf8("1") },
    ],
  ];
  blocks.forEach((writes, i) =>
    changes.push(
      ...recordWrites(index, writes, {
        height: BigInt(i + 1),
        index: 0,
        requestId: sha256(utf8(`vector request ${i + 1}`)),
        signer: SIGNER,
      }),
    ),
  );
  return { index, changes };
}

/** The treap in pre-order: each node's key, priority, entry encoding and hash. */
function nodes(n: IndexNode | null, out: Record<string, string>[] = []): Record<string, string>[] {
  if (!n) return out;
  out.push({
    key: nodeEntry(n).key,
    priority: toHex(sha256(utf8(nodeEntry(n).key))),
    entry: toHex(nodeEntryBytes(n)),
    hash: toHex(hashOf(n)),
  });
  nodes(n.left, out);
  nodes(n.right, out);
  return out;
}

function rangeJson(r: SortRange): { start: string; end: string | null } {
  const hex = (s: string) => toHex(Uint8Array.from(s, (c) => c.charCodeAt(0)));
  return { start: hex(r.start), end: r.end === null ? null : hex(r.end) };
}

/** `ok` (with the keys), or the code the listing check refuses a page with. */
export function judgeListing(
  proof: Uint8Array,
  root: Uint8Array,
  r: SortRange,
  limit: number,
  done: boolean,
): string {
  try {
    return `ok: ${verifyRange(proof, root, r, limit, done)
      .map((e) => e.key)
      .join(",")}`;
  } catch (e) {
    return codeOf(e);
  }
}

/** `ok` (with the change count), or the code the history check refuses a page with. */
export function judgeHistory(
  from: HistoryCursor,
  changes: Uint8Array[],
  headBefore: Uint8Array,
  limit: number,
): string {
  try {
    return `ok: ${verifyHistoryPage(from, changes, headBefore, limit).changes.length}`;
  } catch (e) {
    return codeOf(e);
  }
}

export function indexVector(): Record<string, unknown> {
  const { index, changes } = build();
  const root = index.rootHash();
  const pages = [
    { prefix: "bank/", after: null, limit: 2 },
    { prefix: "bank/", after: "bank/b", limit: 2 },
    { prefix: "", after: null, limit: 10 },
  ].map((q) => {
    const range = listingRange(q.prefix, q.after);
    const page = proveRange(index, range, q.limit);
    return {
      ...q,
      range: rangeJson(range),
      done: page.done,
      keys: page.entries.map((e) => e.key),
      proof: toHex(page.proof),
    };
  });
  const first = listingRange("bank/", null);
  const honest = proveRange(index, first, 2);
  const listingMutations: Array<[string, Uint8Array, boolean, string]> = [
    ["bank/b hidden behind its subtree's hash", proofHidingKey(index, first, 2, "bank/b"), false, ""],
    ["a byte of an entry flipped", flip(honest.proof, 20), false, ""],
    ["claimed to be the last page", honest.proof, true, ""],
  ];
  const a = changes.filter((c) => c.key === "bank/a");
  const newest = a[a.length - 1]!;
  const newestEntry = decodeEntry(newest.entry);
  const cursor = { number: newestEntry.changes, head: newestEntry.head };
  const page = a
    .slice(1)
    .reverse()
    .map((c) => c.change);
  const headBefore = a[1]!.headBefore;
  return {
    comment:
      "The ordered index (docs/protocol.md §15) after three blocks of writes by 'alice': its nodes in pre-order (key, priority = SHA-256(key), entry encoding, node hash), its root, listing pages with their proofs, the entry proofs of a key and of a key never written, the history of bank/a with every head, a history page of two changes, and mutations (listing mutations are of the first page: prefix 'bank/', no cursor, limit 2, checked against `root`; history mutations with their pages, checked from the page's cursor and limit in the order of docs/protocol.md §15) with the code they are refused with. Ranges are hex of the sort keys (UTF-8 bytes).",
    signer: toHex(SIGNER),
    nodes: nodes(index.root),
    root: toHex(root),
    pages,
    entryProofs: ["shop/x", "nope"].map((key) => {
      const r = entryRange(key);
      return { key, range: rangeJson(r), proof: toHex(proveRange(index, r, 1).proof) };
    }),
    listingMutations: listingMutations.map(([what, proof, done]) => ({
      what,
      proof: toHex(proof),
      done,
      refusedWith: judgeListing(proof, root, first, 2, done),
    })),
    history: {
      key: "bank/a",
      changes: a.map((c) => ({
        number: c.number.toString(),
        change: toHex(c.change),
        headBefore: toHex(c.headBefore),
        headAfter: toHex(decodeEntry(c.entry).head),
      })),
      page: {
        from: { number: cursor.number.toString(), head: toHex(cursor.head) },
        limit: 2,
        changes: page.map(toHex),
        headBefore: toHex(headBefore),
      },
      mutations: [
        ["the older change dropped", [page[0]!], headBefore],
        ["the two changes swapped", [page[1]!, page[0]!], headBefore],
        ["the head before altered", page, flip(headBefore, 0)],
      ].map(([what, cs, hb]) => ({
        what,
        // The mutated page itself, checked from the same cursor with the same limit.
        changes: (cs as Uint8Array[]).map(toHex),
        headBefore: toHex(hb as Uint8Array),
        refusedWith: judgeHistory(cursor, cs as Uint8Array[], hb as Uint8Array, 2),
      })),
    },
  };
}
