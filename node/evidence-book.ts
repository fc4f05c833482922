// The misbehaviour a node's consensus witnessed (two conflicting votes, or two conflicting
// proposals, signed by one validator in one round), kept as COMPLAIN evidence for clients to
// fetch, check and submit. Bounded: the newest are kept.

import { MAX_WITNESSED_EVIDENCE } from "./common/limits.js";
import { encodeEvidence, type Evidence } from "./ledger/evidence.js";
import { decodeMessage, encodeSignedHeader, type Equivocation } from "./tob/core/index.js";

export interface WitnessedEvidence {
  readonly accused: number;
  /** canonical evidence bytes (ledger/evidence.ts) */
  readonly evidence: Uint8Array;
}

/** A proposal message's compact signed header (what double-proposal evidence holds). */
function signedHeaderOf(proposal: Uint8Array): Uint8Array | null {
  const m = decodeMessage(proposal);
  return m.kind === "proposal" ? encodeSignedHeader(m.block) : null;
}

/**
 * The COMPLAIN form of what the consensus reported: votes as they are, proposals as their signed
 * headers (a proposal carries its whole block, far past what evidence may weigh).
 */
function evidenceOf(e: Equivocation): Evidence | null {
  if (e.kind === "double-vote") return { kind: "double-vote", first: e.first, second: e.second };
  const first = signedHeaderOf(e.first);
  const second = signedHeaderOf(e.second);
  return first && second ? { kind: "double-proposal", first, second } : null;
}

export class EvidenceBook {
  private readonly items: Array<WitnessedEvidence & { readonly offence: string }> = [];
  private readonly seen = new Set<string>();

  /**
   * Records an equivocation by the node with key `e.signer` (its id from `idOf`); a double vote
   * and a double proposal in one round are two offences. Returns whether it was new.
   */
  add(e: Equivocation, idOf: (keyHex: string) => number | undefined): boolean {
    const accused = idOf(e.signer);
    const offence = `${e.kind}/${e.signer}/${e.epoch}/${e.round}`;
    if (accused === undefined || this.seen.has(offence)) return false;
    const found = evidenceOf(e);
    if (!found) return false;
    this.seen.add(offence);
    const evidence = encodeEvidence(found);
    this.items.push({ accused, evidence, offence });
    if (this.items.length > MAX_WITNESSED_EVIDENCE) this.seen.delete(this.items.shift()!.offence);
    return true;
  }

  list(): WitnessedEvidence[] {
    return this.items.map(({ accused, evidence }) => ({ accused, evidence }));
  }
}
