// A node killed with SIGKILL while clients keep submitting, then restarted: it catches up from its
// peers, reaches the same root, and no accepted request is lost (every accepted transfer's effect
// is in the final balances, which still add up).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "./cluster.js";
import { Signer, holders } from "./requests.js";
import { opBytes } from "../ledger/harness.js";
import { decodeReceipt } from "../../node/ledger/receipt.js";
import { Writer } from "../../node/common/codec.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { decodeProof } from "../../node/store/core/proof-codec.js";
import { provenState } from "../../node/store/core/proof.js";
import { keyPath } from "../../node/store/core/path.js";

const acct = (n: string) => `bank/accounts/${n}`;

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
      const submit = async (req: Uint8Array) => {
        const n = [1, 2, 3, 0].find(alive)!;
        const ack = await c.clients[n]!.execute(req);
        assert.ok(ack.accepted, ack.reason);
        return decodeReceipt((await c.clients[n]!.waitReceipt(ack.requestId, 30_000)).receipt);
      };
      const bank = new Signer(c);
      assert.equal((await submit(await bank.createDomain("bank"))).status, "accepted");
      assert.equal(
        (
          await submit(
            await bank.baseRule("bank", [
              ["bank/open", opBytes("banking/open.wasm")],
              ["bank/mint", opBytes("banking/mint.wasm")],
              ["bank/transfer", opBytes("banking/transfer.wasm")],
            ]),
          )
        ).status,
        "accepted",
      );
      const users = Array.from({ length: 6 }, () => new Signer(c));
      for (let i = 0; i < users.length; i++) {
        assert.equal(
          (
            await submit(
              await users[i]!.request(
                "bank/open",
                [acct(`u${i}`)],
                new Writer().string(acct(`u${i}`)).finish(),
              ),
            )
          ).status,
          "accepted",
        );
        assert.equal(
          (
            await submit(
              await bank.request(
                "bank/mint",
                ["bank/.owner", acct(`u${i}`)],
                new Writer()
                  .string(acct(`u${i}`))
                  .varint(1000)
                  .finish(),
              ),
            )
          ).status,
          "accepted",
        );
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
        const req = await users[i]!.request(
          "bank/transfer",
          [acct(`u${i}`), acct(`u${j}`)],
          new Writer()
            .string(acct(`u${i}`))
            .string(acct(`u${j}`))
            .varint(7)
            .finish(),
        );
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
      await c.waitFor(
        async () => {
          const st = await Promise.all(c.clients.map((x) => x.status()));
          return st.every((s) => s.height === st[1]!.height && bytesEqual(s.root, st[1]!.root));
        },
        60_000,
        "node 0 to catch up",
      );
      for (let i = 0; i < users.length; i++) {
        const h = holders(c, acct(`u${i}`))[0]!;
        const g = await c.clients[h]!.get([acct(`u${i}`)], false);
        const s = provenState(decodeProof(g.proof).root, keyPath(acct(`u${i}`)));
        assert.ok(s.covered && s.present && s.value);
        assert.equal(
          new DataView(s.value.buffer, s.value.byteOffset).getBigUint64(32),
          1000n + moved.get(i)!,
        );
      }
    } catch (e) {
      c.printLogs();
      throw e;
    } finally {
      await c.stop();
    }
  },
);
