// One verified-header cache per process: a certified header is fetched and its certificate
// checked once per height, whichever ArborClient of the chain asks first; the others use it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArborClient } from "../../client/index.js";
import { verifiedHeaders } from "../../client/header-cache.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { fakeNodes, serve, sum } from "./fake-nodes.js";

test("two clients of one chain: the header of a height is fetched and verified once", async () => {
  const f = fakeNodes({ "d/a": "1" });
  const a = await ArborClient.connect({ genesis: f.genesis });
  const b = await ArborClient.connect({ genesis: f.genesis });
  try {
    const ca = serve(a, f);
    const cb = serve(b, f);
    const before = verifiedHeaders.verified;
    // Asked at once: the second waits for the first's fetch.
    const [ha, hb] = await Promise.all([a.certifiedHeader(1n), b.certifiedHeader(1n)]);
    assert.equal(verifiedHeaders.verified - before, 1, "one verification");
    assert.equal(sum(ca.headers) + sum(cb.headers), 1, "one fetch");
    assert.ok(bytesEqual(ha.header.root, f.tree.rootLabel));
    assert.equal(hb, ha);
    // Later reads of either client use it.
    await a.read(["d/a"]);
    await b.read(["d/a"]);
    assert.equal(verifiedHeaders.verified - before, 1);
    assert.equal(sum(ca.headers) + sum(cb.headers), 1);
  } finally {
    a.close();
    b.close();
  }
});

test("another chain does not share it", async () => {
  const f = fakeNodes({ "d/a": "1" });
  const g = fakeNodes({ "d/a": "1" });
  const a = await ArborClient.connect({ genesis: f.genesis });
  const b = await ArborClient.connect({ genesis: g.genesis });
  try {
    serve(a, f);
    const cb = serve(b, g);
    await a.certifiedHeader(1n);
    const h = await b.certifiedHeader(1n);
    assert.equal(sum(cb.headers), 1);
    assert.ok(bytesEqual(h.header.chain, b.chain));
  } finally {
    a.close();
    b.close();
  }
});
