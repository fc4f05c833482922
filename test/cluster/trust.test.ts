// Trust end to end: a node process that signs GET replies over a forged root. The SDK rejects its
// reads on the spot (and still reads through honest holders), an audit proves the lie, COMPLAIN
// evicts the node (a repeated complaint changes nothing), and the eviction record is readable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "./cluster.js";
import { ArborClient, VerificationError } from "../../client/index.js";
import { evictedKey } from "../../node/ledger/ledger.js";
import { Writer } from "../../node/common/codec.js";

test(
  "a lying node is caught by reads and audits, and a complaint evicts it",
  { timeout: 300_000 },
  async () => {
    const LIAR = 3;
    const c = await Cluster.create({
      n: 4,
      k: 2,
      T: 512,
      tickMs: 20,
      byzantine: { [LIAR]: "forge-get-root" },
    });
    c.startAll();
    const client = await ArborClient.connect({ genesis: c.genesis });
    try {
      await c.ready();
      await client.createDomain("trust");
      // Records held by the liar (and one honest node).
      const keys: string[] = [];
      for (let i = 0; keys.length < 3; i++)
        if (client.holders(`trust/k${i}`).includes(LIAR)) keys.push(`trust/k${i}`);
      await client.writeRecords(
        "trust",
        keys.map((k) => [k, new Writer().string(k).finish()] as const),
      );
      // Asked directly, the liar's answer fails verification at once.
      const fresh = await ArborClient.connect({ genesis: c.genesis });
      fresh.excluded.clear();
      await assert.rejects(
        (fresh as unknown as { askOne(id: number, keys: string[], f: boolean): Promise<unknown> }).askOne(
          LIAR,
          [keys[0]!],
          false,
        ),
        (e: unknown) => e instanceof VerificationError && e.code === "client/forged-root",
      );
      // Through the SDK the read still succeeds, from honest holders.
      const values = await fresh.get(keys);
      for (const k of keys) assert.ok(values.get(k), `${k} read`);
      // The audit finds the contradiction; the complaint evicts.
      const found = await fresh.audit();
      const against = found.find((f) => f.accused === LIAR) ?? fresh.suspects.find((s) => s.accused === LIAR);
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
    } catch (e) {
      for (let i = 0; i < 4; i++) process.stderr.write(`--- node ${i}\n${c.logsOf(i).slice(-1500)}\n`);
      throw e;
    } finally {
      client.close();
      await c.stop();
    }
  },
);
