// `arbor member` on a cluster run by `arbor up`: the verified member list; `member add` in the
// cluster directory writes the new node's key and config, and the node started from that config
// catches up and is polled by `arbor status`, which shows every prefix with k holders; a removal
// approved by a key outside the governance rule is rejected (exit 3, member-unauthorised); one
// approved by the node keys is accepted and deals the prefixes back; a repair with nothing to
// repair is rejected with its reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BIN, CliCluster, run, runJson } from "./helpers.js";

interface StatusDoc {
  nodes: Array<{ id: number; reachable: boolean; height?: string; behind?: string }>;
  membership?: {
    members: number[];
    partitions: Array<{ prefix: string; holders: number[]; replicated: boolean }>;
  };
}

test("arbor member list, add, remove and repair", { timeout: 180_000 }, async () => {
  const c = await CliCluster.create(4, 2);
  await c.start();
  const extra = spawnLater();
  try {
    const list = await runJson<{ members: Array<{ id: number; prefixes: string[] }> }>([
      "member",
      "list",
      ...c.flags,
    ]);
    assert.deepEqual(
      list.members.map((m) => m.id),
      [0, 1, 2, 3],
    );
    const added = await runJson<{ accepted: boolean; files: string[] }>([
      "member",
      "add",
      "--id",
      "4",
      ...c.flags,
    ]);
    assert.equal(added.accepted, true);
    assert.ok(existsSync(join(c.dir, "node4.json")) && existsSync(join(c.dir, "node4.key")));
    extra.start(join(c.dir, "node4.json"));
    let st: StatusDoc | undefined;
    const end = Date.now() + 60_000;
    for (;;) {
      st = await runJson<StatusDoc>(["status", ...c.flags]);
      const up = st.nodes.filter((n) => n.reachable);
      if (up.length === 5 && up.every((n) => n.height === up[0]!.height)) break;
      assert.ok(Date.now() < end, `node 4 did not catch up: ${JSON.stringify(st.nodes)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(st.membership?.members, [0, 1, 2, 3, 4]);
    assert.ok(
      st.nodes.every((n) => n.behind === "0"),
      "no node is behind once they agree",
    );
    assert.ok(st.membership!.partitions.every((p) => p.replicated));

    const outsider = await run(["keygen", "--out", join(c.dir, "outsider.key")]);
    assert.equal(outsider.code, 0);
    const denied = await run([
      "member",
      "remove",
      "4",
      "--approve-key",
      join(c.dir, "outsider.key"),
      ...c.flags,
    ]);
    assert.equal(denied.code, 3, denied.stderr);
    assert.match(denied.stderr, /member-unauthorised/);
    const removed = await runJson<{ accepted: boolean }>(["member", "remove", "4", ...c.flags]);
    assert.equal(removed.accepted, true);
    const after = await runJson<{ members: Array<{ id: number }> }>(["member", "list", ...c.flags]);
    assert.deepEqual(
      after.members.map((m) => m.id),
      [0, 1, 2, 3],
    );
    const repair = await run(["member", "repair", ...c.flags]);
    assert.equal(repair.code, 3);
    assert.match(repair.stderr, /nothing-to-repair/);
  } finally {
    await extra.stop();
    await c.stop();
  }
});

/** One extra `arbor node` process, started later and always stopped. */
function spawnLater() {
  let p: ReturnType<typeof spawn> | null = null;
  return {
    start(config: string) {
      p = spawn(process.execPath, [BIN, "node", "--config", config], { stdio: "ignore" });
    },
    stop(): Promise<void> {
      const q = p;
      if (!q || q.exitCode !== null) return Promise.resolve();
      return new Promise((r) => {
        q.once("exit", () => r());
        q.kill("SIGTERM");
      });
    },
  };
}
