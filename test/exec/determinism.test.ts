// Determinism (issue 3, "must be shown" 3): the same operation on the same input gives byte-
// identical results and gas over 1,000 runs, after the compiled-module cache is dropped, and in
// fresh processes — including ones whose engine uses only its baseline or only its optimising
// compiler, and a smaller native stack.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { determinismCases } from "./determinism-cases.js";
import { createExecutor, digest } from "./helpers.js";

const cases = determinismCases();
const ex = createExecutor();
const expected: Record<string, string> = {};
for (const [name, req] of cases) expected[name] = digest(ex.execute(req));

test("1,000 runs give byte-identical results and gas", () => {
  for (const [name, req] of cases) {
    const runs = name === "loop" || name === "alloc" || name === "recursion" ? 100 : 1000;
    for (let i = 0; i < runs; i++) assert.equal(digest(ex.execute(req)), expected[name], `${name}, run ${i}`);
  }
});

test("results do not depend on the cache or on which calls came before", () => {
  const other = createExecutor({ cacheEntries: 1 }); // every switch of op recompiles
  for (let round = 0; round < 3; round++)
    for (const [name, req] of [...cases].reverse()) {
      assert.equal(digest(other.execute(req)), expected[name], name);
      if (round === 1) other.clearCache();
    }
});

test("fresh processes agree, whatever the engine tier and native stack size", () => {
  const child = join(process.cwd(), "dist", "test", "exec", "determinism-child.js");
  for (const flags of [[], ["--liftoff", "--no-wasm-tier-up"], ["--no-liftoff"], ["--stack-size=500"]]) {
    const r = spawnSync(process.execPath, [...flags, child], { encoding: "utf8" });
    assert.equal(r.status, 0, `${flags.join(" ")}: ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), expected, `flags ${flags.join(" ")}`);
  }
});
