// Listings and key histories on a real cluster with k < n: every honest node gives the same verified
// listing whatever its partition, and every honest holder of a key the same history; a node that leaves a key out of a listing, or a
// change out of a history, fails verification when asked directly, and the SDK reads around it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withSdkCluster } from "./sdk-cluster.js";
import { UnavailableError, VerificationError, type ArborClient } from "../../client/index.js";
import { utf8, toHex } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";

const OMITS = 2;
const DROPS = 3;

async function listed(client: ArborClient, prefix: string, node?: number): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of client.listAll(prefix, {
    limit: 7,
    removed: true,
    ...(node === undefined ? {} : { node }),
  }))
    keys.push(`${e.key}:${e.valueHash ? toHex(e.valueHash).slice(0, 8) : "removed"}:${e.changes}`);
  return keys;
}

test(
  "listings and histories: the same through every honest node, and a liar is caught",
  { timeout: 240_000 },
  async () => {
    await withSdkCluster(
      {
        n: 4,
        k: 2,
        T: 512,
        tickMs: 20,
        byzantine: { [OMITS]: "omit-listed-key", [DROPS]: "drop-history-change" },
      },
      async (c, client) => {
        await client.createDomain("q");
        const keys = Array.from({ length: 20 }, (_, i) => `q/k${String(i).padStart(2, "0")}`);
        await client.writeRecords(
          "q",
          keys.map((k) => [k, utf8(`v1 ${k}`)] as const),
        );
        // q/k03 changes four more times, the last time removed; q/k05 once.
        for (let v = 2; v <= 4; v++) await client.writeRecords("q", [["q/k03", utf8(`v${v}`)]]);
        const last = await client.writeRecords("q", [
          ["q/k03", null],
          ["q/k05", utf8("v2 q/k05")],
        ]);
        const at = last.receipt.height;

        // Every honest node, whatever it holds, lists the same keys with the same hashes.
        const expected = keys.map((k) => {
          const v = k === "q/k05" ? "v2 q/k05" : `v1 ${k}`;
          const changes = k === "q/k03" ? 5 : k === "q/k05" ? 2 : 1;
          return `${k}:${k === "q/k03" ? "removed" : toHex(sha256(utf8(v))).slice(0, 8)}:${changes}`;
        });
        for (const node of [0, 1]) {
          await c.waitFor(
            async () => (await c.clients[node]!.status()).height >= at,
            20_000,
            `node ${node} applies`,
          );
          assert.deepEqual(await listed(client, "q/k", node), expected, `node ${node}'s listing`);
        }
        const live = [];
        for await (const e of client.listAll("q/k")) live.push(e.key);
        assert.deepEqual(
          live,
          keys.filter((k) => k !== "q/k03"),
          "removed keys are left out by default",
        );
        const none = await client.list("q/nothing", { node: 0 });
        assert.deepEqual([none.entries.length, none.done], [0, true]);

        // Histories: a key's holders keep its history; every one gives the same, newest first, with
        // values. A node that does not hold the key says so (UNAVAILABLE).
        const holders = client.holders("q/k03");
        for (const node of [0, 1, 2]) {
          if (!holders.includes(node)) {
            await assert.rejects(
              client.history("q/k03", { node, limit: 2 }),
              (e: unknown) => e instanceof UnavailableError && /history\/unavailable/.test(e.message),
              `node ${node} does not keep the history of a key it does not hold`,
            );
            continue;
          }
          const page = await client.history("q/k03", { node, limit: 2 });
          assert.equal(page.changes.length, 2);
          assert.equal(page.changes[0]!.valueHash, null, "the newest change removed the key");
          assert.equal(page.changes[0]!.number, 5n);
          const all: import("../../client/index.js").KeyVersion[] = [];
          for await (const v of client.historyAll("q/k03", { node, limit: 2 })) all.push(v);
          assert.deepEqual(
            all.map((v) => v.number),
            [5n, 4n, 3n, 2n, 1n],
          );
          assert.equal(all[0]!.height, at);
          assert.ok(
            all.every((v, i) => i === 0 || v.height <= all[i - 1]!.height),
            "newest first",
          );
          assert.equal(new TextDecoder().decode(all[1]!.value), "v4", `node ${node} gives the values`);
        }
        const unwritten = await client.history("q/never", { node: 0 });
        assert.deepEqual([unwritten.changes.length, unwritten.next], [0, null]);
        const ranged = [];
        for await (const v of client.historyAll("q/k03", { fromHeight: at, toHeight: at }))
          ranged.push(v.number);
        assert.deepEqual(ranged, [5n], "a height range keeps the changes made in it");

        // The liars, asked directly, fail verification.
        await c.waitFor(
          async () => (await c.clients[OMITS]!.status()).height >= at,
          20_000,
          "the liar applies",
        );
        await c.waitFor(
          async () => (await c.clients[DROPS]!.status()).height >= at,
          20_000,
          "the liar applies",
        );
        await assert.rejects(
          client.list("q/", { node: OMITS }),
          (e: unknown) => e instanceof VerificationError,
        );
        // What each liar does not lie about is the same as the others give: so all four nodes, of
        // both partitions, agree on the listing (node 2's history of q/k03 was checked above).
        assert.deepEqual(await listed(client, "q/k", DROPS), expected, "node 3's listing");
        // Through the SDK, without naming a node, listings and histories come out whole.
        assert.deepEqual(await listed(client, "q/k"), expected);
        const through = [];
        for await (const v of client.historyAll("q/k03")) through.push(v.number);
        assert.deepEqual(through, [5n, 4n, 3n, 2n, 1n]);

        // A history with a change left out fails verification: asked of the liar for a key it holds
        // (so keeps the history of), given a second change if it had one only.
        const dropsKey = ["q/k03", "q/k05", ...keys].find((k) => client.holders(k).includes(DROPS))!;
        if (dropsKey !== "q/k03" && dropsKey !== "q/k05") {
          const again = await client.writeRecords("q", [[dropsKey, utf8("v2")]]);
          await c.waitFor(
            async () => (await c.clients[DROPS]!.status()).height >= again.receipt.height,
            20_000,
            "the liar applies",
          );
        }
        await assert.rejects(
          client.history(dropsKey, { node: DROPS }),
          (e: unknown) => e instanceof VerificationError,
        );

        // Bad queries get typed errors and change nothing.
        await assert.rejects(
          client.list("q/", { limit: 0 }),
          (e: unknown) => (e as { code?: string }).code === "client/bad-limit",
        );
        await assert.rejects(
          client.list("q/", { limit: 1001 }),
          (e: unknown) => (e as { code?: string }).code === "client/bad-limit",
        );
        await assert.rejects(client.node(0).list("q/", { limit: 5000 }), (e: unknown) =>
          /list\/bad-limit/.test(String((e as { details?: string }).details)),
        );
        await assert.rejects(client.node(0).history("q/k03", { number: 99n, limit: 5 }), (e: unknown) =>
          /history\/bad-number/.test(String((e as { details?: string }).details)),
        );
        assert.equal(
          (await client.list("q/", { node: 0, limit: 3 })).entries.length,
          3,
          "the node still serves",
        );
      },
    );
  },
);

