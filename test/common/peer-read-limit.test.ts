// The bound on storage reads caused by peers' requests: one per peer per interval, a fixed number
// in flight in total; requests past either are dropped, and a failed read frees its place.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PeerReadLimit } from "../../node/common/peer-read-limit.js";

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
}

test("one read per peer per interval; other peers are not held back by it", () => {
  let now = 1_000;
  const limit = new PeerReadLimit(10, 100, () => now);
  let reads = 0;
  const read = () => {
    reads++;
    return Promise.resolve();
  };
  assert.equal(limit.run("a", read), true);
  assert.equal(limit.run("a", read), false);
  assert.equal(limit.run("b", read), true);
  now += 99;
  assert.equal(limit.run("a", read), false);
  now += 1;
  assert.equal(limit.run("a", read), true);
  assert.equal(reads, 3);
});

test("at most maxInFlight reads at once, whoever asks; a finished or failed read frees its place", async () => {
  let now = 0;
  const limit = new PeerReadLimit(2, 100, () => now);
  const first = deferred();
  const second = deferred();
  assert.equal(
    limit.run("a", () => first.promise),
    true,
  );
  assert.equal(
    limit.run("b", () => second.promise),
    true,
  );
  assert.equal(
    limit.run("c", () => Promise.resolve()),
    false,
  );
  assert.equal(limit.reading, 2);
  first.resolve();
  second.reject(new Error("disk gone"));
  await new Promise((r) => setImmediate(r));
  assert.equal(limit.reading, 0);
  now += 100;
  assert.equal(
    limit.run("c", () => Promise.resolve()),
    true,
  );
});
