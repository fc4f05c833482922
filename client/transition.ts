// A validator-set transition and its one check (node/ledger/transition.ts), with the client's
// verifier and error: shared by the light client (light.ts) and the full client's validator
// history (validator-history.ts).

import type { Validator } from "../node/ledger/header.js";
import { checkTransition, type Transition, type VerifiedTransition } from "../node/ledger/transition.js";
import { clientVerifier } from "./crypto.js";
import { VerificationError } from "./errors.js";

export type { Transition, VerifiedTransition };

/**
 * Verifies one transition (checkTransition); throws VerificationError("client/bad-transition")
 * when it does not verify.
 */
export function verifyTransition(
  t: Transition,
  chain: Uint8Array,
  after: bigint,
  until: bigint | null,
  setAt: (height: bigint) => readonly Validator[],
): VerifiedTransition {
  return checkTransition(t, chain, after, until, setAt, clientVerifier, (why) => {
    throw new VerificationError("client/bad-transition", why);
  });
}
