// A node process starts with the malloc arena bound (docs/memory.md): spawners set it unless the
// operator chose a value, and a node started without it on Linux warns. Also: the leader packing knob.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { NODE_MALLOC_ARENAS } from "../../node/common/limits.js";
import { leaderPackingFromEnv, mallocArenaWarning, nodeProcessEnv } from "../../node/node-env.js";

test("nodeProcessEnv sets MALLOC_ARENA_MAX and keeps the rest", () => {
  const env = nodeProcessEnv({ PATH: "/bin", FOO: "1" });
  assert.equal(env.MALLOC_ARENA_MAX, String(NODE_MALLOC_ARENAS));
  assert.equal(env.FOO, "1");
  assert.equal(env.PATH, "/bin");
});

test("nodeProcessEnv keeps an operator's own value", () => {
  assert.equal(nodeProcessEnv({ MALLOC_ARENA_MAX: "4" }).MALLOC_ARENA_MAX, "4");
  assert.equal(nodeProcessEnv({ MALLOC_ARENA_MAX: "" }).MALLOC_ARENA_MAX, String(NODE_MALLOC_ARENAS));
});

test("a node without the bound warns on Linux only", () => {
  assert.match(mallocArenaWarning({}, "linux") ?? "", /MALLOC_ARENA_MAX/);
  assert.equal(mallocArenaWarning({ MALLOC_ARENA_MAX: "2" }, "linux"), undefined);
  assert.equal(mallocArenaWarning({}, "darwin"), undefined);
});

test("a spawned child sees the bound", () => {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(process.env.MALLOC_ARENA_MAX ?? '')"], {
    env: nodeProcessEnv({ PATH: process.env.PATH }),
  });
  assert.equal(r.stdout.toString(), String(NODE_MALLOC_ARENAS));
});

test("ARBOR_LEADER_PACKING: weighed by default, oldest on request, anything else refused", () => {
  assert.equal(leaderPackingFromEnv({}), "weighed");
  assert.equal(leaderPackingFromEnv({ ARBOR_LEADER_PACKING: "" }), "weighed");
  assert.equal(leaderPackingFromEnv({ ARBOR_LEADER_PACKING: "oldest" }), "oldest");
  assert.throws(() => leaderPackingFromEnv({ ARBOR_LEADER_PACKING: "fifo" }), /node\/bad-env|must be/);
});
