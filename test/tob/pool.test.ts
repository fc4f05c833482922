// The pending pool (node/tob/core/pool.ts): heavy requests hold at most their share of it, so a
// burst of large requests is refused before light ones are; removing one gives its room back.

import { test } from "node:test";
import assert from "node:assert/strict";
import { RequestPool } from "../../node/tob/core/pool.js";
import type { RequestWeigher } from "../../node/tob/core/packing.js";
import { LimitError } from "../../node/common/errors.js";
import { TOB_MAX_PENDING_HEAVY_BYTES } from "../../node/common/limits.js";

/** Heavy: over 10 KB, as a leader weighing sizes judges it. */
const bySize: RequestWeigher = {
  weigh: (req) => ({ gas: BigInt(req.length), group: "" }),
  heavy: (w) => w.gas > 10_000n,
};

const MiB = 1024 * 1024;
let n = 0;
const req = (bytes: number): Uint8Array => {
  const r = new Uint8Array(bytes);
  new DataView(r.buffer).setUint32(0, ++n);
  return r;
};

test("heavy requests fill only their share; light ones still find room; a removal frees it", () => {
  const pool = new RequestPool(bySize);
  const heavy: string[] = [];
  for (let i = 0; i < TOB_MAX_PENDING_HEAVY_BYTES / MiB; i++) heavy.push(pool.add(req(MiB), 0, false)!);
  assert.throws(
    () => pool.add(req(MiB), 0, false),
    (e: unknown) => e instanceof LimitError && e.code === "tob/pool-full",
  );
  for (let i = 0; i < 100; i++) assert.ok(pool.add(req(1_000), 0, false), "a light request still fits");
  pool.remove(heavy[0]!);
  assert.ok(pool.add(req(MiB), 0, false), "the removed one's room is given back");
  assert.equal([...pool.heavyValues()].length, TOB_MAX_PENDING_HEAVY_BYTES / MiB);
  assert.equal([...pool.lightValues()].length, 100);
});
