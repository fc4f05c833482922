// The block log's retention in bytes: the floor is the oldest block of the smallest newest run of
// blocks that reaches the budget, nothing is known to be outside it until the budget is reached,
// and a restarted shell finds the same floor from the blocks it reads back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { RetainedBytes } from "../../node/tob/retained-bytes.js";
import { deliverOne, openSolo } from "./solo-shell.js";
import type { Delivery } from "../../node/tob/core/index.js";

test("retained bytes: 0 until the budget is reached, then the oldest block the budget needs", () => {
  const r = new RetainedBytes(100, 1000);
  r.add(1, 40);
  r.add(2, 40);
  assert.equal(r.floor(), 0, "80 of 100 bytes: nothing is outside the budget");
  r.add(3, 40);
  assert.equal(r.floor(), 1, "blocks 1–3 reach 100 bytes");
  r.add(4, 60);
  assert.equal(r.floor(), 3, "blocks 3–4 reach 100 bytes: 1 and 2 are outside");
  r.add(4, 500);
  assert.equal(r.floor(), 3, "a height seen again is ignored");
  r.add(5, 500);
  assert.equal(r.floor(), 5, "one block larger than the budget keeps only itself");
  assert.throws(() => new RetainedBytes(0, 10), RangeError);
});

test("retained bytes: the floor is the smallest newest run that reaches the budget (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5000 }),
      fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 3000 }),
      (budget, sizes) => {
        const r = new RetainedBytes(budget, 100_000);
        sizes.forEach((s, i) => r.add(i + 1, s));
        let sum = 0;
        let expected = 0;
        for (let i = sizes.length - 1; i >= 0; i--) {
          sum += sizes[i]!;
          if (sum >= budget) {
            expected = i + 1;
            break;
          }
        }
        // Ties: a zero-byte block just below the run is not needed either; the floor is the
        // highest height whose run reaches the budget.
        assert.equal(r.floor(), expected);
      },
    ),
  );
});

test("retained bytes: at most the bound of entries are tracked", () => {
  const r = new RetainedBytes(1_000_000, 10);
  for (let h = 1; h <= 5000; h++) r.add(h, 1);
  assert.equal(r.bytes, 10);
  assert.equal(r.floor(), 0, "the entry bound is not the byte budget: nothing is outside it");
});

test("retained bytes: a restarted shell finds the floor again from the blocks it reads back", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-retained-"));
  const budget = 3000;
  try {
    const got: Delivery[] = [];
    let shell = await openSolo(dir, 0, got, budget);
    assert.equal(shell.retainedFloor, 0);
    for (let i = 0; i < 12; i++) await deliverOne(shell, got, `request ${i} `.padEnd(1000, "x"));
    const floor = shell.retainedFloor;
    const top = shell.status().deliveredHeight;
    assert.ok(floor > 1 && floor < top, `floor ${floor} below the top ${top}, above the first block`);
    await shell.close();
    shell = await openSolo(dir, top, [], budget);
    assert.equal(shell.retainedFloor, floor, "the same floor after a restart");
    await shell.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
