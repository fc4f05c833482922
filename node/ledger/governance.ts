// Who may change the membership: the genesis names a set of governance keys and how many of them
// must approve a change (m of n); a genesis that names none leaves it to the validators, 2f+1 of
// the set in force at the block (a quorum). Approvals are Ed25519 signatures over the change
// (member-request.ts, approvalMessage); duplicates and keys outside the rule count once / not at all.

import { toHex } from "../common/bytes.js";
import type { SignatureVerifier } from "../common/signature-verifier.js";
import type { Approval } from "./member-request.js";

export interface GovernanceRule {
  readonly keys: readonly Uint8Array[];
  readonly threshold: number;
}

/** The quorum of a validator set of n: floor(2n/3) + 1 (the consensus' own). */
export function quorumOf(n: number): number {
  return Math.floor((2 * n) / 3) + 1;
}

/** The rule of a genesis that names no governance: the validators' keys, a quorum of them. */
export function validatorRule(validatorKeys: readonly Uint8Array[]): GovernanceRule {
  return { keys: validatorKeys, threshold: quorumOf(validatorKeys.length) };
}

/** How many distinct keys of the rule approved `message` with a valid signature. */
export function countApprovals(
  rule: GovernanceRule,
  approvals: readonly Approval[],
  message: Uint8Array,
  verifier: SignatureVerifier,
): number {
  const allowed = new Set(rule.keys.map(toHex));
  const counted = new Set<string>();
  for (const a of approvals) {
    const hex = toHex(a.publicKey);
    if (!allowed.has(hex) || counted.has(hex)) continue;
    if (verifier.verify(a.publicKey, message, a.signature)) counted.add(hex);
  }
  return counted.size;
}
