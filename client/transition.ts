// A validator-set transition and its one check, shared by the light client (light.ts) and the full
// client's validator history (validator-history.ts): a node may withhold a change, never invent
// one. Keeping a single check means the two can never again accept different transitions.

import { bytesEqual } from "../node/common/bytes.js";
import {
  decodeCertifiedHeader,
  validatorsHash,
  verifyCertificate,
  type CertifiedHeader,
  type Validator,
} from "../node/ledger/header.js";
import { decodeValidators } from "../node/ledger/validators-codec.js";
import { clientVerifier } from "./crypto.js";
import { VerificationError } from "./errors.js";

/** A validator-set transition as a node serves it: the deciding header and the next set. */
export interface Transition {
  readonly certificate: Uint8Array;
  readonly next: Uint8Array;
}

/** A transition that passed `verifyTransition`: its certified header and the set taking over. */
export interface VerifiedTransition {
  readonly header: CertifiedHeader;
  /** the next validator set; it certifies heights from `header.header.nextFromHeight` on */
  readonly next: Validator[];
}

/**
 * Verifies one transition. Expects the header to be of `chain`, decided after height `after` (and
 * at or before `until`, unless null), certified by `setAt(its height)` (2f+1 of that set), and to name a next set
 * that starts after it and whose hash is the one the header commits to. Throws
 * VerificationError("client/bad-transition") otherwise.
 */
export function verifyTransition(
  t: Transition,
  chain: Uint8Array,
  after: bigint,
  until: bigint | null,
  setAt: (height: bigint) => readonly Validator[],
): VerifiedTransition {
  const c = decodeCertifiedHeader(t.certificate);
  const h = c.header.height;
  const fail = (why: string): never => {
    throw new VerificationError("client/bad-transition", `transition at ${h}: ${why}`);
  };
  if (!bytesEqual(c.header.chain, chain)) fail("it belongs to another chain");
  if (h <= after || (until !== null && h > until)) fail(`its height is not in (${after}, ${until ?? "∞"}]`);
  const r = verifyCertificate(c, setAt(h), clientVerifier);
  if (!r.ok) fail(r.reason);
  const next = decodeValidators(t.next);
  if (c.header.nextFromHeight <= h) fail("the next set does not start after it");
  if (!bytesEqual(validatorsHash(next), c.header.nextValidatorsHash)) fail("it names another set");
  return { header: c, next };
}
