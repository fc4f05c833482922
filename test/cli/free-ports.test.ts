// Ports for local clusters: never the same port twice from one process (two calls in a row used to
// get the port the first had just released), and below the kernel's ephemeral range, where another
// process's outgoing connection cannot take one before the node binds it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { freePorts } from "../../node/cli/cluster-files.js";

test("free ports are distinct across calls and outside the ephemeral range", async () => {
  const seen = new Set<number>();
  for (let i = 0; i < 50; i++) for (const p of await freePorts(4)) seen.add(p);
  assert.equal(seen.size, 200, "200 ports handed out, all different");
  for (const p of seen) assert.ok(p >= 20_000 && p < 32_000, `port ${p}`);
});
