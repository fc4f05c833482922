// The explorer in a real browser (Debian's chromium, driven by puppeteer-core; the test skips,
// saying why, without it): a 4-node cluster with browser APIs, some bank-like records, the page
// served by `arbor explorer`. It reads a balance shown verified against a certified header, follows
// the key's history, sees a new block appear without reloading with its receipt counts, shows that
// block's receipts and a request's receipt by id verified, pages a listing forward and a history
// to older changes, lists the domains and marks a domain's operations, and turns red when it
// reads from a node that forges GET proofs, from one that leaves a receipt out of a block's list,
// and when it is pinned to another chain. Screenshots for
// docs/explorer.md are written to docs/explorer/ with ARBOR_SCREENSHOTS=1; the time from page load to the first verified
// balance is printed (measured, not asserted).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { withSdkCluster } from "../cluster/sdk-cluster.js";
import { toHex, utf8 } from "../../node/common/bytes.js";
import { keyPath } from "../../node/store/core/path.js";
import { Partition } from "../../node/store/core/partition.js";
import type { Genesis } from "../../node/ledger/genesis.js";

/** The node started with "forge-get-root". */
const LIAR = 3;
/** The node started with "drop-block-receipt". */
const DROPPER = 0;
/** A node with neither misbehaviour. */
const GOOD = 1;
/** Where the browser is, as Debian's chromium package installs it. */
const CHROMIUM = process.env.ARBOR_CHROMIUM ?? "/usr/bin/chromium";
/**
 * Where the screenshots go: docs/explorer/ when ARBOR_SCREENSHOTS=1 (to refresh the docs' images),
 * else a temporary folder, so that a test run leaves the working tree as it was.
 */
const SCREENSHOTS =
  process.env.ARBOR_SCREENSHOTS === "1" ? join("docs", "explorer") : join(tmpdir(), "arbor-explorer-shots");
/** Longest wait for something to show on the page. */
const SHOW_MS = 30_000;
const ACCOUNTS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
/** Keys under notes/: more than one listing page (the page's PAGE_LIMIT is 20). */
const NOTES = 25;
/** Changes of the notes log: more than one history page. */
const LOG_CHANGES = 22;
/** The operation the test deploys (built by `npm run build:ops`). */
const OPERATION = "bank/transfer";
const OPERATION_WASM = join("build", "ops", "banking", "transfer.wasm");

function account(name: string, balance: number): Uint8Array {
  return utf8(JSON.stringify({ owner: name, balance }));
}

function holders(g: Genesis, key: string): number[] {
  return g.nodes.filter((n) => new Partition(n.prefixes).holdsKey(keyPath(key))).map((n) => n.id);
}

/** `arbor explorer --dir DIR` on a free port; resolves with the address it prints. */
function startExplorer(dir: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ["dist/node/bin.js", "explorer", "--dir", dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/\S+)/.exec(out);
      if (m) resolve({ proc, url: m[1]! });
    });
    proc.once("exit", (code) => reject(new Error(`arbor explorer exited (${code}): ${err}`)));
  });
}

/** An element as this file sees it (the test's TypeScript has no DOM types: the page has them). */
interface Shown {
  innerText: string;
  value: string;
}

/** The height in the newest row of the latest blocks, 0 while there is none. */
const TOP_BLOCK = `Number(document.querySelector("#blocks tbody tr td")?.innerText ?? 0)`;

async function text(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (e) => (e as unknown as Shown).innerText);
}

/** Types `q` into the search box and runs the search. */
async function search(page: Page, q: string): Promise<void> {
  await page.$eval("#q", (e, v) => ((e as unknown as Shown).value = v), q);
  await page.click("#search button");
}

/** The accepted count shown in the latest blocks' row of `height` ("" while none). */
const acceptedAt = (height: bigint) =>
  `[...document.querySelectorAll("#blocks tbody tr")].find((r) => r.querySelector("td")?.innerText === "${height}")?.querySelector(".accepted")?.innerText ?? ""`;

