// A verified read asks one holder per group of keys and checks its answer against the certified
// root; another holder is asked only when that one fails (here: an answer that hides the records
// behind a stub, which also puts the node in the penalty box) or for the sampled cross-check. A
// proof the client only forwards (EXECUTE preparation) is not held up by a certificate once the node
// that serves it has been met.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArborClient } from "../../client/index.js";
import { CROSS_CHECK_EVERY } from "../../client/limits.js";
import { bytesEqual, utf8 } from "../../node/common/bytes.js";
import { fakeNodes, pause, serve, sum, type ServeOptions } from "./fake-nodes.js";

const records = { "d/a": "1", "d/b": "2", "d/op": "code" };

test("a read asks one holder; a second is not asked while the first answers correctly (apart from the sampled cross-check)", async () => {
  const f = fakeNodes(records);
  const client = await ArborClient.connect({ genesis: f.genesis });
  try {
    const calls = serve(client, f);
    // A client's first answers are cross-checked: each holder it has not met yet is asked once
    // more in the background (three reads meet all four holders).
    for (let i = 0; i < 3; i++) {
      const r = await client.read(["d/a", "d/b"]);
      assert.ok(bytesEqual(r.values.get("d/a")!, utf8("1")));
    }
    await pause(100);
    assert.ok(sum(calls.gets) <= 6, `warm-up: ${sum(calls.gets)} GETs`);
    const before = sum(calls.gets);
    // Until the next sampled cross-check (every CROSS_CHECK_EVERY-th answer), one GET per read.
    const reads = CROSS_CHECK_EVERY - 3;
    for (let i = 0; i < reads; i++) {
      const r = await client.read(["d/a", "d/b"]);
      assert.ok(bytesEqual(r.values.get("d/b")!, utf8("2")));
      assert.equal(r.statements.length, 1, "one answer");
    }
    await pause(100);
    assert.equal(sum(calls.gets) - before, reads, "one GET per read");
    assert.equal(sum(calls.headers), 1, "the certificate of height 1 checked once");
  } finally {
    client.close();
  }
});

test("a holder whose answer does not cover the keys is passed over and avoided; the next holder answers", async () => {
  const f = fakeNodes(records);
  const client = await ArborClient.connect({ genesis: f.genesis });
  try {
    // Node 0 is asked first by a client that has met no node yet.
    const calls = serve(client, f, { stubs: [0] });
    const r = await client.read(["d/a"]);
    assert.ok(bytesEqual(r.values.get("d/a")!, utf8("1")));
    assert.notEqual(r.statements[0]!.node, 0);
    assert.equal(calls.gets[0], 1);
    assert.deepEqual(client.avoided(), [0]);
    // Avoided: it is not asked first again.
    await pause(100);
    const at = calls.gets[0];
    await client.read(["d/b"]);
    assert.equal(calls.gets[0], at);
  } finally {
    client.close();
  }
});

test("a proof read only to be forwarded (prepare) does not wait for a certificate; a read shown to the user does", async () => {
  const f = fakeNodes(records);
  const client = await ArborClient.connect({ genesis: f.genesis });
  try {
    const opts: ServeOptions = {};
    serve(client, f, opts);
    // Each node's first answer is checked against a certified root (a liar is caught at once);
    // three reads and their cross-checks meet all four.
    for (let i = 0; i < 3; i++) await client.read(["d/a"]);
    await pause(100);
    // Height 2 is never certified.
    opts.height = 2n;
    opts.headers = "hang";
    const request = await client.prepare({ op: "d/op", touched: ["d/a", "d/b"], timeoutMs: 5_000 });
    assert.ok(request.length > 0);
    await assert.rejects(client.read(["d/a"], { timeoutMs: 300 }), { code: "client/no-certificate" });
  } finally {
    client.close();
  }
});
