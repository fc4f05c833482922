// The validator sets of a chain over heights, as someone who trusts only the genesis learns them:
// the genesis set, then one entry per validator-set change, each taken from a transition header
// certified by the set in force at its height (so a node can withhold a change, never invent one).
// Certificates of later headers are checked against the set this history gives for their height.
// The client SDK and a node syncing from a snapshot use it with their own verifier.

import type { SignatureVerifier } from "../common/signature-verifier.js";
import { validatorsOf, type Genesis } from "./genesis.js";
import type { Validator } from "./header.js";
import { checkTransition, type Transition } from "./transition.js";

export class ValidatorSets {
  /** [first height, set], ascending; entry e is consensus epoch e */
  private readonly sets: Array<[bigint, Validator[]]>;
  /** height of the newest transition learned */
  private decidedUpTo = 0n;

  /** `fail` throws the caller's error for a transition that does not verify. */
  constructor(
    genesis: Genesis,
    private readonly chain: Uint8Array,
    private readonly verifier: SignatureVerifier,
    private readonly fail: (why: string) => never,
  ) {
    this.sets = [[1n, validatorsOf(genesis)]];
  }

  setAt(height: bigint): Validator[] {
    let s = this.sets[0]![1];
    for (const [from, set] of this.sets) if (from <= height) s = set;
    return s;
  }

  /** The ordered keys of consensus epoch `e`, if learned. */
  epochKeys(e: number): Uint8Array[] | undefined {
    return this.sets[e]?.[1]
      .slice()
      .sort((a, b) => a.id - b.id)
      .map((v) => v.publicKey);
  }

  /** Transitions are asked from this height on (exclusive). */
  get learnedUpTo(): bigint {
    return this.decidedUpTo;
  }

  /** Adds transitions (ascending, decided after `learnedUpTo`), each verified; throws on a bad one. */
  learn(transitions: readonly Transition[]): void {
    for (const t of transitions) {
      const { header: c, next } = checkTransition(
        t,
        this.chain,
        this.decidedUpTo,
        null,
        (h) => this.setAt(h),
        this.verifier,
        this.fail,
      );
      this.sets.push([c.header.nextFromHeight, next]);
      this.decidedUpTo = c.header.height;
    }
  }
}
