// Shared by the indexer tests: text records to write, a search over HTTP, the index's rows compared
// with verified reads, and a lying index to search through.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ArborClient } from "../../client/index.js";
import { toHex } from "../../node/common/bytes.js";
import { sha256 } from "../../node/common/hash.js";
import { MAX_TOUCHED_KEYS } from "../../node/common/limits.js";
import type { IndexDb } from "../../node/cli/indexer/index-db.js";

export const WORDS = [
  "amber",
  "birch",
  "cedar",
  "dune",
  "ember",
  "fjord",
  "glade",
  "heath",
  "islet",
  "juniper",
];

/** The text of record i: two words of WORDS, and its own number. */
export function textOf(i: number): string {
  return `note ${i}: ${WORDS[i % WORDS.length]} and ${WORDS[(i * 7 + 3) % WORDS.length]} n${i}`;
}

export async function httpGet(url: string): Promise<{ status: number; body: any }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.json() };
}

/** Every record row of the index equals a verified read, and every live key of `keys` has a row. */
export async function checkRowsAgainstChain(
  client: ArborClient,
  db: IndexDb,
  keys: readonly string[],
): Promise<number> {
  const rows = await db.records();
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const all = [...new Set([...keys, ...rows.map((r) => r.key)])];
  const verified = new Map<string, Uint8Array | null>();
  for (let i = 0; i < all.length; i += MAX_TOUCHED_KEYS)
    for (const [k, v] of await client.get(all.slice(i, i + MAX_TOUCHED_KEYS))) verified.set(k, v);
  for (const [key, v] of verified) {
    const row = byKey.get(key);
    if (v === null) {
      assert.equal(row, undefined, `${key} is removed on chain and must have no row`);
      continue;
    }
    assert.ok(row, `${key} is live on chain and must have a row`);
    assert.equal(toHex(row.value_hash), toHex(sha256(v)), `${key}'s value hash`);
    assert.deepEqual(row.value, v, `${key}'s value`);
  }
  return rows.length;
}

/** An index that answers every search with `keys`, whatever was asked. */
export async function lyingIndex(keys: readonly string[]): Promise<{ url: string; close: () => void }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ hits: keys.map((key) => ({ key, height: "1", text_snippet: "zebra" })), height: "1" }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => server.close(),
  };
}

/** Runs the `arbor` command (the compiled CLI) without blocking this process's event loop. */
export function runArbor(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["dist/node/bin.js", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
