// A key no node could hold (empty, past MAX_KEY_BYTES) fails at once with its own code, not after
// the read's retries have used up the call's deadline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArborClient } from "../../client/index.js";
import { fakeNodes, serve } from "./fake-nodes.js";

test("a read of an empty or too long key is refused at once, before any node is asked", async () => {
  const f = fakeNodes({ "d/a": "1" });
  const client = await ArborClient.connect({ genesis: f.genesis });
  try {
    const calls = serve(client, f);
    for (const [key, code] of [
      ["x".repeat(1025), "key/too-long"],
      ["", "key/empty"],
    ] as const) {
      // The call's deadline is a minute: a refusal that waited for it would lose the race.
      const settled = await Promise.race([
        client.read(["d/a", key], { timeoutMs: 60_000 }).then(
          () => "read",
          (e: { code?: string }) => e.code,
        ),
        new Promise((r) => setTimeout(() => r("still waiting"), 5_000)),
      ]);
      assert.equal(settled, code);
    }
    assert.deepEqual(calls.gets, [0, 0, 0, 0]);
  } finally {
    client.close();
  }
});
