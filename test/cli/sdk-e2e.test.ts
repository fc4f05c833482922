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

type Conns = Map<
  number,
  { waitReceipt: (...a: unknown[]) => Promise<unknown>; headers: (...a: unknown[]) => Promise<unknown> }
>;

/** Replaces each connection's `method` of `cl` for the duration of `run`. */
async function withConns(
  cl: ArborClient,
  method: "waitReceipt" | "headers",
  wrap: (id: number, orig: (...a: unknown[]) => Promise<unknown>) => (...a: unknown[]) => Promise<unknown>,
  run: () => Promise<void>,
): Promise<void> {
  const conns = (cl as unknown as { conns: Conns }).conns;
  const originals = new Map([...conns].map(([id, conn]) => [id, conn[method].bind(conn)]));
  for (const [id, conn] of conns) conn[method] = wrap(id, originals.get(id)!);
  try {
    await run();
  } finally {
    for (const [id, conn] of conns) conn[method] = originals.get(id)!;
  }
}

const transferOnce = () =>
  owner.execute({
    op: bank.op("transfer"),
    touched: [bank.account("a"), bank.account("b")],
    args: bank.transferArgs("a", "b", 1n),
  });

test("a receipt is trusted from one node through the certified header; a silent node makes the client ask the next", async () => {
  const r = await transferOnce();
  assert.equal(r.backing, "header");
  assert.equal(r.servedBy.length, 1, "one node's answer");
  assert.equal(r.header?.header.height, r.receipt.height);
  const asked: number[] = [];
  await withConns(
    owner,
    "waitReceipt",
    (id, orig) =>
      (...a) => {
        asked.push(id);
        return id === 2 ? new Promise(() => undefined) : orig(...a);
      },
    async () => {
      const again = await owner.receipt(r.receipt.requestId, 10_000, [2, 3]);
      assert.deepEqual(again.bytes, r.bytes);
      assert.deepEqual(again.servedBy, [3]);
      assert.deepEqual(asked, [2, 3], "the preferred node first, then one more when it stays silent");
    },
  );
});

test("a receipt with a forged path, or another request's receipt, is refused and the next node asked", async () => {
  const r = await transferOnce();
  const other = await transferOnce();
  type Answer = { receipt: Uint8Array; path: Uint8Array[]; leafCount: number };
  const otherAnswer = (await owner.node(0).waitReceipt(other.receipt.requestId, 5_000)) as Answer;
  for (const forge of [
    // a hash of the path altered (a block of one receipt has none: one is made up)
    (a: Answer) => ({
      ...a,
      path:
        a.path.length === 0
          ? [new Uint8Array(32)]
          : a.path.map((h, i) => (i === 0 ? h.map((x) => x ^ 1) : h)),
    }),
    (a: Answer) => ({ ...a, leafCount: a.leafCount + 1 }),
    () => otherAnswer,
  ]) {
    const asked: number[] = [];
    await withConns(
      owner,
      "waitReceipt",
      (id, orig) =>
        async (...a) => {
          asked.push(id);
          const answer = (await orig(...a)) as Answer;
          return id === 1 ? forge(answer) : answer;
        },
      async () => {
        const again = await owner.receipt(r.receipt.requestId, 10_000, [1]);
        assert.deepEqual(again.bytes, r.bytes);
        assert.equal(again.backing, "header");
        assert.notDeepEqual(again.servedBy, [1], "the forging node's answer is not used");
        assert.equal(asked[0], 1);
        assert.equal(asked.length, 2, "the next node is asked at once");
      },
    );
  }
});

test("early receipts: with no certified header to be had, f+1 equal signed receipts are trusted", async () => {
  // Reads unverified, so that no header of the new block is fetched (and cached) before the receipt.
  const early = await ArborClient.connect({
    genesis: c.genesis,
    key: owner.key,
    verify: false,
    earlyReceipts: true,
  });
  clients.push(early);
  await withConns(
    early,
    "headers",
    () => () => new Promise(() => undefined),
    async () => {
      const got = await early.execute({
        op: bank.op("transfer"),
        touched: [bank.account("a"), bank.account("b")],
        args: bank.transferArgs("a", "b", 1n),
        timeoutMs: 10_000,
      });
      assert.equal(got.receipt.status, "accepted");
      assert.equal(got.backing, "signatures");
      assert.equal(got.signers.length, 2, "f+1 = 2 nodes signed alike");
      assert.deepEqual(got.servedBy, got.signers);
      assert.equal(got.header, undefined);
    },
  );
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
