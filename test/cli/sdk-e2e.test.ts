// The SDK end to end on a real 4-node cluster (k = 2, T = 16): a proof gone stale — a touched
// record changed, or T operations passed — is refused when given explicitly to execute() and is
// overcome by transact()'s re-read and retry; and clients keep going while a node is killed and
// restarted, after which it converges and the books balance.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "../cluster/cluster.js";
import { ArborClient, generateKey, RequestRejected, type ExecuteOptions } from "../../client/index.js";
import { Bank, loadBankingOps } from "../../examples/banking/bank.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { decodeStatement, ROOT_STATEMENT_DIGEST } from "../../node/ledger/statement.js";

const T = 16;
let c: Cluster;
let owner: ArborClient;
let bank: Bank;
const clients: ArborClient[] = [];

async function newBank(): Promise<Bank> {
  const cl = await ArborClient.connect({ genesis: c.genesis, key: generateKey() });
  clients.push(cl);
  return new Bank(cl);
}

/** Makes the next prepare() of `cl` sign with `proof` instead of reading a fresh one. */
function injectProofOnce(cl: ArborClient, proof: Uint8Array): { calls: number } {
  const orig = cl.prepare.bind(cl);
  const seen = { calls: 0 };
  cl.prepare = (o: ExecuteOptions) => (seen.calls++ === 0 ? orig({ ...o, proof }) : orig(o));
  return seen;
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (e) {
    if (e instanceof RequestRejected) return e.code;
    throw e;
  }
}

before(async () => {
  c = await Cluster.create({ n: 4, k: 2, T });
  c.startAll();
  await c.ready();
  owner = await ArborClient.connect({ endpoints: [c.genesis.nodes[1]!.address] });
  clients.push(owner);
  bank = new Bank(owner);
  await bank.setup(loadBankingOps());
  await Promise.all(["a", "b"].map((n) => bank.openAccount(n)));
  await bank.mint("a", 1000n);
});

after(async () => {
  for (const cl of clients) cl.close();
  await c?.stop();
});

test("a record changed since the proof: execute with the old proof is refused, transact retries and succeeds", async () => {
  const old = await bank.transferProof(["a", "b"]);
  await bank.transfer("a", "b", 10n, { retry: false });
  assert.equal(await rejection(bank.transfer("a", "b", 10n, { proof: old })), "record-changed");

  const seen = injectProofOnce(owner, old);
  const r = await owner.transact({
    op: bank.op("transfer"),
    touched: [bank.account("a"), bank.account("b")],
    args: bank.transferArgs("a", "b", 10n),
  });
  assert.equal(r.receipt.status, "accepted");
  assert.equal(seen.calls, 2, "transact read again after the refusal");
  assert.equal((await bank.balance("b")).balance, 20n);
});

test("a proof more than T operations old: execute refuses it (stale-root), transact retries and succeeds", async () => {
  const old = await bank.transferProof(["a", "b"]);
  // T + 4 operations that touch neither a nor b: the proof's root leaves the window.
  const others = await newBank();
  await Promise.all(Array.from({ length: T + 4 }, (_, i) => others.openAccount(`x${i}`)));
  assert.equal(await rejection(bank.transfer("a", "b", 5n, { proof: old })), "stale-root");

  const seen = injectProofOnce(owner, old);
  const r = await owner.transact({
    op: bank.op("transfer"),
    touched: [bank.account("a"), bank.account("b")],
    args: bank.transferArgs("a", "b", 5n),
  });
  assert.equal(r.receipt.status, "accepted");
  assert.equal(seen.calls, 2);
  assert.equal((await bank.balance("b")).balance, 25n);
});

test("bytes submitted again after they were applied (a retry after a timeout): submit returns their receipt, not a 'replay' refusal", async () => {
  const bytes = await owner.prepare({
    op: bank.op("transfer"),
    touched: [bank.account("a"), bank.account("b")],
    args: bank.transferArgs("a", "b", 1n),
  });
  const first = await owner.submit(bytes);
  assert.equal(first.receipt.status, "accepted");
  const again = await owner.submit(bytes);
  assert.deepEqual(again.bytes, first.bytes);
  assert.equal((await bank.balance("b")).balance, 26n, "applied once");
});

test("a receipt is trusted from f+1 nodes asked first; a silent one among them makes the client ask the others", async () => {
  const r = await owner.execute({
    op: bank.op("transfer"),
    touched: [bank.account("a"), bank.account("b")],
    args: bank.transferArgs("a", "b", 1n),
  });
  const conns = (
    owner as unknown as { conns: Map<number, { waitReceipt: (...a: unknown[]) => Promise<unknown> }> }
  ).conns;
  const asked: number[] = [];
  const originals = new Map([...conns].map(([id, conn]) => [id, conn.waitReceipt.bind(conn)]));
  for (const [id, conn] of conns)
    conn.waitReceipt = (...a: unknown[]) => {
      asked.push(id);
      return id === 2 ? new Promise(() => undefined) : originals.get(id)!(...a);
    };
  try {
    const again = await owner.receipt(r.receipt.requestId, 10_000, [2, 3]);
    assert.deepEqual(again.bytes, r.bytes);
    assert.ok(!again.signers.includes(2), "the silent node signed nothing");
    assert.deepEqual(asked.slice(0, 2).sort(), [2, 3], "the preferred f+1 nodes are asked first");
    assert.ok(asked.length > 2, "the others are asked once the silent one holds back the quorum");
  } finally {
    for (const [id, conn] of conns) conn.waitReceipt = originals.get(id)!;
  }
});

