// Fair slots (node/net/fair-slots.ts): a cap per address; at the total cap a newcomer from a less
// busy address takes the busiest address's oldest slot (its holder told to go), else is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FairSlots } from "../../node/net/fair-slots.js";

test("per-address cap, fair eviction at the total, idempotent release", () => {
  const s = new FairSlots(4, 3);
  const gone: string[] = [];
  const take = (host: string, name: string) => s.take(host, () => gone.push(name));
  const a = [take("a", "a0"), take("a", "a1"), take("a", "a2")];
  assert.ok(a.every((r) => typeof r === "function"));
  assert.equal(take("a", "a3"), "too-many-from-host");
  assert.equal(typeof take("b", "b0"), "function");
  assert.equal(s.count, 4);
  // Full: c holds none, a holds three: a's oldest goes.
  assert.equal(typeof take("c", "c0"), "function");
  assert.deepEqual(gone, ["a0"]);
  assert.equal(s.count, 4);
  (a[0] as () => void)(); // its holder leaves afterwards: nothing more is freed
  assert.equal(s.count, 4);
  // a (2) > d (0) + 1: a's next oldest goes; then a (1), b (1), c (1), d (1): e is refused.
  assert.equal(typeof take("d", "d0"), "function");
  assert.deepEqual(gone, ["a0", "a1"]);
  assert.equal(take("e", "e0"), "too-many");
  (a[2] as () => void)();
  assert.equal(s.count, 3);
  assert.equal(typeof take("e", "e0"), "function");
  assert.equal(s.evicted, 2);
});
