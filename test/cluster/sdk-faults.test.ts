// The SDK against faulty nodes in a real 4-node cluster (k = 2: nodes 0,1 hold one half of the
// keys, nodes 2,3 the other). A holder of each half that answers reads with its honest signed root
// and a proof in which the asked records are stubs cannot stop reads or transfers: the SDK takes
// the other holder's answer and avoids the liar for a while. A paused node (SIGSTOP) holds no write
// for its call deadline. On a wedged cluster (both holders of a half paused: no commits, no
// certificates) every SDK call ends by its deadline with a typed error saying what was missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withSdkCluster } from "./sdk-cluster.js";
import { ArborClient, UnavailableError } from "../../client/index.js";
import { Bank, decodeAccount, loadBankingOps } from "../../examples/banking/bank.js";

/** Names whose account keys fall in each half (one held by nodes 0,1, one by nodes 2,3). */
function namesByHalf(client: ArborClient, bank: Bank): [string, string] {
  let low = "";
  let high = "";
  for (let i = 0; low === "" || high === ""; i++) {
    const h = client.holders(bank.account(`a${i}`)).join();
    if (h === "0,1" && low === "") low = `a${i}`;
    if (h === "2,3" && high === "") high = `a${i}`;
  }
  return [low, high];
}

test(
  "a holder hiding records behind stubs stops neither reads nor transfers; the SDK avoids it",
  { timeout: 240_000 },
  async () => {
    await withSdkCluster(
      {
        n: 4,
        k: 2,
        byzantine: { 1: "stub-records", 3: "stub-records" },
      },
      async (c, client) => {
        const bank = new Bank(client);
        await bank.setup(loadBankingOps());
        const [low, high] = namesByHalf(client, bank);
        for (const n of [low, high]) await bank.openAccount(n);
        await bank.mint(low, 1000n);
        // A fresh client has no memory of the liars: the first holder it asks for a half may be one.
        const fresh = await ArborClient.connect({ genesis: c.genesis });
        try {
          // A liar's sentence is short, and a read asks one holder (an avoided liar is not asked, so
          // its sentence may run out unnoticed): look after each round.
          const avoided = new Set<number>();
          for (let i = 0; i < 10; i++) {
            const b = await bank.balances([low, high]);
            assert.ok(b.accounts.get(low), "the account held by nodes 0,1 is read");
            const r = await fresh.read([bank.account(low), bank.account(high)]);
            assert.equal(decodeAccount(r.values.get(bank.account(low))!).balance, 1000n - BigInt(i));
            assert.ok(r.values.get(bank.account(high)), "the account held by nodes 2,3 is read");
            await bank.transfer(low, high, 1n);
            for (const id of [...client.avoided(), ...fresh.avoided()]) avoided.add(id);
          }
          const after = await bank.balances([low, high]);
          assert.equal(after.accounts.get(low)!.balance, 990n);
          assert.equal(after.accounts.get(high)!.balance, 10n);
          // The liars were in the penalty box (the clients caught them at least once), and only they.
          assert.ok(
            [...avoided].every((id) => id === 1 || id === 3),
            `only liars avoided: ${[...avoided].join()}`,
          );
          assert.ok(avoided.size > 0, "a liar is avoided");
        } finally {
          fresh.close();
        }
      },
    );
  },
);

test(
  "writes go on while a node is paused, none waiting for its call deadline; a wedged cluster ends calls by their deadline",
  { timeout: 240_000 },
  async (t) => {
    const CALL_MS = 20_000;
    await withSdkCluster(
      { n: 4, k: 2, tickMs: 20 },
      async (c, client) => {
        // A domain whose records are all held by nodes 0,1: writes to it need only them and the
        // ordering, so on the wedged cluster below they fail for want of receipts alone.
        let d = "";
        for (let i = 0; d === ""; i++)
          if ([".base_rule", ".owner", "before"].every((k) => client.holders(`p${i}/${k}`).join() === "0,1"))
            d = `p${i}`;
        await client.createDomain(d);
        await client.writeRecords(d, [[`${d}/before`, new Uint8Array([1])]]);

        // One node hangs: every write is still accepted, and none waits out the call deadline.
        c.pause(3);
        const times: number[] = [];
        const avoided = new Set<number>();
        for (let i = 0; i < 8; i++) {
          const t0 = Date.now();
          const r = await client.writeRecords(d, [[`${d}/k${i}`, new Uint8Array([i])]]);
          const took = Date.now() - t0;
          assert.equal(r.receipt.status, "accepted");
          assert.ok(took < CALL_MS / 2, `write ${i} took ${took} ms with node 3 paused`);
          times.push(took);
          // Its sentence is short (it may have run out by the next write): look after each one.
          for (const id of client.avoided()) avoided.add(id);
        }
        t.diagnostic(`writes with node 3 paused, ms: ${times.join(" ")}`);
        assert.deepEqual([...avoided], [3], "the paused node, and only it, was avoided");
        c.resume(3);

        // Both holders of one half hang: nothing commits, nothing is certified.
        let held = "";
        for (let i = 0; held === ""; i++)
          if (client.holders(`${d}/w${i}`).join() === "2,3") held = `${d}/w${i}`;
        // Every node caught up, and the top height certified, before the wedge.
        const status = await client.node(0).status();
        await c.waitFor(
          async () => (await c.clients[3]!.status()).height >= status.height,
          30_000,
          "node 3 to catch up",
        );
        await client.certifiedHeader(status.height);
        c.pause(2);
        c.pause(3);
        const DEADLINE = 3_000;
        /** The call fails with a typed error within its deadline (plus scheduling slack), saying what was missing. */
        const endsInTime = async (what: string, call: Promise<unknown>, code: string, says: RegExp) => {
          const t0 = Date.now();
          await assert.rejects(call, (e: unknown) => {
            assert.ok(e instanceof UnavailableError, `${what}: ${String(e)}`);
            assert.equal(e.code, code, `${what}: ${e.message}`);
            assert.match(e.message, says, what);
            return true;
          });
          const took = Date.now() - t0;
          assert.ok(took < DEADLINE + 1_500, `${what} took ${took} ms (deadline ${DEADLINE} ms)`);
        };
        await endsInTime(
          "a read of a half whose holders hang",
          client.get([held], { timeoutMs: DEADLINE }),
          "client/no-valid-answer",
          /no holder .* answered/,
        );
        await endsInTime(
          "a certified header that never forms",
          client.certifiedHeader(status.height + 5n, undefined, { timeoutMs: DEADLINE }),
          "client/no-certificate",
          new RegExp(`no certified header for height ${status.height + 5n}`),
        );
        await endsInTime(
          "a write on the wedged cluster",
          client.writeRecords(d, [[`${d}/before`, new Uint8Array([2])]], { timeoutMs: DEADLINE }),
          "client/no-receipt",
          /no receipt/,
        );
      },
      { timeoutMs: CALL_MS },
    );
  },
);
