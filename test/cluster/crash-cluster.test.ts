// A node killed with SIGKILL while clients keep submitting, then restarted: it catches up from its
// peers, reaches the same root, and no accepted request is lost (every accepted transfer's effect
// is in the final balances, which still add up).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "./cluster.js";
import { Signer, bank as calls, deployBank, provenBalance, submitVia } from "./requests.js";

test(
  "a node killed during load restarts, catches up and agrees; nothing accepted is lost",
  { timeout: 240_000 },
  async () => {
    const c = await Cluster.create({ n: 4, k: 2, T: 64 });
    c.startAll();
    try {
      await c.ready();
      const alive = (id: number) => c.procs[id] !== null;
      const via = () => [0, 1, 2, 3].find(alive)!;
      const submit = (req: Uint8Array) => submitVia(c, req, [1, 2, 3, 0].find(alive)!, { timeoutMs: 30_000 });
      const bank = new Signer(c);
      await deployBank(bank, submit);
      const users = Array.from({ length: 6 }, () => new Signer(c));
      for (let i = 0; i < users.length; i++) {
        assert.equal((await submit(await users[i]!.call(calls.open(`u${i}`)))).status, "accepted");
        assert.equal((await submit(await bank.call(calls.mint(`u${i}`, 1000n)))).status, "accepted");
      }
      // Load: transfers around a ring; node 0 is killed in the middle and restarted later.
      const moved = new Map<number, bigint>(users.map((_, i) => [i, 0n]));
      let accepted = 0;
      for (let round = 0; round < 24; round++) {
        if (round === 6) await c.kill(0);
        if (round === 16) {
          c.start(0);
          await c.ready();
        }
        const i = round % users.length;
        const j = (i + 1) % users.length;
        const req = await users[i]!.call(calls.transfer(`u${i}`, `u${j}`, 7n));
        const r = await submit(req);
        if (r.status === "accepted") {
          accepted++;
          moved.set(i, moved.get(i)! - 7n);
          moved.set(j, moved.get(j)! + 7n);
        }
        void via;
      }
      assert.ok(accepted >= 20, `only ${accepted} transfers accepted`);
      await c.ready();
      await c.converged(60_000, "node 0 to catch up");
      for (let i = 0; i < users.length; i++)
        assert.equal(await provenBalance(c, `u${i}`), 1000n + moved.get(i)!);
    } catch (e) {
      c.printLogs();
      throw e;
    } finally {
      await c.stop();
    }
  },
);