test("GetHeaders with wait_ms answers the next height once it is certified, and a height far ahead empty when the wait ends", async () => {
  const node = owner.node(0);
  const top = (await node.status()).certifiedHeight;
  const waiting = node.headers(top + 1n, 1, 5_000);
  await bank.mint("a", 1n);
  const next = await waiting;
  assert.equal(next.headers.length, 1, "the header came once certified, within the wait");
  const far = await node.headers(top + 1_000_000n, 1, 200);
  assert.equal(far.headers.length, 0);
});

test("Get with min_height is held until the node has applied that height", async () => {
  const node = owner.node(1);
  const top = (await node.status()).height;
  const held = node.get([bank.account("a")], { minHeight: top + 1n });
  await bank.mint("a", 1n);
  const st = decodeStatement((await held).statement);
  assert.ok(st.height >= top + 1n, `answered at ${st.height}, asked for ${top + 1n}`);
});

test("a node signs one root statement per height: GET replies and Status at one height carry the same signed bytes", async () => {
  const node = owner.node(0);
  for (let attempt = 0; ; attempt++) {
    const a = await node.get([bank.account("a")]);
    const b = await node.get([bank.account("b")], { forExecute: true });
    const s = await node.status();
    const heights = [a, b, s].map((r) => decodeStatement(r.statement).height);
    if (heights.some((h) => h !== heights[0])) {
      assert.ok(attempt < 20, "the node kept moving between the three calls");
      continue;
    }
    assert.deepEqual(b.statement, a.statement);
    assert.deepEqual(b.signature, a.signature);
    assert.deepEqual(s.statement, a.statement);
    assert.deepEqual(decodeStatement(a.statement).proofDigest, ROOT_STATEMENT_DIGEST);
    break;
  }
});

test("clients keep going while a node is killed and restarted; it converges and the books balance", async (t) => {
  const users = await Promise.all([0, 1, 2, 3].map(() => newBank()));
  await Promise.all(users.flatMap((u, i) => [u.openAccount(`from${i}`), u.openAccount(`to${i}`)]));
  await Promise.all(users.map((_, i) => bank.mint(`from${i}`, 1000n)));

  const accepted = { before: 0, during: 0, after: 0 };
  const failures: string[] = [];
  let phase: keyof typeof accepted = "before";
  let stop = false;
  const loops = users.map(async (u, i) => {
    while (!stop) {
      try {
        await u.transfer(`from${i}`, `to${i}`, 1n);
        accepted[phase]++;
      } catch (e) {
        failures.push(`${phase}: ${(e as Error).message}`);
      }
    }
  });
  // Phases end on progress, not on the clock: an idle-ish cluster commits in seconds, not ms.
  const progress = (p: keyof typeof accepted, n: number, what: string) =>
    c.waitFor(async () => accepted[p] >= n, 45_000, `${n} transfers ${what} (${failures.join("; ")})`);
  await progress("before", 4, "before the kill");
  phase = "during";
  await c.kill(2); // SIGKILL, mid-run
  await progress("during", 4, "while node 2 is down");
  c.start(2);
  phase = "after";
  await progress("after", 4, "after the restart");
  stop = true;
  await Promise.all(loops);
  t.diagnostic(`accepted ${JSON.stringify(accepted)}; failures: ${failures.join("; ") || "none"}`);
  assert.ok(failures.length <= 4, `too many failed transfers: ${failures.join("; ")}`);

  await c.ready();
  await c.waitFor(
    async () => {
      const st = await Promise.all(c.clients.map((x) => x.status()));
      return st.every((s) => s.height === st[0]!.height && bytesEqual(s.root, st[0]!.root));
    },
    60_000,
    "node 2 to catch up with the others",
  );
  const names = users.flatMap((_, i) => [`from${i}`, `to${i}`]);
  const books = await bank.balances(names);
  let total = 0n;
  for (const n of names) total += books.accounts.get(n)!.balance;
  assert.equal(total, 4000n, "money conserved");
  const moved = [0, 1, 2, 3].reduce((s, i) => s + books.accounts.get(`to${i}`)!.balance, 0n);
  assert.ok(
    moved >= BigInt(accepted.before + accepted.during + accepted.after),
    "every accepted transfer applied",
  );
});
