// When reads are answered (node/read-gate.ts): never inside a block being applied (they wait for
// its end), after a minimum height once the node reaches it, and refused as busy beyond the bound.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ReadGate } from "../../node/read-gate.js";
import { MAX_DEFERRED_GETS } from "../../node/common/limits.js";

test("a read during a block waits for the block's end", () => {
  let height = 5n;
  const gate = new ReadGate(() => height);
  const answered: string[] = [];
  gate.admit(
    0n,
    () => answered.push("before"),
    () => answered.push("busy"),
  );
  gate.blockStarted();
  gate.admit(
    0n,
    () => answered.push("during"),
    () => answered.push("busy"),
  );
  assert.deepEqual(answered, ["before"]);
  height = 6n;
  gate.blockEnded();
  assert.deepEqual(answered, ["before", "during"]);
});

test("a read for a higher height is answered once a block reaches it", () => {
  let height = 5n;
  const gate = new ReadGate(() => height);
  const answered: bigint[] = [];
  gate.admit(
    7n,
    () => answered.push(height),
    () => assert.fail("busy"),
  );
  for (const h of [6n, 7n]) {
    gate.blockStarted();
    height = h;
    gate.blockEnded();
  }
  assert.deepEqual(answered, [7n]);
});

test("reads beyond the bound during a block are refused as busy, and abandoned ones never answer", () => {
  const gate = new ReadGate(() => 1n);
  let answered = 0;
  let busy = 0;
  gate.blockStarted();
  for (let i = 0; i < MAX_DEFERRED_GETS + 3; i++)
    gate.admit(
      0n,
      () => answered++,
      () => busy++,
    );
  assert.equal(busy, 3);
  gate.abandon();
  gate.blockEnded();
  assert.equal(answered, 0);
});
