// How a correct leader fills a block (node/tob/core/packing.ts): light requests first and oldest
// first, heavy ones after them in a bounded share, the block's gas budget and byte bound never
// passed, and a request that does not fit never keeps a lighter one behind it out.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  gasAhead,
  pack,
  WEIGHTLESS,
  type GasAhead,
  type PackCandidate,
  type RequestWeigher,
} from "../../node/tob/core/packing.js";
import type { Block } from "../../node/tob/core/types.js";
import {
  BLOCK_GAS_BUDGET,
  HEAVY_GAS_PER_PROPOSAL,
  LIGHT_REQUEST_GAS,
  MAX_GAS_AHEAD,
  MAX_GAS_LIMIT,
  TOB_MAX_BLOCK_BYTES,
} from "../../node/common/limits.js";

/** Heavy: declared past LIGHT_REQUEST_GAS, or in group "slow". */
const weigher: RequestWeigher = {
  weigh: () => ({ gas: 0n, group: "" }),
  heavy: (w) => w.gas > LIGHT_REQUEST_GAS || w.group === "slow",
};

let serial = 0;
function req(gas: bigint, group = "op", bytes = 8): PackCandidate {
  const r = new Uint8Array(bytes);
  new DataView(r.buffer).setUint32(0, serial++);
  return { req: r, weight: { gas, group }, since: 0 };
}
/** As the pool hands them over: split by class at arrival, each in order. */
const pk = (all: readonly PackCandidate[], w: RequestWeigher, max: number, ahead?: GasAhead) =>
  pack({ light: all.filter((c) => !w.heavy(c.weight)), heavy: all.filter((c) => w.heavy(c.weight)) }, w, {
    maxRequests: max,
    ...(ahead ? { ahead } : {}),
  });
const ids = (out: Uint8Array[], all: PackCandidate[]) => out.map((r) => all.findIndex((c) => c.req === r));

test("heavy requests wait behind light ones and share at most HEAVY_GAS_PER_PROPOSAL", () => {
  const all = [
    req(MAX_GAS_LIMIT),
    req(MAX_GAS_LIMIT),
    req(10_000_000n),
    req(5_000n, "slow"),
    req(10_000_000n),
  ];
  // Light ones (2, 4) in order, then the first heavy one; the second and the slow one are past the share.
  assert.deepEqual(ids(pk(all, weigher, 100), all), [2, 4, 0]);
});

test("gas waiting in blocks not yet applied counts: heavy share first, then everything", () => {
  /** A weigher reading a request's first byte as tens of millions of gas, heavy when odd. */
  const byByte: RequestWeigher = {
    weigh: (r) => ({ gas: BigInt(r[0]!) * 10_000_000n, group: "" }),
    heavy: (w) => (w.gas / 10_000_000n) % 2n === 1n,
  };
  const block = (...tens: number[]) =>
    ({ height: 1, requests: tens.map((t) => new Uint8Array([t])) }) as unknown as Block;
  const ahead = gasAhead([block(2, 1), block(4)], byByte);
  assert.deepEqual(ahead, { gas: 70_000_000n, heavy: 10_000_000n });
  // A heavy request of the whole share no longer fits behind 10M of heavy gas; light ones do.
  const all = [req(MAX_GAS_LIMIT), req(0n), req(LIGHT_REQUEST_GAS)];
  assert.deepEqual(ids(pk(all, weigher, 10, ahead), all), [1, 2]);
  assert.deepEqual(ids(pk(all, weigher, 10), all), [1, 2, 0]);
  // Nothing with gas fits once MAX_GAS_AHEAD waits; a request that declares none still does.
  assert.deepEqual(ids(pk(all, weigher, 10, { gas: MAX_GAS_AHEAD, heavy: 0n }), all), [1]);
});

test("a request that does not fit is skipped, not a wall", () => {
  const heavyFirst = [req(MAX_GAS_LIMIT), req(MAX_GAS_LIMIT), req(1n, "slow")];
  assert.deepEqual(ids(pk(heavyFirst, weigher, 100), heavyFirst), [0]);
  const n = Number(BLOCK_GAS_BUDGET / LIGHT_REQUEST_GAS);
  const light = Array.from({ length: n + 3 }, () => req(LIGHT_REQUEST_GAS));
  const tiny = req(0n);
  const out = pk([...light, tiny], weigher, 100_000);
  assert.equal(out.length, n + 1, "the budget's worth of light requests, then the one that declares nothing");
  assert.equal(out[out.length - 1], tiny.req);
});

test("a light request is found behind any number of heavy ones; one learned heavy since waits with them", () => {
  const heavy = Array.from({ length: 5000 }, () => req(MAX_GAS_LIMIT));
  const light = req(1_000n);
  const turned = req(1_000n, "slow"); // arrived light, the weigher has learned it is heavy
  const out = pack({ light: [turned, light], heavy }, weigher, { maxRequests: 100 });
  assert.deepEqual(out, [light.req, turned.req], "the light one, then the learned one first among the heavy");
});

