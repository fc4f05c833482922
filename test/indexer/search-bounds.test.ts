// The search endpoint's bounds without a cluster: past MAX_CONCURRENT_SEARCHES a search is answered
// 503 `search/busy` at once, a search over its statement timeout is 503 `search/timeout` (the
// timeout is set in the search's own transaction, so the writer's statements are not bounded by
// it), and a query of exclusions alone is refused before any SQL runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArborError } from "../../node/common/errors.js";
import { IndexDb, type SearchQuery } from "../../node/cli/indexer/index-db.js";
import { openPglite } from "../../node/cli/indexer/pglite-engine.js";
import type { Query, SqlEngine } from "../../node/cli/indexer/sql-engine.js";
import { MAX_CONCURRENT_SEARCHES, SEARCH_STATEMENT_TIMEOUT_MS } from "../../node/cli/indexer/limits.js";
import { serveSearch } from "../../node/cli/indexer/search-http.js";

async function get(port: number, qs: string): Promise<{ status: number; retry: string | null; body: any }> {
  const r = await fetch(`http://127.0.0.1:${port}/search?${qs}`);
  return { status: r.status, retry: r.headers.get("retry-after"), body: await r.json() };
}

test("past MAX_CONCURRENT_SEARCHES a search is refused 503 search/busy at once", async () => {
  const held: (() => void)[] = [];
  const server = await serveSearch(
    () => new Promise((resolve) => held.push(() => resolve({ hits: [], height: 1n }))),
    "127.0.0.1",
    0,
  );
  try {
    const running = Array.from({ length: MAX_CONCURRENT_SEARCHES }, () => get(server.port, "q=brown"));
    while (held.length < MAX_CONCURRENT_SEARCHES) await new Promise((r) => setTimeout(r, 5));
    const busy = await get(server.port, "q=brown");
    assert.equal(busy.status, 503);
    assert.equal(busy.body.error.code, "search/busy");
    assert.equal(busy.retry, "1");
    for (const release of held.splice(0)) release();
    for (const r of await Promise.all(running)) assert.equal(r.status, 200);
    const after = get(server.port, "q=brown");
    while (held.length < 1) await new Promise((r) => setTimeout(r, 5));
    held.pop()!();
    assert.equal((await after).status, 200, "places are given back");
  } finally {
    await server.close();
  }
});

test("a search over its time is 503 search/timeout", async () => {
  const server = await serveSearch(
    () => Promise.reject(new ArborError("search/timeout", "the search ran over 5000 ms")),
    "127.0.0.1",
    0,
  );
  try {
    const r = await get(server.port, "q=brown");
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, "search/timeout");
  } finally {
    await server.close();
  }
});

test("the search's SQL runs with a statement timeout in its own transaction; a cancelled one is search/timeout", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-search-bounds-"));
  const engine = await openPglite(dir);
  try {
    const seen: string[] = [];
    let cancel = false;
    const spy = (q: Query): Query =>
      (async (sql: string, params?: readonly unknown[]) => {
        seen.push(`${sql.trim().split(/\s+/).slice(0, 2).join(" ")} ${JSON.stringify(params ?? [])}`);
        if (cancel && /websearch_to_tsquery/.test(sql))
          throw Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" });
        return q(sql, params);
      }) as Query;
    const spied: SqlEngine = { ...engine, transaction: (body) => engine.transaction((q) => body(spy(q))) };
    const db = await IndexDb.open(spied, "00".repeat(32), { entries: [], records: [] });
    seen.length = 0;
    const q: SearchQuery = { text: "brown", limit: 5 };
    assert.deepEqual((await db.search(q)).hits, []);
    assert.ok(
      seen.includes(`SELECT set_config('statement_timeout', ["${SEARCH_STATEMENT_TIMEOUT_MS}"]`),
      seen.join("\n"),
    );
    cancel = true;
    await assert.rejects(
      db.search(q),
      (e: unknown) => e instanceof ArborError && e.code === "search/timeout",
    );
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
