// Test-only misbehaviour for the trust tests, kept out of the honest code paths: a node started
// with `byzantine: "double-vote"` signs, next to every vote its consensus casts, a second vote for
// a block that does not exist in the same round, and sends both; one started with
// `byzantine: "stub-records"` answers reads with its honest signed root and a valid proof against
// it in which every asked record is a stub; one started with `byzantine: "forge-get-root"` answers
// reads with an altered value and signs the root that value gives. Never set in production.

import { sha256 } from "./common/hash.js";
import { concatBytes, utf8 } from "./common/bytes.js";
import { BYZANTINE_FAKE_BLOCK_TAG } from "./common/tags.js";
import { decodeMessage, encodeMessage, voteSigningBytes } from "./tob/core/index.js";
import { labelOf, type ProofNode } from "./store/core/proof.js";
import { decodeProof, encodeProof } from "./store/core/proof-codec.js";
import { bitAt } from "./store/core/path.js";

/**
 * Test-only misbehaviour, for the trust tests. "forge-get-root": GET proofs carry an altered value
 * and the node signs the resulting false root. "double-vote": next to each vote the node signs a
 * conflicting one (withDoubleVote). "stub-records": GET replies carry the node's honest root
 * statement and a valid proof in which the asked records are stubs. "drop-requests": the node admits
 * every valid request and never orders it (a censor). Never set in production.
 */
export const BYZANTINE_BEHAVIOURS = [
  "forge-get-root",
  "double-vote",
  "stub-records",
  "drop-requests",
] as const;
export type Byzantine = (typeof BYZANTINE_BEHAVIOURS)[number];

const FAKE_TAG = utf8(BYZANTINE_FAKE_BLOCK_TAG);

/** The consensus bytes to send in place of `bytes`: itself, plus a conflicting vote if it is one. */
export function withDoubleVote(
  bytes: Uint8Array,
  chain: Uint8Array,
  sign: (message: Uint8Array) => Uint8Array,
): Uint8Array[] {
  const m = decodeMessage(bytes);
  if (m.kind !== "vote") return [bytes];
  const v = m.vote;
  const blockId = sha256(concatBytes(FAKE_TAG, v.blockId));
  const sig = sign(voteSigningBytes(chain, v.epoch, v.round, blockId));
  return [bytes, encodeMessage({ kind: "vote", vote: { ...v, blockId, sig } })];
}

/**
 * The same proof with the leaf at the end of each of `paths` replaced by a stub of the same label:
 * the root is unchanged (the node's honest signed statement still covers it), but the asked records
 * are hidden. A path that ends in an empty subtree is left as it is.
 */
export function stubRecords(root: ProofNode, paths: readonly Uint8Array[], depth = 0): ProofNode {
  if (paths.length === 0) return root;
  if (root.t === "leaf") return { t: "stub", label: labelOf(root) };
  if (root.t !== "internal") return root;
  const left = stubRecords(
    root.left,
    paths.filter((p) => bitAt(p, depth) === 0),
    depth + 1,
  );
  const right = stubRecords(
    root.right,
    paths.filter((p) => bitAt(p, depth) === 1),
    depth + 1,
  );
  return { t: "internal", left, right };
}

/** The same proof with its first value altered, and the root that proof now has. */
export function forgeProof(bytes: Uint8Array): { proof: Uint8Array; root: Uint8Array } {
  const alter = (n: ProofNode): ProofNode => {
    if (n.t === "internal") {
      const l = alter(n.left);
      return l !== n.left
        ? { t: "internal", left: l, right: n.right }
        : { t: "internal", left: n.left, right: alter(n.right) };
    }
    if (n.t === "leaf" && n.value !== null) {
      const value = new Uint8Array([...n.value, 0x66]);
      return { t: "leaf", keyHash: n.keyHash, valueHash: sha256(value), key: n.key, value };
    }
    return n;
  };
  const forged = encodeProof(alter(decodeProof(bytes).root));
  return { proof: forged, root: decodeProof(forged).rootLabel };
}
