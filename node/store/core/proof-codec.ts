// Proof encoding and verification. Pre-order: each node has a 2-bit tag (packed four to a byte,
// a tag byte appearing in the stream when the previous one is used up), followed by its body.
// Decoding is verification: it bounds size, node count and depth, checks that every leaf sits on
// its own key's path (which also rules out two leaves for one key: a leaf has no descendants),
// rejects non-canonical shapes and recomputes every label. Hostile bytes only
// ever produce a ProofError or DecodeError. See docs/protocol.md §3.

import { Reader, Writer } from "../../common/codec.js";
import { ArborError, ProofError } from "../../common/errors.js";
import {
  MAX_KEY_BYTES,
  MAX_PROOF_BYTES,
  MAX_PROOF_NODES,
  MAX_TREE_DEPTH,
  MAX_VALUE_BYTES,
} from "../../common/limits.js";
import { labelKind, LabelKind, valueHash } from "./label.js";
import { isLeafKind, labelOf, PROOF_EMPTY, type ProofNode } from "./proof.js";
import { commonPrefixBits, keyPath } from "./path.js";

const TAG_EMPTY = 0;
const TAG_STUB = 1;
const TAG_INTERNAL = 2;
const TAG_LEAF = 3;

const LEAF_VALUE = 0;
const LEAF_VALUE_HASH = 1;
const LEAF_SUMMARY = 2;

export function encodeProof(root: ProofNode): Uint8Array {
  const w = new Writer(1024);
  let tagAt = -1;
  let tagCount = 0;
  let tagByte = 0;
  const tag = (t: number): void => {
    if (tagCount % 4 === 0) {
      if (tagAt >= 0) w.patch(tagAt, tagByte);
      tagAt = w.placeholder();
      tagByte = 0;
    }
    tagByte |= t << (2 * (tagCount % 4));
    tagCount++;
  };
  const visit = (n: ProofNode): void => {
    switch (n.t) {
      case "empty":
        tag(TAG_EMPTY);
        return;
      case "stub":
        tag(TAG_STUB);
        w.raw(n.label);
        return;
      case "internal":
        tag(TAG_INTERNAL);
        visit(n.left);
        visit(n.right);
        return;
      case "leaf":
        tag(TAG_LEAF);
        if (n.key === null) w.u8(LEAF_SUMMARY).raw(n.keyHash).raw(n.valueHash);
        else if (n.value === null) w.u8(LEAF_VALUE_HASH).string(n.key).raw(n.valueHash);
        else w.u8(LEAF_VALUE).string(n.key).bytes(n.value);
        return;
    }
  };
  visit(root);
  w.patch(tagAt, tagByte);
  return w.finish();
}

export interface DecodedProof {
  readonly root: ProofNode;
  readonly rootLabel: Uint8Array;
  readonly nodes: number;
}

/** Where a subtree's encoding starts, and tighter bounds (a chunk of a prefix: store/core/graft.ts). */
export interface DecodeProofOptions {
  /** the position of the encoded subtree's root (default: the tree's root); bits past `depth` are zero */
  readonly at?: { readonly prefix: Uint8Array; readonly depth: number };
  readonly maxBytes?: number;
  readonly maxNodes?: number;
}

/**
 * Decodes and verifies the structure of a proof. The caller compares `rootLabel` with a trusted
 * root. Leaf values are views into `bytes` (not copies), valid as long as `bytes` is unchanged.
 */
