// Leader reputation: who leads a round, chosen from the certified chain the round's block extends.
// A validator that has neither proposed a block nor signed a certificate in the last few blocks of
// that chain (it crashed, is paused, or is cut off) is skipped, so the cluster stops spending
// round timeouts on it; once it votes again its signatures put it back. The choice depends only on
// the round and on blocks every correct node verifies the same way, so nodes that extend the same
// block agree; safety never depends on it (see docs/consensus.md §3, "Leaders").

import { TOB_LEADER_WINDOW } from "../../common/limits.js";
import type { Block } from "./types.js";

/**
 * A parent this many rounds per validator older than the round (or such a gap between two blocks
 * of the window) means the chain stalled under the eligible set: rotation falls back to plain
 * round-robin. Far above the gaps one dead node causes (three rounds: its own and the one before,
 * whose votes it would have gathered), so a crash alone never triggers it.
 */
export const STALL_ROUNDS_PER_VALIDATOR = 3;

/**
 * The leader of `round` for a block extending a parent of round `parentRound`, among `active` (see
 * activeValidators). Round-robin over all `n` when the parent is more than
 * STALL_ROUNDS_PER_VALIDATOR × n rounds old: the chain has stalled under the eligible set, and plain
 * rotation is what guarantees three consecutive correct leaders.
 */
export function leaderAmong(
  round: number,
  n: number,
  parentRound: number,
  active: readonly number[] | null,
): number {
  return active && round - parentRound <= STALL_ROUNDS_PER_VALIDATOR * n
    ? active[round % active.length]!
    : round % n;
}

/**
 * The validators eligible to lead a block extending `chain` (the last blocks of the current epoch
 * ending at the parent, oldest first, at most TOB_LEADER_FAILURE_WINDOW of them), ascending; null
 * for round-robin over every validator.
 *
 * Round-robin over all applies unless the last TOB_LEADER_WINDOW blocks are there, show progress (a
 * block whose parent has the round just before it: a two-chain that commits) and no stall (two
 * consecutive blocks more than STALL_ROUNDS_PER_VALIDATOR × n rounds apart: after a stall, rotation
 * stays plain until the window has moved past it). Otherwise the eligible are those blocks' authors
 * and the signers of the certificates they carry — each certificate has a quorum of signers, so at
 * least a quorum — less the validators that failed to lead within the whole chain given: when rounds
 * were skipped between two consecutive blocks of it (they ended in timeouts), the last of them is
 * charged to its leader, as the rule chose that leader then. A faulty validator that votes promptly but proposes nothing
 * usable stays in every certificate; without the charge it led every n-th round, each costing a
 * timeout. Charged validators sit out until their failure leaves the chain; were every eligible one
 * charged, the charges are ignored.
 */
export function activeValidators(n: number, chain: readonly Block[]): number[] | null {
  let eligible: number[] | null = null;
  const failed = new Set<number>();
  for (let i = 0; i < chain.length; i++) {
    if (i > 0) {
      const before = chain[i - 1]!.round;
      const gap = chain[i]!.round - before;
      // The last skipped round's leader is charged: correct nodes time out in a round only when
      // its leader's proposal did not reach them in time. The rounds before it may have failed for
      // want of their successor (a correct leader whose block's votes went to a faulty next leader),
      // so they are not charged: a faulty node cannot get correct ones set aside. A stall is not
      // charged either: rotation was plain (or about to be) and the cluster itself stuck.
      if (gap > 1 && gap <= STALL_ROUNDS_PER_VALIDATOR * n)
        failed.add(leaderAmong(chain[i]!.round - 1, n, before, eligible));
    }
    eligible = eligibleAfter(n, chain.slice(Math.max(0, i + 1 - TOB_LEADER_WINDOW), i + 1), failed);
  }
  return eligible;
}

/** The rule for a parent at the end of `window` (the last TOB_LEADER_WINDOW blocks), less `failed`. */
function eligibleAfter(n: number, window: readonly Block[], failed: ReadonlySet<number>): number[] | null {
  if (window.length < TOB_LEADER_WINDOW) return null;
  let progress = false;
  for (let i = 1; i < window.length; i++) {
    const gap = window[i]!.round - window[i - 1]!.round;
    if (gap > STALL_ROUNDS_PER_VALIDATOR * n) return null;
    if (gap === 1) progress = true;
  }
  if (!progress) return null;
  const seen = new Uint8Array(n);
  for (const b of window) {
    if (b.author < n) seen[b.author] = 1;
    for (const v of b.qc.votes) if (v.signer < n) seen[v.signer] = 1;
  }
  const all: number[] = [];
  for (let i = 0; i < n; i++) if (seen[i]) all.push(i);
  if (all.length === 0) return null;
  const kept = all.filter((i) => !failed.has(i));
  return kept.length > 0 ? kept : all;
}
