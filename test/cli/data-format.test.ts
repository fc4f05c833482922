// A node refuses a data directory it cannot read correctly (node/data-format.ts), end to end:
// `arbor node` on a directory marked for another chain, or holding data with no marker, exits
// non-zero with the typed error as its one line on stderr, and `arbor up` shows that line and stops.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./helpers.js";
import { encodeMarker, DATA_FORMAT_VERSION, FORMAT_FILE } from "../../node/data-format.js";
import { LevelStore } from "../../node/store/level-store.js";
import { Partition } from "../../node/store/core/partition.js";
import { installNodeSha256 } from "../../node/platform.js";

installNodeSha256();
let root: string;
let dir: string;
const dataDir = () => join(dir, "node0");
const config = () => join(dir, "node0.json");

before(async () => {
  root = mkdtempSync(join(tmpdir(), "arbor-cli-format-"));
  dir = join(root, "cluster");
  const r = await run(["init", "--nodes", "1", "--base-port", "0", "--dir", dir]);
  assert.equal(r.code, 0, r.stderr);
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The error line a failed command ends with (a node may log warnings before it). */
const lastLine = (s: string) => s.trim().split("\n").at(-1) ?? "";

test("a node given a data directory of another chain exits 1 with store/wrong-chain; arbor up shows it", async () => {
  const other = new Uint8Array(32).fill(0xee);
  writeFileSync(join(dataDir(), FORMAT_FILE), encodeMarker({ format: DATA_FORMAT_VERSION, chain: other }));
  const r = await run(["node", "--config", config()]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    lastLine(r.stderr),
    /^arbor: store\/wrong-chain: the data directory .* belongs to chain eeeeeeeeeeeeeeee…/,
  );

  const up = await run(["up", "--dir", dir]);
  assert.equal(up.code, 1, up.stdout);
  assert.match(up.stdout, /node0 \| arbor: store\/wrong-chain: /);
  assert.match(up.stdout, /exited unexpectedly \(exit code 1\)/);
});

test("a node given a directory with data but no marker exits 1 with store/unknown-format", async () => {
  rmSync(dataDir(), { recursive: true, force: true });
  const store = await LevelStore.open(join(dataDir(), "store"), { partition: Partition.whole(), T: 4 });
  await store.close();
  const r = await run(["node", "--config", config()]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    lastLine(r.stderr),
    /^arbor: store\/unknown-format: .*written by an older version; re-sync or start from an empty directory$/,
  );
});
