// Determinism (issue 3, "must be shown" 3): the same operation on the same input gives byte-
// identical results and gas over 1,000 runs, after the compiled-module cache is dropped, and in
// fresh processes — including ones whose engine uses only its baseline or only its optimising
// compiler, and a smaller native stack. Every run happens in a child process under a deadline: a
// metering bug that let a case run forever fails here, naming the case, instead of hanging the file.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

/** Longest one child may take; all of its runs take about a second on an idle machine. */
const CHILD_DEADLINE_MS = 180_000;
const CHILD = join(process.cwd(), "dist", "test", "exec", "determinism-child.js");

type Digests = Record<string, string[]>;

function runChild(flags: readonly string[], mode?: string): Digests {
  const args = [...flags, CHILD, ...(mode ? [mode] : [])];
  const r = spawnSync(process.execPath, args, {
    encoding: "utf8",
    timeout: CHILD_DEADLINE_MS,
    killSignal: "SIGKILL",
    maxBuffer: 16 << 20,
  });
  const last = r.stderr.trim().split("\n").slice(-3).join(" | ");
  assert.equal(
    r.signal,
    null,
    `${args.join(" ")}: killed (${r.signal}) after the deadline; last progress: ${last}`,
  );
  assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Digests;
}

const expected = runChild([]);

test("every case gives one result in a fresh process", () => {
  for (const [name, digests] of Object.entries(expected)) assert.equal(digests.length, 1, name);
  assert.ok(Object.keys(expected).length >= 8);
});

test("1,000 runs give byte-identical results and gas", () => {
  assert.deepEqual(runChild([], "--repeat"), expected);
});

test("results do not depend on the cache or on which calls came before", () => {
  assert.deepEqual(runChild([], "--cache"), expected);
});

test("fresh processes agree, whatever the engine tier and native stack size", () => {
  for (const flags of [["--liftoff", "--no-wasm-tier-up"], ["--no-liftoff"], ["--stack-size=500"]])
    assert.deepEqual(runChild(flags), expected, `flags ${flags.join(" ")}`);
});
