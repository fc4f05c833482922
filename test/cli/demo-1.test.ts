// The banking demo against a 1-node cluster (made by `arbor init --nodes 1`, run by `arbor up`),
// reached by --endpoints and a fresh key (nothing taken from the cluster directory): it must create
// the domain itself, end the books with money conserved, and close with alice's verified history and
// the verified list of accounts.
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
  // It ends with alice's verified history (open 0, mint 1000, -250, -100, then +80 when carol's
  // transfer to alice won the race) and the verified list of this run's accounts.
  const suffix = /accounts of this run end in -([0-9a-f]{4})/.exec(r.stdout)![1]!;
  const tail = r.stdout.slice(r.stdout.indexOf("[10/10]"));
  assert.match(tail, new RegExp(`^\\[10/10\\] alice-${suffix}'s history and the list of accounts`));
  const balances = [...tail.matchAll(/#(\d)  height +\d+  balance (\d+)/g)].map((m) => [m[1], m[2]]);
  const carolToAlice = /carol -> alice 80: accepted/.test(r.stdout);
  assert.deepEqual(balances, [
    ...(carolToAlice ? [["5", "730"]] : []),
    ["4", "650"],
    ["3", "750"],
    ["2", "1000"],
    ["1", "0"],
  ]);
  assert.match(tail, new RegExp(`each one chained to bank/accounts/alice-${suffix}'s history head`));
  for (const a of ["alice", "bob", "carol", "payer0", "payee0", "pool"])
    assert.match(tail, new RegExp(`^ +${a}-${suffix} +\\d+ change\\(s\\), last at height \\d+$`, "m"));
  assert.match(
    tail,
    /12 account\(s\) under bank\/accounts\/, 12 of this run: the listing is proven complete/,
  );
  assert.ok(r.stdout.trimEnd().endsWith("page by page"), "the listing is the demo's last line");
});
