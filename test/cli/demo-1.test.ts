// The banking demo against a 1-node cluster (made by `arbor init --nodes 1`, run by `arbor up`),
// reached by --endpoints and a fresh key (nothing taken from the cluster directory): it must create
// the domain itself and end with money conserved.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CliCluster, DEMO, run } from "./helpers.js";
import { genesisFromJson } from "../../node/ledger/genesis.js";

let c: CliCluster;

before(async () => {
  c = await CliCluster.create(1, 1);
  await c.start();
});

after(async () => {
  await c?.stop();
});

test("banking demo on one node, through --endpoints: domain created, double spend refused, money conserved", async () => {
  const g = genesisFromJson(readFileSync(join(c.dir, "genesis.json"), "utf8"));
  const r = await run(["--endpoints", g.nodes[0]!.address, "--rounds", "2"], {
    script: DEMO,
    timeoutMs: 240_000,
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /created domain "bank"/);
  assert.match(r.stdout, /carol -> (alice|bob) +80: record-changed/);
  assert.match(r.stdout, /refused \(trap: insufficient funds\)/);
  assert.match(r.stdout, /money conserved/);
});