export function decodeProof(bytes: Uint8Array, opts: DecodeProofOptions = {}): DecodedProof {
  if (!(bytes instanceof Uint8Array)) throw new ProofError("proof/type", "proof must be bytes");
  const maxBytes = opts.maxBytes ?? MAX_PROOF_BYTES;
  const maxNodes = opts.maxNodes ?? MAX_PROOF_NODES;
  if (bytes.length > maxBytes)
    throw new ProofError("proof/too-large", `proof of ${bytes.length} bytes exceeds ${maxBytes}`);
  const r = new Reader(bytes);
  let tagCount = 0;
  let tagByte = 0;
  let nodes = 0;
  const position = new Uint8Array(32);
  if (opts.at) position.set(opts.at.prefix);

  const nextTag = (): number => {
    if (tagCount % 4 === 0) tagByte = r.u8();
    const t = (tagByte >> (2 * (tagCount % 4))) & 3;
    tagCount++;
    return t;
  };

  const visit = (depth: number): ProofNode => {
    if (++nodes > maxNodes) throw new ProofError("proof/too-many-nodes", `more than ${maxNodes} nodes`);
    const t = nextTag();
    switch (t) {
      case TAG_EMPTY:
        return PROOF_EMPTY;
      case TAG_STUB: {
        const label = r.copy(32, "stub label");
        if (labelKind(label) === LabelKind.Empty)
          throw new ProofError("proof/empty-stub", "a stub may not stand for an empty node");
        return { t: "stub", label };
      }
      case TAG_INTERNAL: {
        if (depth >= MAX_TREE_DEPTH - 1)
          throw new ProofError("proof/too-deep", `internal node at depth ${depth}`);
        const mask = 1 << (7 - (depth & 7));
        position[depth >> 3]! &= ~mask;
        const left = visit(depth + 1);
        position[depth >> 3]! |= mask;
        const right = visit(depth + 1);
        position[depth >> 3]! &= ~mask;
        checkCanonical(left, right, depth);
        return { t: "internal", left, right };
      }
      default: {
        const mode = r.u8();
        let keyHash: Uint8Array;
        let vHash: Uint8Array;
        let key: string | null = null;
        let value: Uint8Array | null = null;
        if (mode === LEAF_SUMMARY) {
          keyHash = r.copy(32, "key hash");
          vHash = r.copy(32, "value hash");
        } else if (mode === LEAF_VALUE_HASH || mode === LEAF_VALUE) {
          key = r.string(MAX_KEY_BYTES, "key");
          keyHash = safeKeyPath(key);
          if (mode === LEAF_VALUE) {
            value = r.view(MAX_VALUE_BYTES, "value");
            vHash = valueHash(value);
          } else vHash = r.copy(32, "value hash");
        } else throw new ProofError("proof/bad-leaf-mode", `unknown leaf mode ${mode}`);
        if (commonPrefixBits(keyHash, position) < depth)
          throw new ProofError(
            "proof/leaf-off-path",
            `leaf at depth ${depth} does not lie on its key's path`,
          );
        return { t: "leaf", keyHash, valueHash: vHash, key, value };
      }
    }
  };

  try {
    const root = visit(opts.at?.depth ?? 0);
    // The unused high bits of the last tag byte are zero: one proof, one encoding.
    if (tagByte >> (2 * (((tagCount - 1) % 4) + 1)) !== 0)
      throw new ProofError("proof/non-canonical", "padding bits of the last tag byte are not zero");
    r.end("proof");
    return { root, rootLabel: labelOf(root), nodes };
  } catch (e) {
    if (e instanceof ArborError) throw e;
    if (e instanceof RangeError) throw new ProofError("proof/too-deep", "proof nesting exhausted the stack");
    throw e;
  }
}

function safeKeyPath(key: string): Uint8Array {
  try {
    return keyPath(key);
  } catch (e) {
    if (e instanceof ArborError) throw new ProofError("proof/bad-key", e.message);
    throw e;
  }
}

function checkCanonical(left: ProofNode, right: ProofNode, depth: number): void {
  const le = left.t === "empty";
  const re = right.t === "empty";
  if (le && re)
    throw new ProofError("proof/non-canonical", `internal node with two empty children at depth ${depth}`);
  if ((le && isLeafKind(right)) || (re && isLeafKind(left)))
    throw new ProofError(
      "proof/non-canonical",
      `a single leaf under an internal node at depth ${depth} must collapse`,
    );
  if (left.t === "stub" && right.t === "stub")
    throw new ProofError(
      "proof/non-canonical",
      `internal node with two stubs at depth ${depth} proves nothing`,
    );
}
