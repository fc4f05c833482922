// Trust end to end, with Byzantine node processes. One signs GET replies over a forged root: the
// SDK rejects its reads on the spot (and still reads through honest holders), an audit proves the
// lie, COMPLAIN evicts the node (a repeated complaint changes nothing). One double-votes: the next
// leader's consensus witnesses it, an audit fetches and checks the evidence, COMPLAIN evicts it. One
// double-proposes (a second signed block in each round it leads): the nodes that get both keep the
// evidence, an audit fetches it, COMPLAIN evicts it.
// Either way the cluster then goes on with n-1 nodes past the reconfiguration height, all honest
// nodes agree, and the evicted node is refused: it falls behind and clients stop asking it. A
// repair then deals the liar's prefixes to the others until two hold each.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster } from "./cluster.js";
import { withSdkCluster } from "./sdk-cluster.js";
import { ArborClient, VerificationError } from "../../client/index.js";
import { evictedKey } from "../../node/common/system-keys.js";
import { Writer } from "../../node/common/codec.js";
import { toHex } from "../../node/common/bytes.js";
import { TOB_DELIVER_WINDOW } from "../../node/common/limits.js";

/** After the eviction of `gone`: writes keep committing past the new set's first height. */
async function goesOnWithout(c: Cluster, client: ArborClient, gone: number, domain: string): Promise<void> {
  {
    assert.deepEqual(await client.refreshMembership(), [gone], "the SDK learns the eviction");
    const honest = [0, 1, 2, 3].filter((i) => i !== gone);
    const start = (await c.clients[honest[0]!]!.status()).height;
    // Enough blocks to cross the reconfiguration height (decided + TOB_DELIVER_WINDOW + 1).
    for (let i = 0; i < TOB_DELIVER_WINDOW + 6; i++)
      await client.writeRecords(domain, [[`${domain}/after${i}`, new Uint8Array([i])]]);
    const statuses = await Promise.all(honest.map((i) => c.clients[i]!.status()));
    const past = start + BigInt(TOB_DELIVER_WINDOW + 2);
    for (const st of statuses) assert.ok(st.height > past, `node ${st.node} at ${st.height}, past ${past}`);
    // Same height, same root on every honest node (wait for the slowest to apply).
    const top = statuses.reduce((m, s) => (s.height > m ? s.height : m), 0n);
    await c.waitFor(
      async () =>
        (await Promise.all(honest.map((i) => c.clients[i]!.status()))).every((s) => s.height >= top),
      20_000,
      "honest nodes at the same height",
    );
    // Certification follows apply by a round of signatures: wait for each node's certificate.
    const roots = new Set<string>();
    for (const i of honest) {
      let header: Uint8Array | undefined;
      await c.waitFor(
        async () => (header = (await client.node(i).headers(top, 1)).headers[0]) !== undefined,
        20_000,
        `node ${i} has a certified header at ${top}`,
      );
      roots.add(toHex(header!));
    }
    assert.equal(roots.size, 1, "one certified header at the top height");
    // The evicted node is shut out of consensus: it never reaches the new set's heights.
    const its = await c.clients[gone]!.status().catch(() => null);
    if (its) assert.ok(its.height < past, `evicted node stuck at ${its.height}`);
    // Every root a node reports is signed: the status reply carries its statement.
    for (const i of honest) {
      const st = await client.nodeStatus(i);
      assert.ok(st.height >= top && st.signature.length === 64, `node ${i} signs its status`);
    }
    // An audit no longer asks the evicted node, and finds nothing against anyone.
    const report = await client.auditReport();
    assert.equal(report.nodes.find((n) => n.node === gone)?.verdict, "evicted");
    assert.deepEqual(report.found, []);
    const values = await client.get([`${domain}/after0`]);
    assert.deepEqual(values.get(`${domain}/after0`), new Uint8Array([0]));
  }
}

