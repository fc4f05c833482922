// The PostgreSQL server engine: `arbor index --postgres URL --once` indexes a cluster into a
// throwaway server, and for the same queries the server and the embedded engine give the same
// hits, in the same order. Also measures search latency through the SDK (hits re-verified) on
// both. Skips, saying why, without Debian's postgresql binaries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { withSdkCluster } from "../cluster/sdk-cluster.js";
import { utf8 } from "../../node/common/bytes.js";
import { openEngine } from "../../node/cli/indexer/open-engine.js";
import type { SqlEngine } from "../../node/cli/indexer/sql-engine.js";
import { Indexer } from "../../node/cli/indexer/indexer.js";
import { serveSearch, type SearchServer } from "../../node/cli/indexer/search-http.js";
import { httpGet, textOf, WORDS } from "./index-helpers.js";
import { startPostgres } from "./postgres-server.js";

const RECORDS = 2_000;
const KEYS_PER_WRITE = 50;
const QUERIES = 50;

/** QUERIES searches: single words, pairs, `or`, exclusions, phrases, domain filters and limits. */
function queries(): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < QUERIES; i++) {
    const a = WORDS[i % WORDS.length]!;
    const b = WORDS[(i * 3 + 1) % WORDS.length]!;
    const forms = [
      `q=${a}`,
      `q=${a}+${b}`,
      `q=${a}+or+${b}&limit=50`,
      `q=${a}+-${b}&limit=100`,
      `q=%22note+${i}%22`,
      `q=${a}&domain=d${i % 4}`,
      `q=n${i * 37}`,
    ];
    out.push(forms[i % forms.length]!);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

test("PostgreSQL server and embedded engine give the same hits", { timeout: 600_000 }, async (t) => {
  const pg = await startPostgres();
  if (typeof pg === "string") {
    process.stdout.write(`# skipped: ${pg}\n`);
    t.skip(pg);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "arbor-index-pg-"));
  const engines: SqlEngine[] = [];
  const servers: SearchServer[] = [];
  try {
    await withSdkCluster({ n: 4, k: 2, T: 512, tickMs: 20 }, async (c, client) => {
      for (let d = 0; d < 4; d++) await client.createDomain(`d${d}`);
      for (let w = 0; w < RECORDS / KEYS_PER_WRITE; w++) {
        const d = `d${w % 4}`;
        const writes = Array.from({ length: KEYS_PER_WRITE }, (_, j) => {
          const i = w * KEYS_PER_WRITE + j;
          return [`${d}/k${i}`, utf8(textOf(i))] as const;
        });
        await client.writeRecords(d, writes);
      }
      const endpoints = c.genesis.nodes.map((n) => n.address).join(",");
      const cli = spawnSync(
        process.execPath,
        ["dist/node/bin.js", "index", "--postgres", pg.url, "--endpoints", endpoints, "--once"],
        { encoding: "utf8", timeout: 300_000 },
      );
      assert.equal(cli.status, 0, cli.stderr);

      const indexers: Indexer[] = [];
      for (const choice of [{ postgres: pg.url }, { data: dir }]) {
        const engine = await openEngine(choice);
        engines.push(engine);
        const ix = await Indexer.open(client, engine);
        await ix.catchUp();
        indexers.push(ix);
        servers.push(await serveSearch((q) => ix.search(q), "127.0.0.1", 0));
      }
      assert.equal(indexers[0]!.height, indexers[1]!.height, "both at the same height");
      const [pgBase, liteBase] = servers.map((s) => `http://127.0.0.1:${s.port}`);

      let nonEmpty = 0;
      for (const q of queries()) {
        const [a, b] = [await httpGet(`${pgBase}/search?${q}`), await httpGet(`${liteBase}/search?${q}`)];
        assert.equal(a.status, 200, `${q}: ${JSON.stringify(a.body)}`);
        assert.deepEqual(a.body, b.body, `the same hits for ${q}`);
        if (a.body.hits.length > 0) nonEmpty++;
      }
      assert.ok(nonEmpty >= QUERIES / 2, `${nonEmpty} queries found something`);

      // Latency through the SDK: the index's answer plus the verified re-reads of every hit.
      for (const [name, base] of [
        ["postgres", pgBase!],
        ["embedded", liteBase!],
      ] as const) {
        const ms: number[] = [];
        let hits = 0;
        for (const q of queries()) {
          const p = new URLSearchParams(q);
          const t0 = performance.now();
          const r = await client.search(p.get("q")!, {
            index: base,
            ...(p.has("limit") ? { limit: Number(p.get("limit")) } : {}),
            ...(p.has("domain") ? { domain: p.get("domain")! } : {}),
          });
          ms.push(performance.now() - t0);
          hits += r.hits.length;
          assert.deepEqual(r.dropped, [], `an honest index's hits all verify (${q})`);
        }
        process.stdout.write(
          `# ${name}: median ${median(ms).toFixed(1)} ms over ${QUERIES} searches of ${RECORDS} records, ${hits} verified hits\n`,
        );
      }
    });
  } finally {
    for (const s of servers) await s.close();
    for (const e of engines) await e.close();
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
