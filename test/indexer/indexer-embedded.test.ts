// The indexer on a real cluster with the embedded engine: what it indexes is what the chain holds
// (every row equal to a verified read), searches find text and JSON values and filter by domain,
// bad searches get a 400 and change nothing, the SDK returns only hits it verified (a lying index
// forges none), and a node feeding tampered blocks is refused while the block comes from another.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withSdkCluster } from "../cluster/sdk-cluster.js";
import { utf8 } from "../../node/common/bytes.js";
import { openEngine } from "../../node/cli/indexer/open-engine.js";
import { Indexer } from "../../node/cli/indexer/indexer.js";
import { serveSearch } from "../../node/cli/indexer/search-http.js";
import { checkRowsAgainstChain, httpGet, lyingIndex, runArbor } from "./index-helpers.js";

const LIAR = 0;

test(
  "embedded index: verified ingest, search, 400s, SDK re-verification, a tampering feed refused",
  { timeout: 240_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "arbor-index-"));
    await withSdkCluster(
      { n: 4, k: 2, T: 512, tickMs: 20, byzantine: { [LIAR]: "tamper-change-feed" } },
      async (c, client) => {
        await client.createDomain("notes");
        await client.createDomain("other");
        await client.writeRecords("notes", [
          ["notes/fox", utf8("The quick brown Fox jumps")],
          ["notes/json", utf8(JSON.stringify({ title: "Lazy dog", tags: ["brown", "sleepy"] }))],
          ["notes/bin", new Uint8Array([0, 159, 146, 150, 255])],
          ["notes/gone", utf8("brown and soon removed")],
        ]);
        await client.writeRecords("other", [["other/bear", utf8("a brown bear")]]);
        await client.writeRecords("notes", [["notes/fox", utf8("The quick brown fox leaps")]]);
        const last = await client.writeRecords("notes", [["notes/gone", null]]);
        const keys = ["notes/fox", "notes/json", "notes/bin", "notes/gone", "other/bear"];

        const engine = await openEngine({ data: dir });
        const lines: string[] = [];
        const indexer = await Indexer.open(client, engine, (l) => lines.push(l));
        try {
          await indexer.catchUp();
          assert.ok(indexer.height >= last.receipt.height, `indexed to ${indexer.height}`);
          assert.equal(await indexer.db.height(), indexer.height);
          // Every block the liar fed was refused, and the index is still complete.
          assert.ok(indexer.refusals.length > 0, "the tampering node's blocks were refused");
          assert.ok(
            indexer.refusals.every((r) => r.node === LIAR && r.code.startsWith("follow/")),
            indexer.refusals.map((r) => `${r.node}@${r.height}: ${r.message}`).join("; "),
          );
          assert.ok(lines.some((l) => l.includes(`from node ${LIAR}`)));
          const rows = await checkRowsAgainstChain(client, indexer.db, keys);
          const records = await indexer.db.records();
          assert.ok(rows >= 4);
          const fox = records.find((r) => r.key === "notes/fox")!;
          assert.equal(fox.domain, "notes");
          assert.equal(fox.text, "The quick brown fox leaps");
          assert.equal(fox.writer, Buffer.from(client.key.publicKey).toString("hex"));
          assert.equal(
            records.find((r) => r.key === "notes/bin")!.text,
            null,
            "bytes that are not text have no text",
          );

          const server = await serveSearch((q) => indexer.search(q), "127.0.0.1", 0);
          const base = `http://127.0.0.1:${server.port}`;
          try {
            const brown = await httpGet(`${base}/search?q=brown`);
            assert.equal(brown.status, 200);
            assert.deepEqual(brown.body.hits.map((h: { key: string }) => h.key).sort(), [
              "notes/fox",
              "notes/json",
              "other/bear",
            ]);
            assert.equal(brown.body.height, indexer.height.toString());
            assert.ok(brown.body.hits.every((h: { text_snippet: string }) => /brown/i.test(h.text_snippet)));
            const domain = await httpGet(`${base}/search?q=BROWN&domain=other`);
            assert.deepEqual(
              domain.body.hits.map((h: { key: string }) => h.key),
              ["other/bear"],
            );
            const one = await httpGet(`${base}/search?q=brown&limit=1`);
            assert.equal(one.body.hits.length, 1);
            for (const bad of [
              "q=%22unclosed",
              "q=brown&limit=0",
              "q=brown&limit=101",
              "q=brown&limit=x",
              "q=",
              "q=%21%21",
              "x=1",
            ]) {
              const r = await httpGet(`${base}/search?${bad}`);
              assert.equal(r.status, 400, bad);
              assert.match(r.body.error.code, /^search\//, bad);
            }
            assert.equal((await httpGet(`${base}/search?q=brown`)).status, 200, "the index keeps serving");

            const found = await client.search("brown fox", { index: base });
            assert.deepEqual(
              found.hits.map((h) => h.key),
              ["notes/fox"],
            );
            assert.equal(found.hits[0]!.text, "The quick brown fox leaps");
            const either = await client.search("leaps or sleepy", { index: base });
            assert.deepEqual(either.hits.map((h) => h.key).sort(), ["notes/fox", "notes/json"]);
            await assert.rejects(client.search("brown", { index: base, limit: 500 }), /search\/bad-limit/);

            // The CLI prints the same verified hits.
            const endpoints = ["--endpoints", c.genesis.nodes.map((n) => n.address).join(",")];
            const cli = await runArbor(["search", "brown", "fox", "--index", base, ...endpoints, "--json"]);
            assert.equal(cli.code, 0, cli.stderr);
            const doc = JSON.parse(cli.stdout);
            assert.deepEqual(
              doc.hits.map((h: { key: string }) => h.key),
              ["notes/fox"],
            );
            assert.equal(doc.hits[0].value, "The quick brown fox leaps");
            const usage = await runArbor([
              "index",
              "--data",
              dir,
              "--postgres",
              "postgres://x",
              ...endpoints,
            ]);
            assert.equal(usage.code, 2, usage.stderr);
            const badLimit = await runArbor([
              "search",
              "fox",
              "--index",
              base,
              "--limit",
              "101",
              ...endpoints,
            ]);
            assert.equal(badLimit.code, 2, badLimit.stderr);
          } finally {
            await server.close();
          }

          // An index naming keys whose verified values do not hold the words forges nothing.
          const liar = await lyingIndex(["notes/fox", "notes/never-written", "other/bear"]);
          try {
            const r = await client.search("zebra", { index: liar.url });
            assert.deepEqual(r.hits, []);
            assert.deepEqual(r.dropped.sort(), ["notes/fox", "notes/never-written", "other/bear"]);
            const partly = await client.search("bear", { index: liar.url });
            assert.deepEqual(
              partly.hits.map((h) => h.key),
              ["other/bear"],
              "a true hit among lies survives",
            );
          } finally {
            liar.close();
          }
        } finally {
          await engine.close();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  },
);
