// Replication repair: when nodes leave the membership (removed or evicted), the prefixes they held
// go to remaining members until each is again held in full by `k` of them (or by every member, if
// fewer than `k` remain). A pure function of the member records and the leaving ids, so every
// node computes the same new records in the block that decides the change (docs/protocol.md §11).

import { formatPrefix, parsePrefix } from "../store/core/partition.js";
import type { GenesisNode } from "./genesis.js";

/** True when prefix `outer` (bit string) contains prefix `inner`. */
function covers(outer: string, inner: string): boolean {
  return inner.startsWith(outer);
}

/** The share of the key space a member holds (overlapping prefixes counted once). */
function load(prefixes: readonly string[]): number {
  const kept = prefixes.filter((p) => !prefixes.some((q) => q !== p && covers(q, p)));
  return kept.reduce((s, p) => s + 2 ** -p.length, 0);
}

/**
 * The member records after `leaving` go: the records of the others, with the leavers' prefixes
 * dealt to them. Each prefix of a leaver (ascending, as bit strings) goes to the members that do
 * not hold it in full, the least loaded first (ties: the lowest id), until `k` hold it. A member
 * given a prefix drops its own prefixes inside it. Returns the remaining members' records in id
 * order; only the records whose prefixes changed differ from the input.
 */
export function reassignPrefixes(
  records: readonly GenesisNode[],
  leaving: readonly number[],
  k: number,
): GenesisNode[] {
  const gone = new Set(leaving);
  const stay = records
    .filter((r) => !gone.has(r.id))
    .sort((a, b) => a.id - b.id)
    .map((r) => ({ node: r, prefixes: [...r.prefixes] }));
  const lost = [
    ...new Set(records.filter((r) => gone.has(r.id)).flatMap((r) => r.prefixes.map(canonical))),
  ].sort();
  const want = Math.min(k, stay.length);
  for (const p of lost) {
    let holders = stay.filter((m) => m.prefixes.some((q) => covers(q, p))).length;
    while (holders < want) {
      const candidates = stay.filter((m) => !m.prefixes.some((q) => covers(q, p)));
      if (candidates.length === 0) break;
      candidates.sort((a, b) => load(a.prefixes) - load(b.prefixes) || a.node.id - b.node.id);
      const to = candidates[0]!;
      to.prefixes = [...to.prefixes.filter((q) => !covers(p, q)), p].sort();
      holders++;
    }
  }
  return stay.map((m) =>
    sameList(m.prefixes, m.node.prefixes) ? m.node : { ...m.node, prefixes: m.prefixes },
  );
}

function canonical(p: string): string {
  return formatPrefix(parsePrefix(p));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
