// A node's signed statement about a snapshot of its store (docs/protocol.md §17): "at height h,
// the part of my store every node holds alike is these `commonBytes` bytes, whose SHA-256 is
// `digest`". A joining node takes that part from any holder once f+1 validators of height h sign
// the same statement (one of them is correct), and the tree part from one holder, checked
// against the certified root of h.

import { Writer } from "../common/codec.js";
import { utf8 } from "../common/bytes.js";
import { SNAPSHOT_TAG } from "../common/tags.js";
import type { SignatureVerifier } from "../common/signature-verifier.js";
import type { Validator } from "./header.js";

const SIGNING_TAG = utf8(SNAPSHOT_TAG);

export interface SnapshotStatement {
  readonly chain: Uint8Array;
  readonly height: bigint;
  readonly commonBytes: bigint;
  readonly digest: Uint8Array;
}

export interface SignedSnapshotStatement extends SnapshotStatement {
  readonly signer: number;
  readonly signature: Uint8Array;
}

/** What a node signs: tag ‖ chain (32) ‖ u64 height ‖ u64 commonBytes ‖ digest (32). */
export function snapshotSigningBytes(s: SnapshotStatement): Uint8Array {
  return new Writer(SIGNING_TAG.length + 80)
    .raw(SIGNING_TAG)
    .raw(s.chain)
    .u64(s.height)
    .u64(s.commonBytes)
    .raw(s.digest)
    .finish();
}

/**
 * The statements among `signed` (all about one snapshot) whose signers are distinct members of
 * `validators` and whose signatures verify; the caller needs f+1 of them.
 */
export function vouchingSigners(
  signed: readonly SignedSnapshotStatement[],
  validators: readonly Validator[],
  verifier: SignatureVerifier,
): number[] {
  const keys = new Map(validators.map((v) => [v.id, v.publicKey]));
  const ok = new Set<number>();
  for (const s of signed) {
    const key = keys.get(s.signer);
    if (key === undefined || ok.has(s.signer)) continue;
    if (verifier.verify(key, snapshotSigningBytes(s), s.signature)) ok.add(s.signer);
  }
  return [...ok].sort((a, b) => a - b);
}

/** f+1 of n validators: at least one of them is correct. */
export function vouchQuorum(n: number): number {
  return Math.floor((n - 1) / 3) + 1;
}
