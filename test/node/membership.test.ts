// The validator schedule: evictions take effect at their height, at most TOB_MAX_SCHEDULED_EPOCHS
// changes wait at once, the last validator is never evicted, and the schedule round-trips.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Membership, decodeSchedule, encodeSchedule } from "../../node/membership.js";
import { TOB_MAX_SCHEDULED_EPOCHS } from "../../node/common/limits.js";
import { toHex } from "../../node/common/bytes.js";

const nodes = Array.from({ length: 8 }, (_, id) => ({
  id,
  publicKey: new Uint8Array(32).fill(id + 1),
  address: `127.0.0.1:${7000 + id}`,
  prefixes: [""],
}));

test("evictions: effective heights, pending bound, last validator, encoding", () => {
  const m = new Membership(nodes);
  assert.equal(m.refuseEviction(5n, [3]), null);
  m.evict([3], 14n, 5n);
  assert.deepEqual(
    m.validatorsAt(13n).map((v) => v.id),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  assert.deepEqual(
    m.validatorsAt(14n).map((v) => v.id),
    [0, 1, 2, 4, 5, 6, 7],
  );
  assert.equal(m.allows(toHex(nodes[3]!.publicKey)), false, "refused from the decision on");
  assert.equal(m.left(3), true, "an evicted member has left");
  assert.equal(m.left(2), false, "a member has not");
  assert.equal(m.left(99), false, "an id that was never a member has not left");
  assert.equal(m.idOfKey(toHex(nodes[3]!.publicKey)), 3);
  for (let i = 1; i < TOB_MAX_SCHEDULED_EPOCHS; i++) m.evict([3 + i], BigInt(14 + i), BigInt(5 + i));
  const why = m.refuseEviction(9n, [7]);
  assert.match(why ?? "", /pending/);
  assert.equal(m.refuseEviction(14n, [7]), null, "one change took effect: room again");
  assert.match(m.refuseEviction(20n, [0, 1, 2, 7]) ?? "", /no validator/);
  assert.match(
    m.refuseEviction(20n, [3]) ?? "",
    /node 3 is not in the latest validator set/,
    "a node already out of the set is not evicted again (a removed one likewise)",
  );
  const back = new Membership(nodes, decodeSchedule(encodeSchedule(m.schedule)));
  assert.deepEqual(back.schedule, m.schedule);
  assert.deepEqual([...back.evicted()].sort(), [3, 4, 5, 6]);
});