test(
  "reads at a past height: the value of that block, through every holder; older than the window is refused",
  { timeout: 240_000 },
  async () => {
    const RETENTION = 30;
    await withSdkCluster({ n: 4, k: 2, T: 512, tickMs: 20, retention: RETENTION }, async (c, client) => {
      await client.createDomain("p");
      const heights: bigint[] = [];
      for (let v = 1; v <= 4; v++)
        heights.push((await client.writeRecords("p", [["p/x", utf8(`x${v}`)]])).receipt.height);
      const removed = (await client.writeRecords("p", [["p/x", null]])).receipt.height;
      const text = (m: Map<string, Uint8Array | null>) => {
        const v = m.get("p/x");
        return v ? new TextDecoder().decode(v) : null;
      };
      for (let v = 1; v <= 4; v++) {
        assert.equal(
          text(await client.get(["p/x"], { height: heights[v - 1]! })),
          `x${v}`,
          `at ${heights[v - 1]}`,
        );
        if (heights[v - 1]! + 1n < (heights[v] ?? removed))
          assert.equal(
            text(await client.get(["p/x"], { height: heights[v - 1]! + 1n })),
            `x${v}`,
            "between changes",
          );
      }
      assert.equal(text(await client.get(["p/x"], { height: removed })), null, "removed");
      assert.equal(
        text(await client.get(["p/x"], { height: heights[0]! - 1n })),
        null,
        "before it was written",
      );
      assert.equal(text(await client.get(["p/never"], { height: removed })), null, "never written");

      // Past the window: refused with a typed error, and the holders dropped the superseded values.
      while (
        (await client.writeRecords("p", [["p/later", utf8("y")]])).receipt.height <=
        removed + BigInt(RETENTION)
      );
      await assert.rejects(
        client.get(["p/x"], { height: heights[0]! }),
        (e: unknown) => (e as { code?: string }).code === "query/height-pruned",
      );
      const holder = client.holders("p/x")[0]!;
      await c.waitFor(
        async () => {
          const h = await client.history("p/x", { node: holder });
          return h.changes.slice(1).every((ch) => ch.value === undefined);
        },
        20_000,
        "the holder drops values no height of the window needs",
      );
      const newest = await client.history("p/x", { node: holder });
      assert.equal(newest.changes.length, 5, "the changes themselves stay");
    });
  },
);
