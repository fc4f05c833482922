// Crash safety: a child process committing blocks is killed with SIGKILL at random moments; on
// reopen the store is exactly at a committed block (at or after the last one it reported), with
// that block's root, every time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LevelStore } from "../../node/store/level-store.js";
import { crashPartition, CRASH_T, mirrorAt } from "./crash-blocks.js";
import { toHex } from "../../node/common/bytes.js";

const KILLS = Number(process.env.ARBOR_CRASH_KILLS ?? 12);
const child = new URL("./crash-child.js", import.meta.url).pathname;

function runAndKill(dir: string, seed: number, afterMs: number): Promise<bigint> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir, String(seed)], { stdio: ["ignore", "pipe", "pipe"] });
    let last = -1n;
    let buf = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) if (l.startsWith("committed ")) last = BigInt(l.split(" ")[1]!);
      if (last >= 0n && !p.killed) setTimeout(() => p.kill("SIGKILL"), afterMs);
    });
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve(last);
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

test(`store survives ${KILLS} SIGKILLs at random moments`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-crash-"));
  const seed = 99;
  let rnd = 12345;
  try {
    let lastSeen = 0n;
    for (let k = 0; k < KILLS; k++) {
      rnd = (rnd * 1103515245 + 12345) % 2147483648;
      const reported = await runAndKill(dir, seed, rnd % 400);
      const store = await LevelStore.open(dir, { partition: crashPartition(), T: CRASH_T });
      try {
        assert.ok(store.height >= reported, `reopened at ${store.height}, child had reported ${reported}`);
        assert.ok(store.height >= lastSeen);
        const mirror = mirrorAt(seed, store.height);
        assert.equal(
          toHex(store.history.rootLabel),
          toHex(mirror.rootLabel),
          `root at height ${store.height}`,
        );
        assert.equal(store.history.now, mirror.now);
        lastSeen = store.height;
      } finally {
        await store.close();
      }
    }
    assert.ok(lastSeen > 0n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
