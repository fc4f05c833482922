// Which holder a read asks first: the one that has answered this client's reads fastest so far (a
// moving average per node; a node not yet asked counts as fastest, so each gets tried). When the
// holder asked has not answered within a few times its usual time, the read asks the next one too.
// One entry per node id: bounded by the genesis.

/** Weight of the newest sample in a node's moving average. */
const SPEED_WEIGHT = 0.2;
/** A holder is given this many times its usual answer time before the next one is asked too. */
const HEDGE_FACTOR = 4;
/** ... but never less than this (a quick node briefly busy is not passed over) ... */
export const READ_HEDGE_MIN_MS = 150;
/** ... nor more than this (a node that stopped answering delays a read by at most this). */
export const READ_HEDGE_MAX_MS = 1_000;

export class HolderChoice {
  private readonly ms = new Map<number, number>();

  /** A read answered by `node` in `ms` (a failed or hedged-over call: the time it was given). */
  record(node: number, ms: number): void {
    const old = this.ms.get(node);
    this.ms.set(node, old === undefined ? ms : old + (ms - old) * SPEED_WEIGHT);
  }

  /** `ids`, fastest first (a node never measured first of all; ties keep their order). */
  rank(ids: readonly number[]): number[] {
    return ids
      .map((id, i) => ({ id, i, ms: this.ms.get(id) ?? 0 }))
      .sort((a, b) => a.ms - b.ms || a.i - b.i)
      .map((x) => x.id);
  }

  /** How long a read waits for `node` before it asks the next holder too. */
  hedgeMs(node: number): number {
    const usual = this.ms.get(node) ?? 0;
    return Math.min(READ_HEDGE_MAX_MS, Math.max(READ_HEDGE_MIN_MS, usual * HEDGE_FACTOR));
  }
}
