// Node labels (hashes) with domain separation by kind. The kind of any label is readable from
// the label itself — all zero: empty; top bit set: leaf; top bit clear: internal — so a stub can
// never hide whether it stands for a single leaf, and a parent's label authenticates the kinds of
// its children (see docs/protocol.md §2).

import { sha256 } from "../../common/hash.js";

export const LABEL_BYTES = 32;
export const EMPTY_LABEL = new Uint8Array(LABEL_BYTES);

const TAG_LEAF = 0x01;
const TAG_INTERNAL = 0x02;

export const enum LabelKind {
  Empty = 0,
  Leaf = 1,
  Internal = 2,
}

const scratchLeaf = new Uint8Array(1 + 64);
const scratchInternal = new Uint8Array(1 + 64);

export function valueHash(value: Uint8Array): Uint8Array {
  return sha256(value);
}

export function leafLabel(keyHash: Uint8Array, vHash: Uint8Array): Uint8Array {
  scratchLeaf[0] = TAG_LEAF;
  scratchLeaf.set(keyHash, 1);
  scratchLeaf.set(vHash, 33);
  const h = sha256(scratchLeaf); // a fresh array: safe to mark
  h[0]! |= 0x80;
  return h;
}

export function internalLabel(left: Uint8Array, right: Uint8Array): Uint8Array {
  scratchInternal[0] = TAG_INTERNAL;
  scratchInternal.set(left, 1);
  scratchInternal.set(right, 33);
  const h = sha256(scratchInternal);
  h[0]! &= 0x7f;
  return h;
}

export function labelKind(label: Uint8Array): LabelKind {
  if (label[0]! & 0x80) return LabelKind.Leaf;
  for (let i = 0; i < LABEL_BYTES; i++) if (label[i] !== 0) return LabelKind.Internal;
  return LabelKind.Empty;
}
