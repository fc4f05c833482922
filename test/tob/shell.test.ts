// The consensus shell over real LevelDB, in solo mode (n = 1 commits at once): every block is
// stored once (under its id; the ledger and the tree only index it), nothing uncommitted is left
// behind, a restart re-delivers what the application had not applied, and a store written in the
// earlier layout (whole blocks under the ledger and tree keys) still restores; peer messages are
// bounded in bytes, and catch-up requests in rate per peer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { openSolo, until } from "./solo-shell.js";
import { decodeBlock, encodeBlock, encodeMessage, type Delivery } from "../../node/tob/core/index.js";
import { SYNC_REQUEST_PEER_INTERVAL_MS, TOB_MAX_QUEUED_MESSAGE_BYTES } from "../../node/common/limits.js";

async function entries(dir: string): Promise<Map<string, number>> {
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  const byPrefix = new Map<string, number>();
  for await (const k of db.keys()) {
    const p = String.fromCharCode(k[0]!);
    byPrefix.set(p, (byPrefix.get(p) ?? 0) + 1);
  }
  await db.close();
  return byPrefix;
}

test("shell: blocks stored once, restart re-delivers, the earlier layout restores", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-shell-"));
  try {
    const got: Delivery[] = [];
    let shell = await openSolo(dir, 0, got);
    for (let i = 0; i < 5; i++) {
      shell.submit([new TextEncoder().encode(`request ${i}`)]);
      await until(() => got.flatMap((d) => d.requests).length === i + 1, `request ${i} delivered`);
    }
    const top = shell.status().deliveredHeight;
    await shell.close();
    const stored = await entries(dir);
    // One id-keyed copy per delivered block, plus at most the certified, uncommitted tail.
    assert.equal(stored.get("b"), top, "one ledger index entry per height");
    const tail = stored.get("t") ?? 0;
    assert.ok(tail <= 2, `${tail} uncommitted blocks left in the tree`);
    assert.equal(stored.get("B"), top + tail, "each block's bytes once");

    // Restart with the application two blocks behind: those two come again, in order.
    const again: Delivery[] = [];
    shell = await openSolo(dir, top - 2, again);
    await until(() => again.length >= 2, "re-delivered");
    assert.deepEqual(
      again.map((d) => d.height),
      [top - 1, top],
    );
    assert.deepEqual(again[1]!.requests, got.find((d) => d.height === top)!.requests);
    await shell.close();

    // The earlier layout: whole blocks under 'b' + height (and 't' + height + id).
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    for await (const [k, v] of db.iterator({ gte: new Uint8Array([0x62]), lt: new Uint8Array([0x63]) })) {
      const idk = new Uint8Array(33);
      idk[0] = 0x42;
      idk.set(v, 1);
      const bytes = (await db.get(idk))!;
      await db.put(k, bytes);
      await db.del(idk);
    }
    for await (const [k] of db.iterator({ gte: new Uint8Array([0x74]), lt: new Uint8Array([0x75]) })) {
      const idk = new Uint8Array(33);
      idk[0] = 0x42;
      idk.set(k.subarray(9), 1);
      await db.put(k, encodeBlock(decodeBlock((await db.get(idk))!)));
      await db.del(idk);
    }
    await db.close();
    const old: Delivery[] = [];
    shell = await openSolo(dir, top - 1, old);
    await until(() => old.length >= 1, "re-delivered from the earlier layout");
    assert.equal(old[0]!.height, top);
    shell.submit([new TextEncoder().encode("after the upgrade")]);
    await until(() => old.some((d) => d.requests.length > 0), "new requests still ordered");
    await shell.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("shell: peer messages queued while the core is busy are bounded in bytes; the rest are dropped", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-shell-"));
  try {
    const got: Delivery[] = [];
    const shell = await openSolo(dir, 0, got);
    try {
      // A request makes the core persist (an fsync): messages arriving meanwhile wait in the queue.
      shell.submit([new TextEncoder().encode("request")]);
      const frame = new Uint8Array(1024 * 1024);
      const offered = TOB_MAX_QUEUED_MESSAGE_BYTES / frame.length + 16;
      for (let i = 0; i < offered; i++) shell.message("not-a-validator", frame);
      assert.ok(
        shell.queuedMessageBytes <= TOB_MAX_QUEUED_MESSAGE_BYTES,
        `${shell.queuedMessageBytes} bytes queued`,
      );
      assert.ok(shell.droppedMessages >= 16, `${shell.droppedMessages} dropped`);
      // The queue drains and the node goes on.
      await until(() => got.flatMap((d) => d.requests).length === 1, "request delivered");
      await until(() => shell.queuedMessageBytes === 0, "queue drained");
      shell.submit([new TextEncoder().encode("after")]);
      await until(() => got.flatMap((d) => d.requests).length === 2, "later request delivered");
    } finally {
      await shell.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("shell: a peer's catch-up requests reach the core at most once per SYNC_REQUEST_PEER_INTERVAL_MS; an early one waits", async () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-shell-"));
  try {
    const got: Delivery[] = [];
    const shell = await openSolo(dir, 0, got);
    try {
      const ask = encodeMessage({ kind: "syncRequest", epoch: 0, fromHeight: 1 });
      const before = shell.droppedMessages;
      shell.message("peer-a", ask); // goes on
      shell.message("peer-a", ask); // held for the interval
      assert.equal(shell.droppedMessages - before, 0, "an early request waits, it is not dropped");
      for (let i = 0; i < 98; i++) shell.message("peer-a", ask); // each replaces the held one
      shell.message("peer-b", ask); // its own pace
      assert.equal(shell.droppedMessages - before, 98);
      await new Promise((r) => setTimeout(r, SYNC_REQUEST_PEER_INTERVAL_MS + 30));
      shell.message("peer-a", ask); // the held one went at the interval: this one waits again
      assert.equal(shell.droppedMessages - before, 98);
    } finally {
      await shell.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
