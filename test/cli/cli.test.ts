// The `arbor` CLI end to end on a real 4-node cluster (k = 2) made by `arbor init` and run by
// `arbor up`: init's files, status --json, domain create, op build/check/deploy, exec with every
// --arg form, get --proof-out and exec --proof, ls and history of what was written, exit codes of
// every error class, a second `up` on busy ports, and the banking demo reusing the domain the CLI
// created.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { BIN, CliCluster, DEMO, ROOT, run, runJson } from "./helpers.js";
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

test("ls and history show what was written, proven complete (text and --json); a bad --limit is a usage error", async () => {
  // After the test above: alice was opened, minted 100 and sent 30 (3 changes), bob opened and
  // received 30 (2), carol only opened (1).
  const ls = await runJson<{
    keys: Array<{ key: string; valueHash: string | null; changes: string; height: string }>;
    height: string;
    done: boolean;
    next: string | null;
  }>(["ls", "bank/accounts/", ...c.flags]);
  assert.deepEqual(
    ls.keys.map((k) => [k.key, k.changes]),
    [
      [acct("alice"), "3"],
      [acct("bob"), "2"],
      [acct("carol"), "1"],
    ],
  );
  assert.ok(ls.keys.every((k) => /^[0-9a-f]{64}$/.test(k.valueHash ?? "")));
  assert.deepEqual([ls.done, ls.next], [true, null]);
  const text = await run(["ls", "bank/accounts/", ...c.flags]);
  assert.equal(text.code, 0, text.stderr);
  const alice = ls.keys[0]!;
  assert.match(
    text.stdout,
    new RegExp(
      `^${acct("alice")}  ${alice.valueHash!.slice(0, 12)} +3 changes  last at height ${alice.height}$`,
      "m",
    ),
  );
  assert.match(
    text.stdout,
    /3 keys under "bank\/accounts\/"; proven complete against the certified index root at height \d+; no more keys follow\n$/,
  );

  // One key a page: the next page starts after it; --all reads the rest.
  const first = await runJson<{ keys: Array<{ key: string }>; done: boolean; next: string }>([
    "ls",
    "bank/accounts/",
    "--limit",
    "1",
    ...c.flags,
  ]);
  assert.deepEqual(
    [first.keys.map((k) => k.key), first.done, first.next],
    [[acct("alice")], false, acct("alice")],
  );
  const paged = await run(["ls", "bank/accounts/", "--limit", "1", ...c.flags]);
  assert.match(paged.stdout, /more keys follow: pass --after "bank\/accounts\/alice"/);
  const rest = await runJson<{ keys: Array<{ key: string }>; pages: number; done: boolean }>([
    "ls",
    "bank/accounts/",
    "--after",
    first.next,
    "--limit",
    "1",
    "--all",
    ...c.flags,
  ]);
  assert.deepEqual(
    rest.keys.map((k) => k.key),
    [acct("bob"), acct("carol")],
  );
  assert.equal(rest.done, true);
  assert.ok(rest.pages >= 2, `${rest.pages} pages`);

  // alice's history: newest first, each change's value (the account record: owner ‖ u64 balance).
  const h = await runJson<{
    changes: Array<{
      number: string;
      height: string;
      requestId: string;
      signer: string;
      valueHash: string | null;
      value: string | null;
    }>;
    height: string;
    done: boolean;
    next: string | null;
  }>(["history", acct("alice"), ...c.flags]);
  assert.deepEqual(
    h.changes.map((v) => v.number),
    ["3", "2", "1"],
  );
  assert.deepEqual(
    h.changes.map((v) => BigInt(`0x${v.value!.slice(64)}`)),
    [70n, 100n, 0n],
  );
  assert.equal(h.changes[0]!.valueHash, alice.valueHash);
  assert.equal(h.changes[0]!.height, alice.height);
  assert.ok(BigInt(h.height) >= BigInt(alice.height));
  assert.ok(h.changes.every((v) => /^[0-9a-f]{64}$/.test(v.requestId) && v.signer === h.changes[0]!.signer));
  assert.deepEqual([h.done, h.next], [true, null]);
  const htext = await run(["history", acct("alice"), ...c.flags]);
  assert.equal(htext.code, 0, htext.stderr);
  const lines = htext.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 4, htext.stdout);
  assert.match(
    lines[0]!,
    new RegExp(
      `^#3  height ${alice.height}  request ${h.changes[0]!.requestId.slice(0, 12)}  signer ${h.changes[0]!.signer.slice(0, 12)}  0x${h.changes[0]!.value} \\(40 bytes\\)$`,
    ),
  );
  assert.match(lines[2]!, /^#1  height \d+  .*0{16} \(40 bytes\)$/);
  assert.match(
    lines[3]!,
    /^3 changes of "bank\/accounts\/alice", newest first, proven complete against the key's history head in the certified index root at height \d+$/,
  );

  // --limit and a height range.
  const newest = await runJson<{ changes: Array<{ number: string }>; done: boolean; next: string }>([
    "history",
    acct("alice"),
    "--limit",
    "1",
    ...c.flags,
  ]);
  assert.deepEqual([newest.changes.map((v) => v.number), newest.done, newest.next], [["3"], false, "2"]);
  const older = await runJson<{ changes: Array<{ number: string }> }>([
    "history",
    acct("alice"),
    "--to-height",
    h.changes[1]!.height,
    ...c.flags,
  ]);
  assert.deepEqual(
    older.changes.map((v) => v.number),
    ["2", "1"],
  );
  const one = await run([
    "history",
    acct("alice"),
    "--from-height",
    h.changes[1]!.height,
    "--to-height",
    h.changes[1]!.height,
    ...c.flags,
  ]);
  assert.match(one.stdout, /^#2  height /);
  assert.match(one.stdout, /1 change of "bank\/accounts\/alice" made in heights (\d+)\.\.\1, newest first/);
  const never = await run(["history", acct("nobody"), ...c.flags]);
  assert.equal(never.code, 0, never.stderr);
  assert.match(never.stdout, /^"bank\/accounts\/nobody" was never written \(proven absent/);

  // get --height: the value alice's account had at the block of each change.
  for (const v of h.changes) {
    const past = await runJson<{ values: Record<string, string | null>; height: string }>([
      "get",
      acct("alice"),
      "--height",
      v.height,
      ...c.flags,
    ]);
    assert.equal(past.height, v.height);
    assert.equal(past.values[acct("alice")], v.value, `alice at height ${v.height}`);
  }

  // Bad input: exit 2, one line on stderr, nothing asked of the cluster.
  for (const args of [
    ["ls", "bank/", "--limit", "0"],
    ["ls", "bank/", "--limit", "1001"],
    ["ls", "bank/", "--limit", "ten"],
    ["ls"],
    ["history", acct("alice"), "--limit", "-1"],
    ["history", acct("alice"), "--limit", "2000"],
    ["history", acct("alice"), "--from-height", "x"],
    ["history", acct("alice"), "--from-height", "9", "--to-height", "3"],
    ["history"],
    ["get", acct("alice"), "--height", "-3"],
    ["get", acct("alice"), "--height", "18446744073709551616"],
    ["exec", "bank/transfer", "--touch", acct("alice"), "--proof", join(ROOT, "package.json")],
    ["history", acct("alice"), "--to-height", "18446744073709551616"],
    ["get", acct("alice"), "--height", "1", "--proof-out", "p.bin"],
  ]) {
    const r = await run([...args, ...c.flags]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
    assert.match(r.stderr, /^arbor: usage: /);
  }
  const badJson = await run(["ls", "bank/", "--limit", "0", "--json", ...c.flags]);
  assert.equal(badJson.code, 2);
  assert.equal(JSON.parse(badJson.stdout).error.code, "usage");
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
  // An argument whose bytes are not UTF-8 is refused as such, not read as U+FFFD (Linux shows the
  // raw bytes; a shell passes them through).
  const latin1Key = spawnSync(
    "bash",
    ["-c", `exec "$0" "$1" get "$(printf 'caf\\351')" "$@"`, process.execPath, BIN, ...c.flags],
    { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
  );
  assert.equal(latin1Key.status, 2, latin1Key.stderr);
  assert.match(latin1Key.stderr, /^arbor: .*"caf\uFFFD" is not valid UTF-8/);
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

test("the banking demo reuses the CLI's domain (same client key), conserves money, ends with a verified history and account list", async () => {
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
  // It ends with alice's history, balances read from the nodes that keep them (k = 2 of 4), and
  // the accounts: the CLI's three (marked as an earlier run's) and the demo's twelve.
  const tail = r.stdout.slice(r.stdout.indexOf("[10/10]"));
  assert.match(tail, /^\[10\/10\] alice-[0-9a-f]{4}'s history and the list of accounts/);
  assert.match(tail, /#2  height +\d+  balance 1000 \(\+1000\)\n.*#1  height +\d+  balance 0\n/);
  assert.match(tail, /^ +alice +3 change\(s\), last at height \d+  \(an earlier run's\)$/m);
  assert.match(
    tail,
    /15 account\(s\) under bank\/accounts\/, 12 of this run: the listing is proven complete/,
  );
});