test("a request past its lifetime at the proposal's height weighs nothing: the pool sheds it", () => {
  const stale = { ...req(MAX_GAS_LIMIT), weight: { gas: MAX_GAS_LIMIT, group: "op", validUntil: 9n } };
  const live = req(MAX_GAS_LIMIT);
  const full = { gas: 0n, heavy: HEAVY_GAS_PER_PROPOSAL };
  // At height 10 the stale one will be decided `expired` without running: it goes in whatever waits.
  assert.deepEqual(
    pack({ light: [], heavy: [stale, live] }, weigher, { maxRequests: 10, ahead: full, height: 10 }),
    [stale.req],
  );
  // At height 9 it may still run, and counts.
  assert.deepEqual(
    pack({ light: [], heavy: [stale, live] }, weigher, { maxRequests: 10, ahead: full, height: 9 }),
    [],
  );
  const b = (h: number) => ({ height: h, requests: [stale.req] }) as unknown as Block;
  const byReq: RequestWeigher = { weigh: () => stale.weight, heavy: () => true };
  assert.deepEqual(gasAhead([b(10)], byReq), { gas: 0n, heavy: 0n });
  assert.deepEqual(gasAhead([b(9)], byReq), { gas: MAX_GAS_LIMIT, heavy: MAX_GAS_LIMIT });
});

test("a request that arrived heavy and is now judged light takes none of the heavy share", () => {
  const learned = req(LIGHT_REQUEST_GAS); // in the heavy class, but light by the weigher now
  const heavy = req(MAX_GAS_LIMIT);
  const full = { gas: 0n, heavy: HEAVY_GAS_PER_PROPOSAL };
  assert.deepEqual(pack({ light: [], heavy: [heavy, learned] }, weigher, { maxRequests: 10, ahead: full }), [
    learned.req,
  ]);
});

test("a block with light requests carries a heavy one only once it has waited heavyWaitTicks", () => {
  const light = req(1_000n);
  const heavy = { ...req(MAX_GAS_LIMIT), since: 100 };
  const at = (now: number) => ({ maxRequests: 10, now, heavyWaitTicks: 50 });
  assert.deepEqual(pack({ light: [light], heavy: [heavy] }, weigher, at(149)), [light.req]);
  assert.deepEqual(pack({ light: [light], heavy: [heavy] }, weigher, at(150)), [light.req, heavy.req]);
  // Without light ones it goes at once.
  assert.deepEqual(pack({ light: [], heavy: [heavy] }, weigher, at(100)), [heavy.req]);
});

test("without a weigher, blocks are the oldest requests within the byte bound", () => {
  const big = Array.from({ length: 3 }, () => req(0n, "", TOB_MAX_BLOCK_BYTES / 2 - 64));
  const all = [big[0]!, big[1]!, big[2]!, req(0n)];
  assert.deepEqual(ids(pk(all, WEIGHTLESS, 10), all), [0, 1, 3]);
  assert.deepEqual(ids(pk(all, WEIGHTLESS, 1), all), [0]);
});

test("property: budget, share, order and greed hold for any pool", () => {
  const candidate = fc
    .tuple(fc.oneof(fc.bigInt(0n, LIGHT_REQUEST_GAS), fc.bigInt(0n, MAX_GAS_LIMIT)), fc.boolean())
    .map(([gas, slow]) => req(gas, slow ? "slow" : "op"));
  fc.assert(
    fc.property(fc.array(candidate, { maxLength: 600 }), fc.integer({ min: 1, max: 700 }), (all, max) => {
      const out = pk(all, weigher, max);
      const picked = new Set(out);
      const at = ids(out, all);
      const isHeavy = (i: number) => weigher.heavy(all[i]!.weight);
      const gas = at.reduce((s, i) => s + all[i]!.weight.gas, 0n);
      const heavyGas = at.filter(isHeavy).reduce((s, i) => s + all[i]!.weight.gas, 0n);
      assert.ok(out.length <= max);
      assert.ok(gas <= BLOCK_GAS_BUDGET);
      assert.ok(heavyGas <= HEAVY_GAS_PER_PROPOSAL);
      // Light ones first, then heavy ones, each class in pool order.
      const firstHeavy = at.findIndex(isHeavy);
      if (firstHeavy >= 0) assert.ok(at.slice(firstHeavy).every(isHeavy));
      for (let k = 1; k < at.length; k++)
        if (isHeavy(at[k]!) === isHeavy(at[k - 1]!)) assert.ok(at[k]! > at[k - 1]!);
      // Greedy: a light request left out (while the count allowed) did not fit in the budget then.
      if (all.length < max) {
        let used = 0n;
        for (const c of all) {
          if (weigher.heavy(c.weight)) continue;
          if (picked.has(c.req)) used += c.weight.gas;
          else assert.ok(used + c.weight.gas > BLOCK_GAS_BUDGET, "a light request that fit was left out");
        }
      }
    }),
    { numRuns: 200 },
  );
});
