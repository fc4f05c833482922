// When a node decides it is behind every peer's block retention: f+1 peers past it that keep no
// block at or below its next height; f liars, peers not past it, or one still keeping the block
// (with only f others) do not set it off.
import { test } from "node:test";
import assert from "node:assert/strict";
import { behindRetention } from "../../node/resync-watch.js";

const peer = (height: bigint, oldestBlock: bigint) => ({ height, oldestBlock });

test("behind the retention needs f+1 peers ahead that pruned the next block", () => {
  // Applied 100: the next block is 101. With f = 1, f+1 = 2 peers must say so.
  assert.equal(behindRetention(100n, [peer(500n, 102n), peer(500n, 300n), peer(500n, 1n)], 2), true);
  assert.equal(
    behindRetention(100n, [peer(500n, 102n), peer(500n, 1n), peer(500n, 1n)], 2),
    false,
    "f alone",
  );
  assert.equal(behindRetention(100n, [peer(500n, 101n), peer(500n, 101n)], 2), false, "101 is still kept");
  assert.equal(behindRetention(100n, [peer(100n, 300n), peer(90n, 300n)], 2), false, "not past the node");
  assert.equal(behindRetention(100n, [], 1), false, "no answer");
  assert.equal(behindRetention(100n, [peer(500n, 200n)], 1), true, "f = 0: one is enough");
});
