// Combining proofs. Two proofs of the same root merge into one that proves every key either
// proves (thesis §3.3). A proof taken up to T operations before the newest one extends it where
// the newest has a stub and the older proof has a node with exactly that label (thesis §3.4,
// Algorithm 1): this is how a client joins answers from several partitions into one proof
// against the newest root.

import { ProofError } from "../../common/errors.js";
import { bytesEqual } from "../../common/bytes.js";
import { bitAt } from "./path.js";
import { labelOf, provenState, type ProofNode } from "./proof.js";

/** Merges two proofs of the same root. Throws ProofError if their roots differ. */
export function mergeProofs(a: ProofNode, b: ProofNode): ProofNode {
  if (!bytesEqual(labelOf(a), labelOf(b)))
    throw new ProofError("proof/root-mismatch", "proofs of different roots");
  return merge(a, b);
}

function merge(a: ProofNode, b: ProofNode): ProofNode {
  if (a.t === "stub") return b;
  if (b.t === "stub") return a;
  if (a.t === "internal" && b.t === "internal") {
    const left = merge(a.left, b.left);
    const right = merge(a.right, b.right);
    return left === a.left && right === a.right ? a : { t: "internal", left, right, label: labelOf(a) };
  }
  // Same label, both expanded: leaves of one record. Keep the one that carries more.
  if (a.t === "leaf" && b.t === "leaf")
    return a.value !== null || b.value === null ? (a.key !== null || b.key === null ? a : b) : b;
  return a;
}

export type ExtendResult =
  { readonly ok: true; readonly proof: ProofNode } | { readonly ok: false; readonly path: Uint8Array };

/**
 * Extends `base` (the newest proof) with what `older` proves about `paths`. For each path: if
 * `base` already proves it, the two must agree on the record; otherwise the first stub on the path
 * in `base` must have a node with exactly its label at the same position in `older`, which then
 * replaces it. Fails (naming the path) when a record changed in between or nothing matches.
 */
export function extendProof(base: ProofNode, older: ProofNode, paths: readonly Uint8Array[]): ExtendResult {
  let out = base;
  for (const path of paths) {
    const theirs = provenState(older, path);
    if (!theirs.covered) return { ok: false, path };
    const ours = provenState(out, path);
    if (ours.covered) {
      const same =
        ours.present === theirs.present &&
        (!ours.present || (theirs.present && bytesEqual(ours.valueHash, theirs.valueHash)));
      if (!same) return { ok: false, path };
      continue;
    }
    const next = graftAt(out, older, path, 0, ours.stubDepth);
    if (next === null) return { ok: false, path };
    out = next;
  }
  return { ok: true, proof: out };
}

function graftAt(
  base: ProofNode,
  older: ProofNode,
  path: Uint8Array,
  depth: number,
  at: number,
): ProofNode | null {
  if (depth === at) {
    if (base.t !== "stub" || older.t === "stub" || !bytesEqual(labelOf(older), base.label)) return null;
    return older;
  }
  if (base.t !== "internal" || older.t !== "internal") return null;
  const b = bitAt(path, depth);
  const child = graftAt(b ? base.right : base.left, b ? older.right : older.left, path, depth + 1, at);
  if (child === null) return null;
  return b
    ? { t: "internal", left: base.left, right: child, label: labelOf(base) }
    : { t: "internal", left: child, right: base.right, label: labelOf(base) };
}
