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
  /**
   * What it counts against the block's budget and the shares: the gas it declares, or its module's
   * size if more (0: it never runs, e.g. a COMPLAIN); a weigher may count more (its size).
   */
  readonly gas: bigint;
  /** Its weight under the block's rule, when the weigher counts more than that in `gas`. */
  readonly declared?: bigint;
  /** What the weigher groups it by (the operation it calls), for `heavy`. */
  readonly group: string;
  /** The last height it may apply at (its signed lifetime), if the weigher knows it. */
  readonly validUntil?: bigint;
}

/** A request past its lifetime at `height` is decided `expired` there without running. */
function expiredAt(w: RequestWeight, height: bigint): boolean {
  return w.validUntil !== undefined && w.validUntil < height;
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
  /** the core's tick when it arrived */
  readonly since: number;
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
    const height = BigInt(b.height);
    for (const r of b.requests) {
      const w = weigher.weigh(r);
      if (expiredAt(w, height)) continue;
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

/** The two classes of candidates, each oldest first (pool.ts keeps them apart). */
export interface Candidates {
  readonly light: Iterable<PackCandidate>;
  readonly heavy: Iterable<PackCandidate>;
}

/** Where a proposal stands: what waits ahead of it, its height, the core's clock. */
export interface PackContext {
  readonly maxRequests: number;
  /** gas of the blocks ordered but not yet applied (gasAhead) */
  readonly ahead?: GasAhead;
  /** the proposal's height: a request past its lifetime there weighs nothing */
  readonly height?: number;
  /** the core's tick now, and how long a heavy request may be kept out of blocks with light ones */
  readonly now?: number;
  readonly heavyWaitTicks?: number;
}

/**
 * Picks the requests of a proposal (candidates already filtered for being in flight or delivered):
 * at most `maxRequests` and TOB_MAX_BLOCK_BYTES.
 *
 * - Light ones in order while the block's gas budget lasts.
 * - Then heavy ones (light ones the weigher has learned to be heavy since they arrived first)
 *   while the budget and their share last, counted with the gas `ahead` (blocks ordered but not
 *   yet applied; all of it at most MAX_GAS_AHEAD). One that arrived heavy and is now judged light
 *   takes no share. A block that carries light requests carries heavy ones only once the oldest
 *   has waited `heavyWaitTicks`: a block's receipts are certified when the whole block is applied,
 *   so a light request beside a heavy one would wait for it.
 * - A request that does not fit is skipped, so a lighter one behind it still can; each class is
 *   scanned for at most `maxRequests` skipped or deferred ones (a pool full of requests that do
 *   not fit costs a proposal a bounded scan).
 * - A request past its lifetime at `height` weighs nothing: it is proposed to be decided
 *   `expired`, which is how the pool gets rid of a flood that outlived its requests.
 */
export function pack(candidates: Candidates, weigher: RequestWeigher, at: PackContext): Uint8Array[] {
  const { maxRequests, ahead = NOTHING_AHEAD, height = 0, now = 0, heavyWaitTicks = 0 } = at;
  const atHeight = BigInt(height);
  const out: Uint8Array[] = [];
  const deferred: PackCandidate[] = [];
  let bytes = 0;
  let gas = 0n;
  const gasOf = (c: PackCandidate): bigint => (expiredAt(c.weight, atHeight) ? 0n : c.weight.gas);
  const fits = (c: PackCandidate, extra: bigint, bound: bigint): boolean =>
    bytes + c.req.length <= TOB_MAX_BLOCK_BYTES &&
    gas + gasOf(c) <= BLOCK_GAS_BUDGET &&
    ahead.gas + gas + gasOf(c) <= MAX_GAS_AHEAD &&
    extra <= bound;
  const take = (c: PackCandidate): void => {
    out.push(c.req);
    bytes += c.req.length;
    gas += gasOf(c);
  };
  let passed = 0;
  for (const c of candidates.light) {
    if (out.length >= maxRequests || passed >= maxRequests) break;
    if (weigher.heavy(c.weight) && !expiredAt(c.weight, atHeight)) {
      deferred.push(c);
      passed++;
    } else if (fits(c, 0n, 0n)) take(c);
    else passed++;
  }
  const light = out.length > 0;
  let heavyGas = ahead.heavy;
  passed = 0;
  for (const list of [deferred, candidates.heavy])
    for (const c of list) {
      if (out.length >= maxRequests || passed >= maxRequests) break;
      // One that arrived heavy may since have been learned light (its operation is cheap).
      const share = weigher.heavy(c.weight) ? gasOf(c) : 0n;
      const held = share > 0n && light && now - c.since < heavyWaitTicks;
      if (held || !fits(c, heavyGas + share, HEAVY_GAS_PER_PROPOSAL)) {
        passed++;
        continue;
      }
      take(c);
      heavyGas += share;
    }
  return out;
}
