// The client's penalty box (client/penalty-box.ts): an offence avoids a node for AVOID_BASE_MS, a
// repeat soon after doubles it up to AVOID_MAX_MS, a node that stayed clean long enough starts over,
// and avoided nodes are ordered last rather than dropped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AVOID_BASE_MS, AVOID_MAX_MS, PenaltyBox } from "../../client/penalty-box.js";

test("sentences double on repeat offences, are capped, and start over after a clean stretch", () => {
  const box = new PenaltyBox();
  const t = 1_000_000;
  box.avoid(2, t);
  assert.ok(box.isAvoided(2, t + AVOID_BASE_MS - 1));
  assert.ok(!box.isAvoided(2, t + AVOID_BASE_MS));
  box.avoid(2, t + AVOID_BASE_MS);
  assert.ok(box.isAvoided(2, t + AVOID_BASE_MS + 2 * AVOID_BASE_MS - 1), "twice as long");
  let now = t + 3 * AVOID_BASE_MS;
  for (let i = 0; i < 20; i++) box.avoid(2, now);
  assert.ok(!box.isAvoided(2, now + AVOID_MAX_MS), "capped");
  now += AVOID_MAX_MS * 3;
  box.avoid(2, now);
  assert.ok(!box.isAvoided(2, now + AVOID_BASE_MS), "back to the first sentence");
  assert.deepEqual(box.order([0, 1, 2, 3], now), [0, 1, 3, 2]);
  assert.deepEqual(box.avoided(now), [2]);
});
