// The ops build is reproducible (issue 3): compiling the same sources twice gives the same bytes,
// hence the same code hash, and the ops under test are the ones the current sources produce.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { toHex } from "../../node/common/bytes.js";
import { nodeSha256 } from "../../node/exec/host-crypto.js";
import { BUILD_DIR, ensureBuilt } from "./helpers.js";

function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".wasm")) out[relative(dir, p)] = toHex(nodeSha256(readFileSync(p)));
    }
  };
  walk(dir);
  return out;
}

/** Builds a system op and a banking op into `dir` (two of them keep the suite fast). */
function buildInto(dir: string): Promise<void> {
  const only = ["--only", "root_rule", "--only", "banking/ops/assembly/transfer"];
  const argv = ["scripts/build-ops.mjs", "--out", dir, "--quiet", ...only];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, (err, _out, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
    );
  });
}

test("two builds of the same sources give identical bytes, equal to build/ops", async () => {
  ensureBuilt();
  const a = mkdtempSync(join(tmpdir(), "arbor-ops-a-"));
  const b = mkdtempSync(join(tmpdir(), "arbor-ops-b-"));
  try {
    await Promise.all([buildInto(a), buildInto(b)]);
    const ha = hashes(a);
    assert.equal(Object.keys(ha).length, 2);
    assert.deepEqual(hashes(b), ha);
    const built = hashes(BUILD_DIR);
    for (const [name, h] of Object.entries(ha))
      assert.equal(built[name], h, `build/ops/${name} is stale: run npm run build:ops`);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
