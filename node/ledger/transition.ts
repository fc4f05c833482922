// A validator-set transition and its one check, shared by the light client, the full client's
// validator history and a node syncing from a snapshot (node/snapshot/): a node may withhold a
// change, never invent one. Keeping a single check means they can never accept different
// transitions.

import { bytesEqual } from "../common/bytes.js";
import type { SignatureVerifier } from "../common/signature-verifier.js";
import {
  decodeCertifiedHeader,
  validatorsHash,
  verifyCertificate,
  type CertifiedHeader,
  type Validator,
} from "./header.js";
import { decodeValidators } from "./validators-codec.js";

/** A validator-set transition as a node serves it: the deciding header and the next set. */
export interface Transition {
  readonly certificate: Uint8Array;
  readonly next: Uint8Array;
}

/** A transition that passed `checkTransition`: its certified header and the set taking over. */
export interface VerifiedTransition {
  readonly header: CertifiedHeader;
  /** the next validator set; it certifies heights from `header.header.nextFromHeight` on */
  readonly next: Validator[];
}

/**
 * Checks one transition: the header must be of `chain`, decided after height `after` (and at or
 * before `until`, unless null), certified by `setAt(its height)` (2f+1 of that set), and name a
 * next set that starts after it and whose hash is the one the header commits to. Calls `fail` with
 * the reason otherwise (which must throw); decoding errors propagate.
 */
export function checkTransition(
  t: Transition,
  chain: Uint8Array,
  after: bigint,
  until: bigint | null,
  setAt: (height: bigint) => readonly Validator[],
  verifier: SignatureVerifier,
  fail: (why: string) => never,
): VerifiedTransition {
  const c = decodeCertifiedHeader(t.certificate);
  const h = c.header.height;
  const no = (why: string): never => fail(`transition at ${h}: ${why}`);
  if (!bytesEqual(c.header.chain, chain)) no("it belongs to another chain");
  if (h <= after || (until !== null && h > until)) no(`its height is not in (${after}, ${until ?? "∞"}]`);
  const r = verifyCertificate(c, setAt(h), verifier);
  if (!r.ok) no(r.reason);
  const next = decodeValidators(t.next);
  if (c.header.nextFromHeight <= h) no("the next set does not start after it");
  if (!bytesEqual(validatorsHash(next), c.header.nextValidatorsHash)) no("it names another set");
  return { header: c, next };
}
