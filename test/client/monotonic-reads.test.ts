// Monotonic reads: once a client has verified an answer at height h against a certified root, no
// later read, listing or history it returns is older than h (docs/protocol.md §8, "Fresh
// enough"). A holder still behind is refused as stale and another holder answers; with every
// holder behind, the read fails `client/stale` rather than go back in time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArborClient } from "../../client/index.js";
import { fakeNodes, serve, type ServeOptions } from "./fake-nodes.js";

const records = { "d/a": "1", "d/b": "2" };

test("after a certified read at height 5, answers of height 1 are refused: another holder answers, or the read fails stale", async () => {
  const f = fakeNodes(records);
  const client = await ArborClient.connect({ genesis: f.genesis });
  try {
    const opts: ServeOptions = { height: 5n };
    serve(client, f, opts);
    const first = await client.read(["d/a"]);
    assert.equal(first.statements[0]!.statement.height, 5n);
    // Every node but node 3 falls back to height 1 (a node restarted from an old disk, say).
    opts.heightOf = { 0: 1n, 1: 1n, 2: 1n };
    opts.height = 5n;
    for (let i = 0; i < 4; i++) {
      const r = await client.read(["d/b"]);
      assert.equal(r.statements.length, 1);
      assert.equal(r.statements[0]!.node, 3, "only node 3 is fresh enough");
      assert.equal(r.statements[0]!.statement.height, 5n);
    }
    // No holder at height 5 any more: refused, not answered from the past.
    opts.heightOf = { 0: 1n, 1: 1n, 2: 1n, 3: 1n };
    await assert.rejects(client.read(["d/a"], { timeoutMs: 400 }), { code: "client/stale" });
  } finally {
    client.close();
  }
});

test("an unverified client (verify: false) does not raise its floor from reads: a node cannot push it out of reach", async () => {
  const f = fakeNodes(records);
  const client = await ArborClient.connect({ genesis: f.genesis, verify: false });
  try {
    const opts: ServeOptions = { height: 1_000_000n };
    serve(client, f, opts);
    await client.read(["d/a"]);
    opts.height = 1n;
    const r = await client.read(["d/a"]);
    assert.equal(r.statements[0]!.statement.height, 1n);
  } finally {
    client.close();
  }
});
