// Combining proofs. Two proofs of the same root merge into one that proves every key either
// proves (thesis §3.3). A proof taken up to T operations before the newest one extends it where
// the newest has a stub and the older proof has a node with exactly that label (thesis §3.4,
// Algorithm 1): this is how a client joins answers from several partitions into one proof
// against the newest root. Either way a join keeps every value either side proves: where one side
// shows a record only as a leaf summary or a hash (leaves beside an EXECUTE proof's paths, a
// hashes-only GET) and the other carries its value, the value is kept once it hashes to what the
// first side commits to.

import { ArborError, ProofError } from "../../common/errors.js";
import { bytesEqual } from "../../common/bytes.js";
import { valueHash } from "./label.js";
import { bitAt, keyPath } from "./path.js";
import { labelOf, provenState, terminalOf, type ProofLeaf, type ProofNode } from "./proof.js";

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
  if (a.t === "leaf" && b.t === "leaf") {
    const kept = richerLeaf(a, b);
    if (kept === null)
      throw new ProofError("proof/value-mismatch", "a leaf's key or value does not match its hashes");
    return kept;
  }
  return a;
}

function carries(n: ProofLeaf): number {
  return n.value !== null ? 2 : n.key !== null ? 1 : 0;
}

/**
 * Of two leaves that commit to the same key hash and value hash, the one that carries more (the
 * value, or else the key), after checking that what it adds hashes to those commitments; null when
 * it does not (the leaf lies about its own record).
 */
function richerLeaf(ours: ProofLeaf, theirs: ProofLeaf): ProofLeaf | null {
  if (carries(theirs) <= carries(ours)) return ours;
  if (!bytesEqual(theirs.keyHash, ours.keyHash) || !bytesEqual(theirs.valueHash, ours.valueHash)) return null;
  if (theirs.value !== null && !bytesEqual(valueHash(theirs.value), ours.valueHash)) return null;
  if (theirs.key !== null && !keyHashes(theirs.key, ours.keyHash)) return null;
  return theirs;
}

function keyHashes(key: string, keyHash: Uint8Array): boolean {
  try {
    return bytesEqual(keyPath(key), keyHash);
  } catch (e) {
    if (e instanceof ArborError) return false;
    throw e;
  }
}

export type ExtendResult =
  { readonly ok: true; readonly proof: ProofNode } | { readonly ok: false; readonly path: Uint8Array };

/**
 * Extends `base` (the newest proof) with what `older` proves about `paths`. For each path: if
 * `base` already proves it, the two must agree on the record, and where `base` shows it only as
 * a summary or a hash, `older`'s key and value are taken into it; otherwise the first stub on the
 * path in `base` must have a node with exactly its label at the same position in `older`, which
 * then replaces it. Fails (naming the path) when a record changed in between or nothing matches.
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
      if (ours.present) {
        const here = terminalOf(out, path);
        const there = terminalOf(older, path).node;
        if (here.node.t !== "leaf" || there.t !== "leaf") return { ok: false, path };
        const kept = richerLeaf(here.node, there);
        if (kept === null) return { ok: false, path };
        if (kept !== here.node) out = replaceAt(out, path, 0, here.depth, kept);
      }
      continue;
    }
    const next = graftAt(out, older, path, 0, ours.stubDepth);
    if (next === null) return { ok: false, path };
    out = next;
  }
  return { ok: true, proof: out };
}

/** `root` with the node at `depth` on `path` replaced by `node` (labels unchanged: same record). */
function replaceAt(root: ProofNode, path: Uint8Array, depth: number, at: number, node: ProofNode): ProofNode {
  if (depth === at || root.t !== "internal") return node;
  const label = labelOf(root);
  return bitAt(path, depth)
    ? { t: "internal", left: root.left, right: replaceAt(root.right, path, depth + 1, at, node), label }
    : { t: "internal", left: replaceAt(root.left, path, depth + 1, at, node), right: root.right, label };
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
