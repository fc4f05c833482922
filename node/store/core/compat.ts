// The compatibility check of an EXECUTE's proof against a node's own knowledge (thesis §3.4,
// Algorithm 1 without the import). For every checked key the proof must show the key's full path,
// and the key's state in the proof must equal its state now: equal value hash, or absent in both.
// Where this node holds a stub on the key's path, the proof must hold a node with exactly the
// stub's label at the stub's position. With stubs only older than T, the verdict is the same on
// every correct node whatever its partition (docs/store.md explains why).

import { bitAt } from "./path.js";
import { Kind } from "./node.js";
import { isLeafKind, labelOf, nodeAt, provenState, type ProofNode } from "./proof.js";
import { bytesEq32, type MerkleTree } from "./tree.js";
import { latin1Equals } from "../../common/bytes.js";

export type Incompatibility =
  /** the proof's root is not among the last T roots */
  | "stale-root"
  /** a stub in the proof hides part of a checked key's path */
  | "path-not-proven"
  /** a leaf beside a checked key's path is given only as a stub (EXECUTE proofs must give summaries) */
  | "leaf-sibling-hidden"
  /** the key's record differs between the proof and now (value, or present versus absent) */
  | "record-changed";

export type Verdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: Incompatibility; readonly path?: Uint8Array };

export const COMPATIBLE: Verdict = { ok: true };

/** Checks one key path; the caller has already checked the proof's root against its window. */
export function checkPath(tree: MerkleTree, proof: ProofNode, path: Uint8Array): Verdict {
  const proven = provenState(proof, path);
  if (!proven.covered) return { ok: false, reason: "path-not-proven", path };
  if (hidesLeafSibling(proof, path)) return { ok: false, reason: "leaf-sibling-hidden", path };
  const local = tree.walk(path);
  const n = local.node;
  switch (n.kind) {
    case Kind.Stub: {
      const there = nodeAt(proof, path, local.depth);
      if (there !== null && there.t !== "stub" && bytesEq32(labelOf(there), n.label)) return COMPATIBLE;
      return { ok: false, reason: "record-changed", path };
    }
    case Kind.Empty:
      return proven.present ? { ok: false, reason: "record-changed", path } : COMPATIBLE;
    case Kind.Leaf: {
      const here = latin1Equals(n.keyHash, path);
      if (here !== proven.present) return { ok: false, reason: "record-changed", path };
      if (here && proven.present && !latin1Equals(n.valueHash, proven.valueHash))
        return { ok: false, reason: "record-changed", path };
      return COMPATIBLE;
    }
  }
}

function hidesLeafSibling(proof: ProofNode, path: Uint8Array): boolean {
  let n = proof;
  let d = 0;
  while (n.t === "internal") {
    const b = bitAt(path, d);
    const s = b ? n.left : n.right;
    if (s.t === "stub" && isLeafKind(s)) return true;
    n = b ? n.right : n.left;
    d++;
  }
  return false;
}

/** Checks every path; the first incompatibility wins (paths are checked in the given order). */
export function checkPaths(tree: MerkleTree, proof: ProofNode, paths: readonly Uint8Array[]): Verdict {
  for (const p of paths) {
    const v = checkPath(tree, proof, p);
    if (!v.ok) return v;
  }
  return COMPATIBLE;
}
