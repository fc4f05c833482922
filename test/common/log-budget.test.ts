// LogBudget: at most N lines per window; the lines held back are counted and handed to the next
// line written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LogBudget } from "../../node/common/log-budget.js";

test("at most perWindow lines per window, the rest counted and summed up on the next line", () => {
  const b = new LogBudget(3, 1000);
  const allowed = Array.from({ length: 10 }, (_, i) => b.allow(i));
  assert.deepEqual(allowed, [true, true, true, false, false, false, false, false, false, false]);
  assert.equal(b.allow(1000), true, "a new window");
  assert.equal(b.takeSuppressed(), 7);
  assert.equal(b.takeSuppressed(), 0);
});
