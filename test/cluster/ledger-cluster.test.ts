// The node API on real multi-process clusters (gRPC on loopback): n = 4 (k = 2) and n = 7 (k = 3).
// Domain creation, deployment, banking, concurrent disjoint requests, stale proofs, changed and
// appeared records, replays, domain violations, removals next to stubs; at the end every node has
// the same root and stores only its partitions plus recent changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "./cluster.js";
import {
  Signer,
  bank as calls,
  deployBank,
  fetchProof,
  provenBalance,
  receiptStatus as status,
  submitVia,
} from "./requests.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { decodeStatement } from "../../node/ledger/statement.js";

const T = 12;

/** Correct nodes keep equal receipt bytes: each receipt is asked of two nodes. */
const submit = (c: Cluster, req: Uint8Array, via = 0) => submitVia(c, req, via, { crossCheck: true });
const acct = (n: string) => calls.account(n);

async function bankSetup(c: Cluster): Promise<{ bank: Signer; users: Map<string, Signer> }> {
  const bank = new Signer(c);
  await deployBank(bank, (r) => submit(c, r, 1));
  const users = new Map<string, Signer>();
  const names = Array.from({ length: 8 }, (_, i) => `u${i}`);
  const opens = await Promise.all(
    names.map(async (n) => {
      const s = new Signer(c);
      users.set(n, s);
      return s.call(calls.open(n));
    }),
  );
  const rs = await Promise.all(opens.map((r, i) => submit(c, r, i % c.clients.length)));
  assert.deepEqual(
    rs.map(status),
    names.map(() => "accepted"),
  );
  const mints = await Promise.all(names.map((n) => bank.call(calls.mint(n, 1000n))));
  for (const m of mints) assert.equal(status(await submit(c, m)), "accepted");
  return { bank, users };
}

async function scenario(c: Cluster): Promise<void> {
  const { bank, users } = await bankSetup(c);
  const u = (n: string) => users.get(n)!;

  // Concurrent transfers on disjoint accounts: all accepted.
  const pairs: Array<[string, string]> = [
    ["u0", "u1"],
    ["u2", "u3"],
    ["u4", "u5"],
    ["u6", "u7"],
  ];
  const reqs = await Promise.all(pairs.map(([a, b]) => u(a).call(calls.transfer(a, b, 100n))));
  const rs = await Promise.all(reqs.map((r, i) => submit(c, r, i % c.clients.length)));
  assert.deepEqual(
    rs.map(status),
    pairs.map(() => "accepted"),
  );

  // A record changed since the proof: two transfers from u0 on the same proof.
  const proof = await fetchProof(c, ["bank/transfer", acct("u0"), acct("u2")]);
  const first = await u("u0").call(calls.transfer("u0", "u2", 10n), proof);
  const second = await u("u0").call(calls.transfer("u0", "u2", 20n), proof);
  assert.equal(status(await submit(c, first)), "accepted");
  assert.equal(status(await submit(c, second)), "record-changed");

  // A replay of applied bytes is refused at the door with its own reason.
  const replay = await c.clients[2]!.execute(first);
  assert.equal(replay.accepted, false);
  assert.equal(replay.reason, "replay");

  // Absent in the proof, present now.
  const carol = new Signer(c);
  const carolProof = await fetchProof(c, ["bank/open", acct("carol")]);
  assert.equal(status(await submit(c, await carol.call(calls.open("carol")))), "accepted");
  assert.equal(status(await submit(c, await carol.call(calls.open("carol"), carolProof))), "record-changed");

  // A write outside the domain.
  assert.equal(
    status(await submit(c, await bank.baseRule("bank", [["elsewhere/x", new Uint8Array([1])]]))),
    "domain-violation",
  );

  // Scratch records that age into stubs on the nodes that do not hold them, then a removal next to them.
  const scratch = Array.from({ length: 6 }, (_, i) => `bank/tmp/${i}`);
  assert.equal(
    status(
      await submit(
        c,
        await bank.baseRule(
          "bank",
          scratch.map((k) => [k, new Uint8Array([7])]),
        ),
      ),
    ),
    "accepted",
  );
  const old = await fetchProof(c, ["bank/open", acct("dave")]);
  for (let i = 0; i < T + 1; i++) {
    const r = await submit(c, await u("u1").call(calls.transfer("u1", "u3", 1n)), i % c.clients.length);
    assert.equal(status(r), "accepted");
  }
  // The proof fetched before T operations is stale now.
  const dave = new Signer(c);
  assert.equal(status(await submit(c, await dave.call(calls.open("dave"), old))), "stale-root");
  assert.equal(
    status(
      await submit(
        c,
        await bank.baseRule("bank", [
          [scratch[0]!, null],
          [scratch[3]!, null],
        ]),
      ),
    ),
    "accepted",
  );

  await c.converged(20_000);
  // Money is conserved: 8 × 1000 minted.
  let total = 0n;
  for (const n of [...users.keys(), "carol"]) total += (await provenBalance(c, n)) ?? 0n;
  assert.equal(total, 8000n);
  // Every node: same root; full records only of its partitions; bounded knowledge outside.
  const st = await Promise.all(c.clients.map((x) => x.status()));
  const records = st[0]!.fullRecords; // node 0 is one of k holders of its share
  for (const s of st) {
    assert.ok(bytesEqual(s.root, st[0]!.root));
    assert.ok(s.fullRecords < BigInt(30), `node ${s.node} stores ${s.fullRecords} full records`);
    assert.ok(
      s.outsideNodes < BigInt(2 * 257 * 8 * (T + 1)),
      `node ${s.node} keeps ${s.outsideNodes} nodes outside its partition`,
    );
  }
  void records;
  // A GET statement is signed over the committed root.
  const g = await c.clients[0]!.get([".root_rule"], false, true);
  assert.ok(bytesEqual(decodeStatement(g.statement).root, st[0]!.root));
}

test("4 nodes, k = 2: the ledger through the node API", { timeout: 240_000 }, async () => {
  const c = await Cluster.create({ n: 4, k: 2, T });
  c.startAll();
  try {
    await c.ready();
    await scenario(c);
  } catch (e) {
    c.printLogs(2000);
    throw e;
  } finally {
    await c.stop();
  }
});

test("7 nodes, k = 3: the ledger through the node API", { timeout: 240_000 }, async () => {
  const c = await Cluster.create({ n: 7, k: 3, T });
  c.startAll();
  try {
    await c.ready();
    await scenario(c);
  } finally {
    await c.stop();
  }
});