test(
  "a lying node is caught by reads and audits, and a complaint evicts it",
  { timeout: 300_000 },
  async () => {
    const LIAR = 3;
    await withSdkCluster(
      {
        n: 4,
        k: 2,
        T: 512,
        tickMs: 20,
        byzantine: { [LIAR]: "forge-get-root" },
      },
      async (c, client) => {
        await client.createDomain("trust");
        // Records held by the liar (and one honest node).
        const keys: string[] = [];
        for (let i = 0; keys.length < 3; i++)
          if (client.holders(`trust/k${i}`).includes(LIAR)) keys.push(`trust/k${i}`);
        const written = await client.writeRecords(
          "trust",
          keys.map((k) => [k, new Writer().string(k).finish()] as const),
        );
        // One node's receipt can come before the liar applied the block: let it hold the records.
        await c.waitFor(
          async () => (await c.clients[LIAR]!.status()).height >= written.receipt.height,
          30_000,
          "the liar to apply the write",
        );
        // Asked directly, the liar's answer fails verification at once.
        const fresh = await ArborClient.connect({ genesis: c.genesis });
        fresh.excluded.clear();
        const check = (
          fresh as unknown as {
            reads: {
              checkAnswer(id: number, reply: unknown, keys: string[], minHeight: bigint): Promise<unknown>;
            };
          }
        ).reads;
        await assert.rejects(
          check.checkAnswer(LIAR, await fresh.node(LIAR).get([keys[0]!]), [keys[0]!], 0n),
          (e: unknown) => e instanceof VerificationError && e.code === "client/forged-root",
        );
        // Through the SDK the read still succeeds, from honest holders.
        const values = await fresh.get(keys);
        for (const k of keys) assert.ok(values.get(k), `${k} read`);
        // The audit finds the contradiction; the complaint evicts.
        const found = await fresh.audit();
        const against =
          found.find((f) => f.accused === LIAR) ?? fresh.suspects.find((s) => s.accused === LIAR);
        assert.ok(against, "the audit proves the liar's misbehaviour");
        assert.ok(
          found.every((f) => f.accused === LIAR),
          "no evidence against honest nodes",
        );
        const r = await fresh.complain(against.evidence, LIAR);
        assert.equal(r.receipt.status, "accepted");
        // The same offence again changes nothing.
        await assert.rejects(
          fresh.complain(against.evidence, LIAR),
          (e: unknown) => (e as { code?: string }).code === "already-evicted",
        );
        assert.ok((await client.get([evictedKey(LIAR)])).get(evictedKey(LIAR)));
        fresh.close();
        await goesOnWithout(c, client, LIAR, "trust");
        // The liar's prefixes get back to k = 2 holders through a repair, which anyone may file.
        const repaired = await client.changeMembership({ kind: "repair" });
        assert.equal(repaired.receipt.status, "accepted");
        const { records } = await client.memberRecords();
        assert.deepEqual(
          records.map((r) => r.id),
          [0, 1, 2],
        );
        for (let i = 0; i < 64; i++) {
          const cell = i.toString(2).padStart(6, "0");
          assert.ok(records.filter((r) => r.prefixes.some((p) => cell.startsWith(p))).length >= 2, cell);
        }
        await assert.rejects(
          client.changeMembership({ kind: "repair" }),
          (e: unknown) => (e as { code?: string }).code === "nothing-to-repair",
        );
        const after = await client.get(keys);
        for (const k of keys) assert.ok(after.get(k), `${k} still read after the repair`);
      },
    );
  },
);

test(
  "a double-voting node is witnessed by consensus, proven by an audit, and evicted; the rest go on",
  { timeout: 300_000 },
  async () => {
    const VOTER = 2;
    await withSdkCluster(
      {
        n: 4,
        k: 2,
        T: 512,
        tickMs: 20,
        byzantine: { [VOTER]: "double-vote" },
      },
      async (c, client) => {
        await client.createDomain("votes");
        let found = await client.audit();
        for (let i = 0; found.length === 0 && i < 20; i++) {
          await client.writeRecords("votes", [[`votes/k${i}`, new Uint8Array([i])]]);
          found = await client.audit();
        }
        assert.ok(found.length > 0, "the audit finds the double vote");
        assert.ok(
          found.every((f) => f.accused === VOTER && f.kind === "double-vote"),
          "no evidence against honest nodes",
        );
        const r = await client.complain(found[0]!.evidence);
        assert.equal(r.receipt.status, "accepted");
        await assert.rejects(
          client.complain(found[0]!.evidence),
          (e: unknown) => (e as { code?: string }).code === "already-evicted",
        );
        await goesOnWithout(c, client, VOTER, "votes");
      },
    );
  },
);

test(
  "a double-proposing leader is witnessed by consensus, proven by an audit, and evicted; the rest go on",
  { timeout: 300_000 },
  async () => {
    const LEADER = 1;
    await withSdkCluster(
      {
        n: 4,
        k: 2,
        T: 512,
        tickMs: 20,
        byzantine: { [LEADER]: "double-propose" },
      },
      async (c, client) => {
        await client.createDomain("blocks");
        let found = await client.audit();
        // Only a proposal with requests is doubled: keep writing until the leader has led one.
        for (let i = 0; found.length === 0 && i < 30; i++) {
          await client.writeRecords("blocks", [[`blocks/k${i}`, new Uint8Array([i])]]);
          found = await client.audit();
        }
        assert.ok(found.length > 0, "the audit finds the double proposal");
        assert.ok(
          found.every((f) => f.accused === LEADER && f.kind === "double-proposal"),
          "no evidence against honest nodes",
        );
        assert.ok(found[0]!.evidence.length < 4096, "the evidence holds headers, not blocks");
        const report = await client.auditReport();
        const caught = report.nodes.find((n) => n.node === LEADER);
        assert.equal(caught?.verdict, "caught");
        assert.match(caught?.detail ?? "", /two proposals/);
        const r = await client.complain(found[0]!.evidence);
        assert.equal(r.receipt.status, "accepted");
        await assert.rejects(
          client.complain(found[0]!.evidence),
          (e: unknown) => (e as { code?: string }).code === "already-evicted",
        );
        await goesOnWithout(c, client, LEADER, "blocks");
      },
    );
  },
);
