// The misbehaviour a node's consensus witnessed (two conflicting votes signed by one validator),
// kept as COMPLAIN evidence for clients to fetch, check and submit. Bounded: the newest are kept.

import { MAX_WITNESSED_EVIDENCE } from "./common/limits.js";
import { encodeEvidence } from "./ledger/evidence.js";
import type { Equivocation } from "./tob/core/index.js";

export interface WitnessedEvidence {
  readonly accused: number;
  /** canonical evidence bytes (ledger/evidence.ts) */
  readonly evidence: Uint8Array;
}

export class EvidenceBook {
  private readonly items: Array<WitnessedEvidence & { readonly offence: string }> = [];
  private readonly seen = new Set<string>();

  /**
   * Records a double vote by the node with key `accusedKey` (its id from `idOf`); other kinds
   * have no COMPLAIN form yet and are ignored. Returns whether it was new.
   */
  add(e: Equivocation, idOf: (keyHex: string) => number | undefined): boolean {
    if (e.kind !== "double-vote") return false;
    const accused = idOf(e.signer);
    const offence = `${e.signer}/${e.epoch}/${e.round}`;
    if (accused === undefined || this.seen.has(offence)) return false;
    this.seen.add(offence);
    const evidence = encodeEvidence({ kind: "double-vote", first: e.first, second: e.second });
    this.items.push({ accused, evidence, offence });
    if (this.items.length > MAX_WITNESSED_EVIDENCE) this.seen.delete(this.items.shift()!.offence);
    return true;
  }

  list(): WitnessedEvidence[] {
    return this.items.map(({ accused, evidence }) => ({ accused, evidence }));
  }
}
