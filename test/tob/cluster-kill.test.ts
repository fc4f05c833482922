// Ordering on a real cluster (issue 4, must-show 3): four node processes on loopback with real gRPC
// peer streams. Clients submit requests continuously; one node is killed with SIGKILL; the other
// three keep ordering (heights rise, receipts keep coming) and follow live leaders; the killed node
// is restarted, catches up from its peers and agrees with them: the same height and the same root,
// from Status.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "../cluster/cluster.js";
import { Signer, fetchProof } from "../cluster/requests.js";
import { bytesEqual, toHex } from "../../node/common/bytes.js";
import { Writer } from "../../node/common/codec.js";
import { sortKeys } from "../../node/ledger/request.js";

const VICTIM = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  "SIGKILL one node of four under load: ordering goes on, the restarted node catches up and agrees",
  {
    timeout: 90_000,
  },
  async () => {
    // 25 ms ticks: a round led by the dead node times out after 0.5–1 s instead of 1–2 s.
    const c = await Cluster.create({ n: 4, k: 2, tickMs: 25 });
    c.startAll();
    let stop = false;
    try {
      await c.ready();
      // Nodes clients may use: the victim leaves before it is killed and returns once it serves.
      const up = new Set([0, 1, 2, 3]);
      const committed: { at: number; height: bigint }[] = [];
      const errors: string[] = [];
      // Six clients, each submitting one request at a time to a node that is up, round-robin.
      const worker = async (w: number) => {
        const s = new Signer(c);
        for (let i = 0; !stop; i++) {
          const live = [...up];
          const node = live[(w + i) % live.length]!;
          try {
            const name = `w${w}x${i}`;
            const keys = [".base_rule_template", `${name}/.base_rule`, `${name}/.owner`];
            const proof = await fetchProof(c, sortKeys([".root_rule", ...keys]), (id) => up.has(id));
            const req = await s.request(
              ".root_rule",
              keys,
              new Writer().string(name).bytes(s.key.publicKey).finish(),
              proof,
            );
            const ack = await c.clients[node]!.execute(req);
            assert.ok(ack.accepted, `${ack.reason} ${ack.message}`);
            await c.clients[node]!.waitReceipt(ack.requestId, 20_000);
            committed.push({ at: Date.now(), height: c.seenHeight });
          } catch (e) {
            // A node killed under us (or a proof joined across it): try again elsewhere.
            if (up.has(node) && !stop) errors.push(String(e));
            await sleep(50);
          }
        }
      };
      const workers = [0, 1, 2, 3, 4, 5].map(worker);
      const heights = async (ids: number[]) =>
        Promise.all(ids.map(async (id) => Number((await c.clients[id]!.status()).height)));

      await sleep(4000);
      assert.ok(committed.length >= 10, `${committed.length} requests ordered before the kill`);
      up.delete(VICTIM);
      await c.kill(VICTIM, "SIGKILL");
      const killedAt = Date.now();
      const others = [0, 1, 2];
      const h0 = Math.min(...(await heights(others)));
      await sleep(8000);
      const h1 = Math.min(...(await heights(others)));
      const during = committed.filter((x) => x.at > killedAt).length;
      process.stderr.write(
        `cluster-kill: ${committed.length - during} before the kill, ${during} in 8 s without node ${VICTIM}, height ${h0} → ${h1}\n`,
      );
      assert.ok(h1 >= h0 + 3, `the three went on ordering: height ${h0} → ${h1}`);
      assert.ok(during >= 5, `${during} requests ordered while node ${VICTIM} was dead`);
      // Leadership moved off the dead node: the others follow live leaders (Status says which).
      const views = await Promise.all(others.map((id) => c.clients[id]!.status()));
      for (const v of views) {
        assert.ok(v.consensusRound > 0n, `node ${v.node} reports its round`);
        assert.ok(
          v.leaderKey.length === 0 || !bytesEqual(v.leaderKey, c.keys[VICTIM]!.publicKey),
          `node ${v.node} follows the dead node as leader of round ${v.consensusRound}`,
        );
      }

      c.start(VICTIM);
      await c.ready();
      up.add(VICTIM);
      await sleep(4000);
      stop = true;
      await Promise.all(workers);
      const total = committed.length;
      assert.ok(errors.length <= 3, `client errors at live nodes:\n${errors.join("\n")}`);
      await c.waitFor(
        async () => {
          const st = await Promise.all(c.clients.map((x) => x.status()));
          return st.every((s) => s.height === st[0]!.height && bytesEqual(s.root, st[0]!.root));
        },
        30_000,
        `node ${VICTIM} to catch up and agree`,
      );
      const st = await Promise.all(c.clients.map((x) => x.status()));
      assert.ok(Number(st[VICTIM]!.height) >= h1, "the restarted node holds what was ordered without it");
      assert.ok(st[VICTIM]!.height >= c.seenHeight, "and every request a client saw committed");
      process.stderr.write(
        `cluster-kill: ${total} requests ordered (${during} with node ${VICTIM} dead); final height ${st[0]!.height}, root ${toHex(st[0]!.root).slice(0, 16)}… on all four\n`,
      );
    } catch (e) {
      for (let i = 0; i < 4; i++) process.stderr.write(`--- node ${i}\n${c.logsOf(i).slice(-1500)}\n`);
      throw e;
    } finally {
      stop = true;
      await c.stop();
    }
  },
);
