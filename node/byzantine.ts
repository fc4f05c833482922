// Test-only misbehaviour for the trust tests, kept out of the honest code paths: a node started
// with `byzantine: "double-vote"` signs, next to every vote its consensus casts, a second vote for
// a block that does not exist in the same round, and sends both. Never set in production.

import { sha256 } from "./common/hash.js";
import { concatBytes, utf8 } from "./common/bytes.js";
import { decodeMessage, encodeMessage, voteSigningBytes } from "./tob/core/index.js";

const FAKE_TAG = utf8("arbor/byzantine/fake-block");

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
