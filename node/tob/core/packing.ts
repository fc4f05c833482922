// How a correct leader fills a block from its pool: light requests first, oldest first, then heavy
// ones in the share they may take, all within the block's gas budget. Ordering runs far ahead of
// execution, so both count the gas of every block ordered but not yet applied: at most
// HEAVY_GAS_PER_PROPOSAL of heavy work, and MAX_GAS_AHEAD of any, waits ahead of a request proposed
// now (a light request's limit counts too: an operation cheap so far may loop next). This
// is local policy (the others do not check it); the budget itself is also a rule of execution, so a
// faulty leader's block cannot make nodes run more than BLOCK_GAS_BUDGET either.

import {
  BLOCK_GAS_BUDGET,
  HEAVY_GAS_PER_PROPOSAL,
  MAX_GAS_AHEAD,
  TOB_MAX_BLOCK_BYTES,
} from "../../common/limits.js";
import type { Block } from "./types.js";

/** What packing knows of a request, computed once when it enters the pool. */
export interface RequestWeight {
  /** Gas it declares, counted against the block's budget (0: it never runs, e.g. a COMPLAIN). */
  readonly gas: bigint;
  /** What the weigher groups it by (the operation it calls), for `heavy`. */
  readonly group: string;
}

/** Tells the core how much a request weighs; the application's knowledge, not consensus. */
export interface RequestWeigher {
  weigh(req: Uint8Array): RequestWeight;
  /** Whether it waits behind light requests; asked at each proposal (a weigher may learn). */
  heavy(w: RequestWeight): boolean;
}

/** Every request weighs nothing and none is heavy: blocks are filled oldest first. */
export const WEIGHTLESS: RequestWeigher = {
  weigh: () => ({ gas: 0n, group: "" }),
  heavy: () => false,
};

export interface PackCandidate {
  readonly req: Uint8Array;
  readonly weight: RequestWeight;
}

/** Gas that blocks ordered but not yet applied declare: all of it, and their heavy requests'. */
export interface GasAhead {
  readonly gas: bigint;
  readonly heavy: bigint;
}

export const NOTHING_AHEAD: GasAhead = { gas: 0n, heavy: 0n };

const blockGas = new WeakMap<Block, GasAhead>();

/** What one block adds to the gas ahead, as the weigher saw it first (once per block). */
export function gasOfBlock(b: Block, weigher: RequestWeigher): GasAhead {
  let g = blockGas.get(b);
  if (g === undefined) {
    let gas = 0n;
    let heavy = 0n;
    for (const r of b.requests) {
      const w = weigher.weigh(r);
      gas += w.gas;
      if (weigher.heavy(w)) heavy += w.gas;
    }
    g = { gas, heavy };
    blockGas.set(b, g);
  }
  return g;
}

/** The gas ahead of a proposal extending `blocks` (the unapplied ones and the uncommitted path). */
export function gasAhead(blocks: Iterable<Block>, weigher: RequestWeigher): GasAhead {
  let gas = 0n;
  let heavy = 0n;
  for (const b of blocks) {
    const g = gasOfBlock(b, weigher);
    gas += g.gas;
    heavy += g.heavy;
  }
  return { gas, heavy };
}

/**
 * Picks the requests of a proposal from `candidates` (oldest first, already filtered for being in
 * flight or delivered): at most `maxRequests` and TOB_MAX_BLOCK_BYTES; light ones in order while
 * the budget lasts, then heavy ones while the budget and their share last — both counted with
 * the gas `ahead` (blocks ordered but not yet applied; all of it at most MAX_GAS_AHEAD). A request
 * that does not fit is skipped, so a lighter one behind it still can.
 */
export function pack(
  candidates: Iterable<PackCandidate>,
  weigher: RequestWeigher,
  maxRequests: number,
  ahead: GasAhead = NOTHING_AHEAD,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const heavy: PackCandidate[] = [];
  let bytes = 0;
  let gas = 0n;
  const fits = (c: PackCandidate, extra: bigint, bound: bigint): boolean =>
    bytes + c.req.length <= TOB_MAX_BLOCK_BYTES &&
    gas + c.weight.gas <= BLOCK_GAS_BUDGET &&
    ahead.gas + gas + c.weight.gas <= MAX_GAS_AHEAD &&
    extra <= bound;
  const take = (c: PackCandidate): void => {
    out.push(c.req);
    bytes += c.req.length;
    gas += c.weight.gas;
  };
  for (const c of candidates) {
    if (out.length + heavy.length >= maxRequests) break;
    if (weigher.heavy(c.weight)) heavy.push(c);
    else if (fits(c, 0n, 0n)) take(c);
  }
  let heavyGas = ahead.heavy;
  for (const c of heavy) {
    if (out.length >= maxRequests) break;
    if (!fits(c, heavyGas + c.weight.gas, HEAVY_GAS_PER_PROPOSAL)) continue;
    take(c);
    heavyGas += c.weight.gas;
  }
  return out;
}
