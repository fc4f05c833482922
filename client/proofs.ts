// Joining and trimming proofs on the client (portable): several partitions' answers become one
// proof against the newest root, and a proof can be cut down to the keys one request needs.
import { bytesEqual } from "../node/common/bytes.js";
import { extendProof, mergeProofs } from "../node/store/core/combine.js";
import { labelOf, type ProofNode } from "../node/store/core/proof.js";
import { bitAt } from "../node/store/core/path.js";

export interface ProofAnswer {
  readonly timestamp: bigint;
  readonly root: ProofNode;
  readonly paths: readonly Uint8Array[];
}

/** One proof against the newest answer's root, or null when a record changed in between. */
export function joinAnswers(answers: readonly ProofAnswer[]): ProofNode | null {
  const sorted = [...answers].sort((a, b) =>
    a.timestamp > b.timestamp ? -1 : a.timestamp < b.timestamp ? 1 : 0,
  );
  let proof = sorted[0]!.root;
  for (const a of sorted.slice(1)) {
    if (bytesEqual(labelOf(a.root), labelOf(proof))) proof = mergeProofs(proof, a.root);
    else {
      const e = extendProof(proof, a.root, a.paths);
      if (!e.ok) return null;
      proof = e.proof;
    }
  }
  return proof;
}

/**
 * The part of a proof that covers only `paths`: everything beside them becomes a stub, except
 * leaves, which stay as summaries (an EXECUTE proof must show the leaves beside its paths). The
 * leaves of `summaries` (paths among `paths`) become summaries too: proven, without their values.
 */
export function pruneProof(
  n: ProofNode,
  paths: readonly Uint8Array[],
  depth = 0,
  summaries: readonly Uint8Array[] = [],
): ProofNode {
  if (n.t !== "internal") {
    if (n.t === "leaf" && (paths.length === 0 || summaries.some((p) => bytesEqual(p, n.keyHash))))
      return { t: "leaf", keyHash: n.keyHash, valueHash: n.valueHash, key: null, value: null };
    return n;
  }
  if (paths.length === 0) return { t: "stub", label: labelOf(n) };
  const l = paths.filter((p) => bitAt(p, depth) === 0);
  const r = paths.filter((p) => bitAt(p, depth) === 1);
  return {
    t: "internal",
    left: pruneProof(n.left, l, depth + 1, summaries),
    right: pruneProof(n.right, r, depth + 1, summaries),
  };
}
