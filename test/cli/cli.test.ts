// The `arbor` CLI end to end on a real 4-node cluster (k = 2) made by `arbor init` and run by
// `arbor up`: init's files, status --json, domain create, op build/check/deploy, exec with every
// --arg form, get --proof-out and exec --proof, exit codes of every error class, a second `up` on
// busy ports, and the banking demo reusing the domain the CLI created.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliCluster, DEMO, ROOT, run, runJson } from "./helpers.js";
import { genesisFromJson } from "../../node/ledger/genesis.js";
import { ASC_FLAGS } from "../../node/cli/op.js";

let c: CliCluster;
let scratch: string;
const acct = (n: string) => `bank/accounts/${n}`;
const hexOf = (s: string) => Buffer.from(s, "utf8").toString("hex");

before(async () => {
  c = await CliCluster.create(4, 2);
  scratch = mkdtempSync(join(tmpdir(), "arbor-cli-scratch-"));
  await c.start();
});

after(async () => {
  await c?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test("init writes keys (0600), a valid genesis with the system ops, node configs; refuses to overwrite without --force", async () => {
  const g = genesisFromJson(readFileSync(join(c.dir, "genesis.json"), "utf8"));
  assert.equal(g.nodes.length, 4);
  assert.equal(g.replication, 2);
  assert.deepEqual(g.records.map((r) => r.key).sort(), [".base_rule_template", ".root_rule"]);
  for (const f of ["node0.key", "node3.key", "client.key"]) {
    assert.equal(statSync(join(c.dir, f)).mode & 0o777, 0o600, f);
    assert.match(readFileSync(join(c.dir, f), "utf8"), /^[0-9a-f]{64}\n$/);
  }
  const cfg = JSON.parse(readFileSync(join(c.dir, "node2.json"), "utf8"));
  assert.deepEqual(
    [cfg.id, cfg.genesis, cfg.keyFile, cfg.dataDir],
    [2, "genesis.json", "node2.key", "node2"],
  );

  const dir = join(scratch, "again");
  assert.equal((await run(["init", "--nodes", "1", "--base-port", "0", "--dir", dir])).code, 0);
  const refused = await run(["init", "--nodes", "1", "--base-port", "0", "--dir", dir]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /already holds a cluster.*--force/);
  const forced = await runJson<{ nodes: unknown[] }>([
    "init",
    "--nodes",
    "4",
    "--base-port",
    "0",
    "--dir",
    dir,
    "--force",
  ]);
  assert.equal(forced.nodes.length, 4);
  assert.ok(!existsSync(join(dir, "node4.json")));
});

test("status --json: every node reachable, at one height and root", async () => {
  const s = await runJson<{
    agree: boolean;
    nodes: Array<{
      id: number;
      reachable: boolean;
      height: string;
      root: string;
      round: string;
      leader: number | null;
    }>;
  }>(["status", ...c.flags]);
  assert.equal(s.agree, true);
  // The consensus view: each node's round, and the node it follows as that round's leader.
  assert.ok(
    s.nodes.every((n) => /^\d+$/.test(n.round) && (n.leader === null || [0, 1, 2, 3].includes(n.leader))),
    JSON.stringify(s.nodes),
  );
  assert.ok(
    s.nodes.some((n) => n.leader !== null && Number(n.round) > 0),
    "some node follows a leader",
  );
  assert.deepEqual(
    s.nodes.map((n) => n.id),
    [0, 1, 2, 3],
  );
  assert.ok(s.nodes.every((n) => n.reachable && /^[0-9a-f]{64}$/.test(n.root) && /^\d+$/.test(n.height)));
  const text = await run(["status", ...c.flags]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /4\/4 reachable; they agree/);
  assert.match(text.stdout, /round +leader/);
});

test("op build reproduces the project's build; op check accepts it and refuses garbage; the flags match build-ops.mjs", async () => {
  const script = readFileSync(join(ROOT, "scripts", "build-ops.mjs"), "utf8");
  assert.ok(
    script.includes(`ASC_FLAGS = ${JSON.stringify(ASC_FLAGS).replace(/,/g, ", ")}`),
    "ASC_FLAGS differ from scripts/build-ops.mjs",
  );
  const out = join(scratch, "open.wasm");
  const b = await runJson<{ ok: boolean; bytes: number }>([
    "op",
    "build",
    "examples/banking/ops/assembly/open.ts",
    "--out",
    out,
  ]);
  assert.equal(b.ok, true);
  assert.deepEqual(readFileSync(out), readFileSync(join(ROOT, "build", "ops", "banking", "open.wasm")));
  const ok = await run(["op", "check", out]);
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /valid operation/);
  writeFileSync(join(scratch, "junk.wasm"), "not wasm");
  const bad = await run(["op", "check", join(scratch, "junk.wasm")]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /would be refused/);
});

test("domain create, op deploy, exec with --arg forms, get --proof-out, exec --proof, refusals exit 3", async () => {
  const d = await runJson<{ receipt: { status: string } }>(["domain", "create", "bank", ...c.flags]);
  assert.equal(d.receipt.status, "accepted");
  const again = await run(["domain", "create", "bank", ...c.flags]);
  assert.equal(again.code, 3, again.stderr);
  assert.match(again.stderr, /request rejected: trap/);

  for (const op of ["open", "mint", "transfer"]) {
    const r = await runJson<{ receipt: { status: string } }>([
      "op",
      "deploy",
      `bank/${op}`,
      join(ROOT, "build", "ops", "banking", `${op}.wasm`),
      ...c.flags,
    ]);
    assert.equal(r.receipt.status, "accepted");
  }
  // str:, hex: and bytes-file: encode the same length-prefixed bytes.
  writeFileSync(join(scratch, "bob"), acct("bob"));
  const opens = await Promise.all([
    runJson<{ status: string }>([
      "exec",
      "bank/open",
      "--touch",
      acct("alice"),
      "--arg",
      `str:${acct("alice")}`,
      ...c.flags,
    ]),
    runJson<{ status: string }>([
      "exec",
      "bank/open",
      "--touch",
      acct("bob"),
      "--arg",
      `bytes-file:${join(scratch, "bob")}`,
      ...c.flags,
    ]),
    runJson<{ status: string }>([
      "exec",
      "bank/open",
      "--touch",
      acct("carol"),
      "--arg",
      `hex:${hexOf(acct("carol"))}`,
      ...c.flags,
    ]),
  ]);
  assert.deepEqual(
    opens.map((o) => o.status),
    ["accepted", "accepted", "accepted"],
  );
  const mint = await runJson<{ status: string; height: string }>([
    "exec",
    "bank/mint",
    "--touch",
    `bank/.owner,${acct("alice")}`,
    "--arg",
    `str:${acct("alice")}`,
    "--arg",
    "u64:100",
    "--gas",
    "5000000",
    ...c.flags,
  ]);
  assert.equal(mint.status, "accepted");

  const proofFile = join(scratch, "p.bin");
  const g = await runJson<{ values: Record<string, string | null>; height: string; verified: boolean }>([
    "get",
    "bank/transfer",
    acct("alice"),
    acct("bob"),
    acct("nobody"),
    "--proof-out",
    proofFile,
    ...c.flags,
  ]);
  assert.equal(g.verified, true);
  assert.equal(g.values[acct("nobody")], null);
  assert.equal(BigInt(`0x${g.values[acct("alice")]!.slice(64)}`), 100n);
  assert.ok(BigInt(g.height) >= BigInt(mint.height));
  assert.ok(statSync(proofFile).size > 0);

  const transfer = [
    "exec",
    "bank/transfer",
    "--touch",
    `${acct("alice")},${acct("bob")}`,
    "--arg",
    `str:${acct("alice")}`,
    "--arg",
    `str:${acct("bob")}`,
    "--arg",
    "varint:30",
    "--proof",
    proofFile,
    ...c.flags,
  ];
  const t1 = await runJson<{ status: string }>(transfer);
  assert.equal(t1.status, "accepted");
  // The same proof again: alice's record changed since, so every node refuses it.
  const t2 = await run([...transfer, "--json"]);
  assert.equal(t2.code, 3);
  assert.match(t2.stderr, /^arbor: request rejected: record-changed/);
  assert.equal(JSON.parse(t2.stdout).error.code, "record-changed");
  // Overdraft, with a fresh proof: the op aborts.
  const over = await run([
    "exec",
    "bank/transfer",
    "--touch",
    `${acct("alice")},${acct("bob")}`,
    "--arg",
    `str:${acct("alice")}`,
    "--arg",
    `str:${acct("bob")}`,
    "--arg",
    "u64:71",
    ...c.flags,
  ]);
  assert.equal(over.code, 3);
  assert.match(over.stderr, /insufficient funds/);
  const after = await runJson<{ values: Record<string, string> }>([
    "get",
    acct("alice"),
    acct("bob"),
    ...c.flags,
  ]);
  assert.equal(BigInt(`0x${after.values[acct("alice")]!.slice(64)}`), 70n);
  assert.equal(BigInt(`0x${after.values[acct("bob")]!.slice(64)}`), 30n);
});

test("exit codes: usage 2, unavailable 4, other 1 (a wrong --chain pin among them); a second `up` on busy ports says so", async () => {
  for (const args of [
    ["frobnicate"],
    ["get", ...c.flags],
    ["exec", "bank/open", "--arg", "float:1", ...c.flags],
    ["status", "--nope"],
    ["init", "--dir", join(scratch, "x")],
  ]) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
  }
  const down = await run(["status", "--endpoints", "127.0.0.1:1"]);
  assert.equal(down.code, 4, down.stderr);
  // A wrong --chain pin is the caller's mistake, not an unavailable cluster: exit 1, saying so.
  const g = genesisFromJson(readFileSync(join(c.dir, "genesis.json"), "utf8"));
  const pin = "00".repeat(32);
  for (const target of [["--endpoints", g.nodes[0]!.address], c.flags]) {
    const wrong = await run(["status", ...target, "--chain", pin]);
    assert.equal(wrong.code, 1, `${target.join(" ")}: ${wrong.stderr}`);
    assert.match(wrong.stderr, /^arbor: .*chain [0-9a-f]{64}.*not .*0{64}/);
    assert.equal(wrong.stderr.trim().split("\n").length, 1, "one line");
  }
  writeFileSync(join(scratch, "bad.key"), "xyz");
  const badKey = await run(["get", "bank/open", "--key", join(scratch, "bad.key"), ...c.flags]);
  assert.equal(badKey.code, 1);
  assert.match(badKey.stderr, /64 hex digits/);
  const busy = await run(["up", "--dir", c.dir]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /already in use/);
});

test("the banking demo reuses the CLI's domain (same client key) and ends with money conserved", async () => {
  const r = await run(["--dir", c.dir, "--rounds", "2"], { script: DEMO, timeoutMs: 240_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /already exists and this key owns it/);
  assert.match(r.stdout, /record-changed/);
  assert.match(r.stdout, /money conserved/);
  // Balances are compared one by one only when every request got a receipt.
  assert.match(
    r.stdout,
    /every balance equals what the accepted receipts imply|balances not compared one by one/,
  );
});