test(
  "the explorer verifies in the browser and turns red on a forged value",
  { timeout: 300_000 },
  async (t) => {
    if (spawnSync(CHROMIUM, ["--version"]).error) {
      t.skip(`no browser at ${CHROMIUM} (Debian package chromium): the explorer's browser test skips`);
      return;
    }
    await withSdkCluster(
      {
        n: 4,
        k: 2,
        T: 512,
        tickMs: 20,
        web: true,
        byzantine: { [LIAR]: "forge-get-root", [DROPPER]: "drop-block-receipt" },
      },
      async (c, client) => {
        await client.createDomain("bank");
        await client.writeRecords(
          "bank",
          ACCOUNTS.map((n, i) => [`bank/${n}`, account(n, 100 * (i + 1))] as const),
        );
        // A key the liar holds, and an honest holder of it to read it from first.
        const name = ACCOUNTS.find((n) => holders(c.genesis, `bank/${n}`).includes(LIAR))!;
        const key = `bank/${name}`;
        const honest = holders(c.genesis, key).find((id) => id !== LIAR)!;
        await client.writeRecords("bank", [[key, account(name, 750)]]);
        await client.writeRecords("bank", [[key, account(name, 730)]]);
        await client.deployOp(OPERATION, new Uint8Array(readFileSync(OPERATION_WASM)));
        // A listing of more than one page, and a key (held by the honest node) of more than one
        // history page.
        await client.createDomain("notes");
        const notes = Array.from({ length: NOTES }, (_, i) => `notes/n${String(i).padStart(2, "0")}`);
        await client.writeRecords(
          "notes",
          notes.map((k) => [k, utf8(k)] as const),
        );
        const logKey = ["a", "b", "c", "d", "e", "f", "g", "h"]
          .map((s) => `notes/log-${s}`)
          .find((k) => holders(c.genesis, k).includes(honest))!;
        for (let i = 1; i <= LOG_CHANGES; i++)
          await client.writeRecords("notes", [[logKey, utf8(JSON.stringify({ entry: i }))]]);

        const { proc, url } = await startExplorer(c.dir);
        let browser: Browser | undefined;
        try {
          browser = await puppeteer.launch({
            executablePath: CHROMIUM,
            headless: true,
            args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
          });
          const page = await browser.newPage();
          await page.setViewport({ width: 1000, height: 760 });
          const started = Date.now();
          await page.goto(`${url}&node=${honest}&q=${encodeURIComponent(key)}`);
          await page.waitForSelector("#value .mark.ok", { timeout: SHOW_MS });
          const loadToVerified = Date.now() - started;
          const probe = (await page.evaluate("arborExplorer.firstVerifiedMs")) as number;
          console.log(
            `explorer: page load to first verified balance ${loadToVerified} ms (in-page ${Math.round(probe)} ms)`,
          );
          const shown = await text(page, "#value");
          assert.match(shown, /"balance":730/);
          assert.match(shown, /verified against certified header \d+/);

          // The history: three changes, newest first, chained to the certified index entry.
          await page.waitForSelector("#history .mark.ok", { timeout: SHOW_MS });
          const history = await text(page, "#history");
          assert.match(history, /#3[\s\S]*"balance":730[\s\S]*#2[\s\S]*"balance":750[\s\S]*#1/);
          mkdirSync(SCREENSHOTS, { recursive: true });
          await page.screenshot({ path: join(SCREENSHOTS, "verified-balance.png") });

          // Live: a new block appears without reloading.
          await page.waitForFunction(`${TOP_BLOCK} > 0`, { timeout: SHOW_MS }).catch(async (e) => {
            throw new Error(`no blocks shown: ${await text(page, "#blocks")}`, { cause: e });
          });
          const topBefore = (await page.evaluate(TOP_BLOCK)) as number;
          const r = await client.writeRecords("bank", [["bank/zoe", account("zoe", 5)]]);
          await page.waitForFunction(`${TOP_BLOCK} >= ${r.receipt.height}`, { timeout: SHOW_MS });
          assert.ok(Number(r.receipt.height) > topBefore);

          // The prefix listing, proven complete.
          await page.$eval("#q", (e) => ((e as unknown as Shown).value = "bank/"));
          await page.click("#search button");
          await page.waitForSelector("#result h2 .mark.ok", { timeout: SHOW_MS });
          assert.match(await text(page, "#result"), /bank\/zoe/);

          // Paging a listing: the next page lists the keys after the first page's last key, verified.
          await search(page, "notes/");
          const keysShown = `[...document.querySelectorAll("#listing tbody tr td:first-child")].map((d) => d.innerText)`;
          // The bank/ listing above is a first page too: wait for this one's keys, verified.
          await page.waitForFunction(
            `document.querySelector('#listing[data-page="1"] h2 .mark.ok') !== null && ${keysShown}.length > 0 && ${keysShown}.every((k) => k.startsWith("notes/"))`,
            { timeout: SHOW_MS },
          );
          const first = (await page.evaluate(keysShown)) as string[];
          assert.equal(first.length, 20);
          await page.click("#listing .next-page");
          await page.waitForSelector(`#listing[data-page="2"] h2 .mark.ok`, { timeout: SHOW_MS });
          const second = (await page.evaluate(keysShown)) as string[];
          assert.ok(second.length > 0 && second.every((k) => k > first.at(-1)!), `${second} after ${first}`);
          assert.ok(second.includes(notes.at(-1)!));
          assert.match(
            await text(page, "#listing h2"),
            /page 2, last.*verified against certified header \d+/,
          );

          // Paging a history: the older changes, chained to the first page's cursor.
          await search(page, logKey);
          await page.waitForSelector("#history .mark.ok", { timeout: SHOW_MS });
          assert.match(await text(page, "#history"), new RegExp(`#${LOG_CHANGES}[\\s\\S]*#3\\b`));
          await page.click("#history .older");
          await page.waitForFunction(
            `document.querySelector("#history h3")?.innerText.includes("changes #2 to #1")`,
            {
              timeout: SHOW_MS,
            },
          );
          const older = await text(page, "#history");
          assert.match(older, /verified against certified header \d+/);
          assert.match(older, /#2[\s\S]*"entry":2[\s\S]*#1[\s\S]*"entry":1/);
          assert.equal(await page.$("#history .older"), null);

          // A block's receipts, from a node with neither misbehaviour: counted in the latest blocks,
          // listed in the block's view, each list checked whole against the certified receipt root.
          const h = r.receipt.height;
          const idHex = toHex(r.receipt.requestId);
          // (Selecting a node runs the search in the box again: the height, typed first.)
          await page.$eval("#q", (e, v) => ((e as unknown as Shown).value = v), String(h));
          await page.select("#node", String(GOOD));
          await page.waitForFunction(`${acceptedAt(h)} === "1"`, { timeout: SHOW_MS }).catch(async (e) => {
            throw new Error(`no accepted count at ${h}: ${await text(page, "#blocks")}`, { cause: e });
          });
          await page.waitForSelector("#receipts .mark", { timeout: SHOW_MS });
          const receipts = await text(page, "#receipts");
          assert.match(
            receipts,
            new RegExp(`1 request: 1 accepted, 0 rejected ✔ verified against certified header ${h}`),
          );
          assert.match(receipts, new RegExp(`${idHex.slice(0, 16)}…\\s+accepted`));
          await page.screenshot({ path: join(SCREENSHOTS, "block-receipts.png") });

          // A request's receipt by its id, checked by its inclusion path.
          await search(page, idHex);
          await page.waitForSelector("#receipt .mark.ok", { timeout: SHOW_MS }).catch(async (e) => {
            throw new Error(`no receipt shown: ${await text(page, "#result")}`, { cause: e });
          });
          const shownReceipt = await text(page, "#receipt");
          assert.match(shownReceipt, new RegExp(`verified against certified header ${h}`));
          assert.match(shownReceipt, /status\s+accepted/);

          // The domains, from verified listings of the index.
          await page.click("#show-domains");
          await page.waitForSelector("#domains .mark.ok", { timeout: SHOW_MS });
          assert.match(await text(page, "#domains"), /^bank$/m);

          // A domain's keys: the operations (values read by verified GETs) are marked.
          await page.click(`#domains a[data-q="bank/"]`);
          await page.waitForFunction(
            `/operations: \\d+ among/.test(document.querySelector("#listing .ops-status")?.innerText ?? "")`,
            { timeout: SHOW_MS },
          );
          const kindOf = (k: string) =>
            page.evaluate(
              `[...document.querySelectorAll("#listing tbody tr")].find((r) => r.querySelector("td").innerText === "${k}")?.children[1].innerText`,
            );
          assert.equal(await kindOf(OPERATION), "operation", await text(page, "#listing"));
          assert.equal(await kindOf("bank/.base_rule"), "operation");
          assert.equal(await kindOf(key), "");

          // A node that leaves a receipt out of a block's list: that block's receipts turn red.
          await page.$eval("#q", (e, v) => ((e as unknown as Shown).value = v), String(h));
          await page.select("#node", String(DROPPER));
          await page.waitForSelector("#receipts .mark.fail", { timeout: SHOW_MS });
          assert.match(await text(page, "#receipts"), /client\/bad-block-receipts/);
          await page.waitForSelector("#blocks .receipts-failed", { timeout: SHOW_MS });

          // Reading from the node that forges GET proofs: the page shows a failure, never its value.
          await page.$eval("#q", (e, k) => ((e as unknown as Shown).value = k), key);
          await page.select("#node", String(LIAR));
          await page.waitForSelector("#result .mark.fail", { timeout: SHOW_MS });
          assert.equal(await page.$("#value"), null, "no value is shown from the forging node");
          assert.match(await text(page, "#result"), /verification failed/);
          await page.screenshot({ path: join(SCREENSHOTS, "forged-value.png") });

          // A page pinned to another chain (a server handing out another cluster's nodes) trusts nothing.
          const other = await browser.newPage();
          await other.goto(
            `${url.replace(/#chain=[0-9a-f]+/, `#chain=${"0".repeat(64)}`)}&q=${encodeURIComponent(key)}`,
          );
          await other.waitForSelector("#chain .mark.fail", { timeout: SHOW_MS });
          assert.match(await text(other, "#chain"), /explorer\/wrong-chain/);
          await other.waitForSelector("#result .mark.fail", { timeout: SHOW_MS });
          assert.equal(await other.$("#value"), null);
        } finally {
          await browser?.close();
          proc.kill("SIGTERM");
        }
      },
    );
  },
);
