// kill -9 and resume: `arbor index` runs as a child process and is killed (SIGKILL) at growing
// delays while it ingests many blocks; each restart resumes from the height its last transaction
// wrote. At the end the index holds exactly the chain's live records (each equal to a verified
// read), every key's entry, and the height of the last block: no gap, no block written twice.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withSdkCluster } from "../cluster/sdk-cluster.js";
import { utf8 } from "../../node/common/bytes.js";
import { openEngine } from "../../node/cli/indexer/open-engine.js";
import { Indexer } from "../../node/cli/indexer/indexer.js";
import { ChangeFollower } from "../../client/change-follower.js";
import { checkRowsAgainstChain, textOf } from "./index-helpers.js";

const BLOCK_WRITES = 120;
const KEYS_PER_WRITE = 4;
const KILL_DELAYS_MS = [300, 1_200, 1_500, 1_800, 2_100, 2_500, 3_500];

interface Run {
  /** the height the run said it opened the index at */
  readonly startedAt: bigint;
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs `arbor index`; with `killAfterMs`, signals it (SIGKILL) that long after it opened its index. */
function runIndexer(args: string[], killAfterMs?: number, signal: NodeJS.Signals = "SIGKILL"): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["dist/node/bin.js", "index", ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    let startedAt = -1n;
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = /index at height (\d+)/.exec(stderr);
      if (m && startedAt < 0n) {
        startedAt = BigInt(m[1]!);
        if (killAfterMs !== undefined) setTimeout(() => child.kill(signal), killAfterMs);
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ startedAt, code, stderr }));
  });
}

test("kill -9 mid-ingest, restart, and the index is exactly the chain's", { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-index-resume-"));
  try {
    await withSdkCluster({ n: 4, k: 2, T: 512, tickMs: 20 }, async (c, client) => {
      await client.createDomain("r");
      const keys: string[] = [];
      let last = 0n;
      for (let b = 0; b < BLOCK_WRITES; b++) {
        const writes: [string, Uint8Array | null][] = [];
        for (let j = 0; j < KEYS_PER_WRITE; j++) {
          const i = b * KEYS_PER_WRITE + j;
          keys.push(`r/k${i}`);
          writes.push([`r/k${i}`, utf8(textOf(i))]);
        }
        // Now and then a key written before changes or goes.
        if (b % 5 === 4) writes.push([`r/k${b - 4}`, b % 10 === 9 ? null : utf8(`rewritten ${b}`)]);
        last = (await client.writeRecords("r", writes)).receipt.height;
      }
      const endpoints = c.genesis.nodes.map((n) => n.address).join(",");
      const args = ["--data", dir, "--endpoints", endpoints];

      const starts: bigint[] = [];
      for (const delay of KILL_DELAYS_MS) {
        const run = await runIndexer(args, delay);
        assert.equal(run.code, null, `killed, not exited: ${run.stderr}`);
        starts.push(run.startedAt);
      }
      // SIGTERM stops it cleanly: the block in flight is finished or rolled back, exit code 0.
      const termed = await runIndexer(args, 300, "SIGTERM");
      assert.equal(termed.code, 0, termed.stderr);
      assert.match(termed.stderr, /stopped at height \d+/);
      starts.push(termed.startedAt);
      const final = await runIndexer([...args, "--once"]);
      assert.equal(final.code, 0, final.stderr);
      starts.push(final.startedAt);
      // Each run resumed where an earlier one stopped, never behind it.
      for (let i = 1; i < starts.length; i++)
        assert.ok(starts[i]! >= starts[i - 1]!, `resumed heights ${starts.join(", ")}`);
      assert.ok(
        starts.some((h) => h > 0n && h < last),
        `some kill landed mid-way (resumed at ${starts.join(", ")}; last block ${last})`,
      );
      process.stdout.write(`# resumed at heights ${starts.join(", ")}; last block ${last}\n`);

      const engine = await openEngine({ data: dir });
      try {
        const indexer = await Indexer.open(client, engine);
        assert.equal(await indexer.db.height(), last, "the index's height is the last block's");
        const rows = await checkRowsAgainstChain(client, indexer.db, keys);
        assert.ok(rows >= keys.length - BLOCK_WRITES / 10, `${rows} rows`);
        // Every key's entry is the chain's: a follower rebuilt from the rows reaches the certified root.
        const entries = [];
        for await (const e of indexer.db.entries()) entries.push(e);
        const root = new ChangeFollower(entries, last).index.rootHash();
        assert.deepEqual(root, (await client.certifiedHeader(last)).header.indexRoot);
      } finally {
        await engine.close();
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
