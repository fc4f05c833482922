// What receipt subscriptions may leave unsent: each at most its own bound, all together at most
// the node's; a subscriber past either is refused more, and what it holds counts until its stream
// is gone (so idle subscribers cannot make the node hold more than the budget).
import { test } from "node:test";
import assert from "node:assert/strict";
import { SubscriptionBacklog } from "../../node/subscription-backlog.js";

test("a subscription holds at most its own bound unsent; sent bytes make room again", () => {
  const b = new SubscriptionBacklog(100, 1000);
  const a = b.open();
  assert.equal(a.take(60), true);
  assert.equal(a.take(60), false, "past its own bound");
  a.sent(60);
  assert.equal(a.take(60), true, "room again once sent");
  assert.equal(b.pending, 60);
});

test("all subscriptions together hold at most the node's bound; a gone stream lets go of its bytes", () => {
  const b = new SubscriptionBacklog(100, 250);
  const idle = [b.open(), b.open()];
  for (const s of idle) assert.equal(s.take(100), true);
  const reader = b.open();
  assert.equal(reader.take(40), true);
  assert.equal(reader.take(40), false, "the node's budget is spent");
  assert.equal(b.pending, 240);
  idle[0]!.close();
  assert.equal(b.pending, 140);
  assert.equal(reader.take(40), true);
  // A write that completes after its stream is gone is not counted twice.
  idle[0]!.sent(100);
  assert.equal(b.pending, 180);
  assert.equal(idle[0]!.take(1), false, "a closed subscription takes nothing");
});
