// Multi-key Merkle proofs: a pruned copy of the tree that keeps the full path of every proven
// key and replaces everything else by stubs. One proof proves presence (with the value, or only
// its hash) or absence for any set of keys at once, sharing common path nodes.

import { ArborError } from "../../common/errors.js";
import { latin1Equals, latin1ToBytes } from "../../common/bytes.js";
import { EMPTY_LABEL, internalLabel, labelKind, LabelKind, leafLabel } from "./label.js";
import { Kind, type TreeNode } from "./node.js";
import { bitAt } from "./path.js";
import { bytesEq32, type MerkleTree } from "./tree.js";

export type ProofNode = ProofEmpty | ProofStub | ProofInternal | ProofLeaf;

export interface ProofEmpty {
  readonly t: "empty";
}
export interface ProofStub {
  readonly t: "stub";
  readonly label: Uint8Array;
}
export interface ProofInternal {
  readonly t: "internal";
  readonly left: ProofNode;
  readonly right: ProofNode;
  label?: Uint8Array;
}
/** A leaf: with key and value, with key and value hash, or a summary (key hash and value hash). */
export interface ProofLeaf {
  readonly t: "leaf";
  readonly keyHash: Uint8Array;
  readonly valueHash: Uint8Array;
  readonly key: string | null;
  readonly value: Uint8Array | null;
  label?: Uint8Array;
}

export const PROOF_EMPTY: ProofEmpty = { t: "empty" };

/** What a proof says about one key. */
export type ProvenState =
  | { readonly covered: false; readonly stubDepth: number }
  | { readonly covered: true; readonly present: false }
  | {
      readonly covered: true;
      readonly present: true;
      readonly valueHash: Uint8Array;
      readonly value: Uint8Array | null;
    };

export interface ProveOptions {
  /** carry values (true) or only value hashes (false) for the proven keys */
  readonly values?: boolean;
  /**
   * Give leaves that sit beside a proven path as summaries (key hash + value hash) instead of
   * bare stubs. Required for proofs that go into an EXECUTE (see history.ts).
   */
  readonly leafSiblings?: boolean;
  /**
   * Proven keys (paths) whose values are not needed, whatever `values` says: they are given with
   * their key and value hash only (an EXECUTE names its operation's module by hash this way).
   */
  readonly hashOnly?: readonly Uint8Array[];
}

export class ProveError extends ArborError {}

export function labelOf(n: ProofNode): Uint8Array {
  switch (n.t) {
    case "empty":
      return EMPTY_LABEL;
    case "stub":
      return n.label;
    case "internal":
      return (n.label ??= internalLabel(labelOf(n.left), labelOf(n.right)));
    case "leaf":
      return (n.label ??= leafLabel(n.keyHash, n.valueHash));
  }
}

/** True when the node stands for a single leaf (a leaf, or a stub whose label is a leaf's). */
export function isLeafKind(n: ProofNode): boolean {
  return n.t === "leaf" || (n.t === "stub" && labelKind(n.label) === LabelKind.Leaf);
}

/** Builds a proof for the given key paths from a tree. Throws ProveError if a stub hides one. */
export function prove(tree: MerkleTree, paths: readonly Uint8Array[], opts: ProveOptions = {}): ProofNode {
  const values = opts.values ?? true;
  const leafSiblings = opts.leafSiblings ?? false;
  const uniq = dedupe(paths);
  const hashOnly = opts.hashOnly ?? [];
  const wantsValue =
    hashOnly.length === 0
      ? () => values
      : (p: Uint8Array) => values && !hashOnly.some((q) => bytesEq32(p, q));
  return proveNode(tree.root, 0, uniq, wantsValue, leafSiblings);
}

function dedupe(paths: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of paths) if (!out.some((q) => bytesEq32(p, q))) out.push(p);
  return out;
}

function sibling(n: TreeNode, leafSiblings: boolean): ProofNode {
  switch (n.kind) {
    case Kind.Empty:
      return PROOF_EMPTY;
    case Kind.Leaf:
      return leafSiblings
        ? {
            t: "leaf",
            keyHash: latin1ToBytes(n.keyHash),
            valueHash: latin1ToBytes(n.valueHash),
            key: null,
            value: null,
            label: n.label,
          }
        : { t: "stub", label: n.label };
    default:
      return { t: "stub", label: n.label };
  }
}

function proveNode(
  n: TreeNode,
  depth: number,
  paths: Uint8Array[],
  values: (path: Uint8Array) => boolean,
  ls: boolean,
): ProofNode {
  switch (n.kind) {
    case Kind.Empty:
      return PROOF_EMPTY;
    case Kind.Stub:
      throw new ProveError("proof/not-stored", `this node does not store the path at depth ${depth}`);
    case Kind.Leaf: {
      const own = paths.find((p) => latin1Equals(n.keyHash, p));
      const keyHash = latin1ToBytes(n.keyHash);
      const valueHash = latin1ToBytes(n.valueHash);
      if (own !== undefined && n.key !== null && n.value !== null)
        return values(own)
          ? { t: "leaf", keyHash, valueHash, key: n.key, value: n.value }
          : { t: "leaf", keyHash, valueHash, key: n.key, value: null };
      return { t: "leaf", keyHash, valueHash, key: null, value: null };
    }
    case Kind.Internal: {
      const l: Uint8Array[] = [];
      const r: Uint8Array[] = [];
      for (const p of paths) (bitAt(p, depth) ? r : l).push(p);
      const left = l.length ? proveNode(n.left, depth + 1, l, values, ls) : sibling(n.left, ls);
      const right = r.length ? proveNode(n.right, depth + 1, r, values, ls) : sibling(n.right, ls);
      return { t: "internal", left, right };
    }
  }
}

/** Walks a proof along `path`: the proven state of that key, or where a stub stops the walk. */
export function provenState(root: ProofNode, path: Uint8Array): ProvenState {
  let n = root;
  let d = 0;
  while (n.t === "internal") {
    n = bitAt(path, d) ? n.right : n.left;
    d++;
  }
  if (n.t === "stub") return { covered: false, stubDepth: d };
  if (n.t === "leaf" && bytesEq32(n.keyHash, path))
    return { covered: true, present: true, valueHash: n.valueHash, value: n.value };
  return { covered: true, present: false };
}

/** The proof node at `depth` on `path`, or null if the proof's walk ends above it. */
export function nodeAt(root: ProofNode, path: Uint8Array, depth: number): ProofNode | null {
  let n = root;
  for (let d = 0; d < depth; d++) {
    if (n.t !== "internal") return null;
    n = bitAt(path, d) ? n.right : n.left;
  }
  return n;
}

/** The terminal node of the proof's walk along `path` and its depth. */
export function terminalOf(root: ProofNode, path: Uint8Array): { node: ProofNode; depth: number } {
  let n = root;
  let d = 0;
  while (n.t === "internal") {
    n = bitAt(path, d) ? n.right : n.left;
    d++;
  }
  return { node: n, depth: d };
}
