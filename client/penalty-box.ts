// Nodes a client avoids for a while: one whose read answer did not cover what was asked (a stub on
// an asked key's path) or carried a malformed proof, or that left a write's admission call hanging. It is asked last, not
// never: the sentence doubles with each offence up to a cap, and a node that stayed out of trouble
// for a while starts again from the shortest one. One entry per node id: bounded by the genesis.

/** The first sentence. */
export const AVOID_BASE_MS = 2_000;
/** The longest sentence (offences beyond that many doublings add nothing). */
export const AVOID_MAX_MS = 60_000;

export class PenaltyBox {
  private readonly sentences = new Map<number, { until: number; strikes: number }>();

  /** Avoids `node` for a while: twice as long as last time, if its last sentence ended recently. */
  avoid(node: number, now = Date.now()): void {
    const s = this.sentences.get(node);
    const repeat = s !== undefined && now < s.until + AVOID_MAX_MS;
    const strikes = repeat ? s.strikes + 1 : 1;
    const ms = Math.min(AVOID_MAX_MS, AVOID_BASE_MS * 2 ** Math.min(strikes - 1, 16));
    // A node already serving a sentence gets the longer of the two.
    const until = Math.max(now + ms, s?.until ?? 0);
    this.sentences.set(node, { until, strikes });
  }

  isAvoided(node: number, now = Date.now()): boolean {
    return (this.sentences.get(node)?.until ?? 0) > now;
  }

  /** The nodes avoided now, ascending. */
  avoided(now = Date.now()): number[] {
    return [...this.sentences.keys()].filter((id) => this.isAvoided(id, now)).sort((a, b) => a - b);
  }

  /** `ids` in their order, the avoided ones moved to the end. */
  order(ids: readonly number[], now = Date.now()): number[] {
    return [...ids.filter((id) => !this.isAvoided(id, now)), ...ids.filter((id) => this.isAvoided(id, now))];
  }
}
