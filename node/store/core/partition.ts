// A partition: the key-hash prefixes a node stores in full. Every tree position is either inside
// the partition (under one of its prefixes), an ancestor of part of it, or outside it; only
// positions outside may ever be stubbed.

import { LimitError } from "../../common/errors.js";
import { MAX_PARTITION_PREFIXES, MAX_PREFIX_BITS } from "../../common/limits.js";
import { prefixOf, samePrefix, setBit } from "./path.js";

export const enum Place {
  Inside = 0,
  Ancestor = 1,
  Outside = 2,
}

export interface Prefix {
  /** 32 bytes, bits past `bits` are zero */
  readonly path: Uint8Array;
  readonly bits: number;
}

/** Parses "0110" style bit strings ("" is the whole tree). */
export function parsePrefix(s: string): Prefix {
  if (!/^[01]*$/.test(s)) throw new LimitError("partition/bad-prefix", `prefix "${s}" is not a bit string`);
  if (s.length > MAX_PREFIX_BITS)
    throw new LimitError(
      "partition/prefix-too-long",
      `prefix of ${s.length} bits exceeds ${MAX_PREFIX_BITS}`,
    );
  const path = new Uint8Array(32);
  for (let i = 0; i < s.length; i++) setBit(path, i, s[i] === "1" ? 1 : 0);
  return { path, bits: s.length };
}

export function formatPrefix(p: Prefix): string {
  let s = "";
  for (let i = 0; i < p.bits; i++) s += (p.path[i >> 3]! >> (7 - (i & 7))) & 1;
  return s;
}

export class Partition {
  readonly prefixes: readonly Prefix[];
  /** true when one prefix is empty: every key is inside */
  readonly isWhole: boolean;

  constructor(prefixes: readonly (Prefix | string)[]) {
    if (prefixes.length > MAX_PARTITION_PREFIXES)
      throw new LimitError(
        "partition/too-many",
        `${prefixes.length} prefixes exceed ${MAX_PARTITION_PREFIXES}`,
      );
    this.prefixes = prefixes.map((p) =>
      typeof p === "string" ? parsePrefix(p) : { path: prefixOf(p.path, p.bits), bits: p.bits },
    );
    this.isWhole = this.prefixes.some((p) => p.bits === 0);
  }

  static whole(): Partition {
    return new Partition([""]);
  }

  /** Where the tree position (first `depth` bits of `path`) stands relative to this partition. */
  place(path: Uint8Array, depth: number): Place {
    let ancestor = false;
    for (const p of this.prefixes) {
      if (p.bits <= depth) {
        if (samePrefix(p.path, path, p.bits)) return Place.Inside;
      } else if (samePrefix(p.path, path, depth)) ancestor = true;
    }
    return ancestor ? Place.Ancestor : Place.Outside;
  }

  /** True when the key with this path is stored in full by the partition. */
  holdsKey(path: Uint8Array): boolean {
    return this.place(path, 256) === Place.Inside;
  }

  /** True when prefix `q` lies inside this partition (under one of its prefixes). */
  covers(q: Prefix): boolean {
    return this.prefixes.some((p) => p.bits <= q.bits && samePrefix(p.path, q.path, p.bits));
  }

  /**
   * This partition grown by `more` (taking on prefixes): every prefix of either, less those inside
   * another, in bit-string order. Never smaller than this one.
   */
  widen(more: readonly (Prefix | string)[]): Partition {
    const all = [...this.prefixes, ...more.map((p) => (typeof p === "string" ? parsePrefix(p) : p))];
    const kept = all.filter(
      (q, i) =>
        !all.some(
          (p, j) =>
            j !== i && p.bits <= q.bits && samePrefix(p.path, q.path, p.bits) && (p.bits < q.bits || j < i),
        ),
    );
    return new Partition(kept.map(formatPrefix).sort());
  }

  toStrings(): string[] {
    return this.prefixes.map(formatPrefix);
  }
}
