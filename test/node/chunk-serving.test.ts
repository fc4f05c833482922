// Serving chunks (node/partition-sync.ts serve): at most GRAFT_SERVE_CONCURRENCY calls arriving
// together are served, and at most GRAFT_SERVE_BYTES_PER_SECOND of chunks a second; the others are
// refused graft/busy at once.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { PartitionSync } from "../../node/partition-sync.js";
import { HistoryTree } from "../../node/store/core/history.js";
import { Partition } from "../../node/store/core/partition.js";
import { GRAFT_SERVE_BYTES_PER_SECOND, GRAFT_SERVE_CONCURRENCY } from "../../node/common/limits.js";
import type { LevelStore } from "../../node/store/level-store.js";
import type { Logger } from "../../node/log.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

function holder(): PartitionSync {
  const records = Array.from({ length: 40 }, (_, i) => ({
    key: `c/k${i}`,
    value: new Uint8Array(100_000).fill(i),
  }));
  const history = HistoryTree.genesis(Partition.whole(), 4, records);
  const store = { partition: history.tree.partition, history } as unknown as LevelStore;
  return new PartitionSync({
    store,
    selfId: 0,
    holders: () => [],
    height: () => 1n,
    between: (f) => f(),
    credentials: grpc.credentials.createInsecure(),
    log: quiet,
  });
}

type Answer = { code: number | null; bytes: number };

function ask(s: PartitionSync): Promise<Answer> {
  return new Promise((resolve) =>
    s.serve({ at: "", within: "" }, (e, r) =>
      resolve({ code: e ? e.code! : null, bytes: r?.chunk.length ?? 0 }),
    ),
  );
}

const nextTurn = () => new Promise((r) => setImmediate(r));

test("calls arriving together: GRAFT_SERVE_CONCURRENCY served, the rest busy", async () => {
  const s = holder();
  const answers = await Promise.all(Array.from({ length: 6 }, () => ask(s)));
  assert.equal(answers.filter((a) => a.code === null).length, GRAFT_SERVE_CONCURRENCY);
  assert.ok(answers.filter((a) => a.code !== null).every((a) => a.code === grpc.status.RESOURCE_EXHAUSTED));
  await nextTurn();
  assert.equal((await ask(s)).code, null, "served again once the turn has passed");
  s.stop();
});

test("at most GRAFT_SERVE_BYTES_PER_SECOND of chunks a second", async () => {
  const s = holder();
  let served = 0;
  for (let i = 0; i < 200; i++) {
    await nextTurn();
    const a = await ask(s);
    if (a.code !== null) break;
    served += a.bytes;
  }
  assert.ok(served >= GRAFT_SERVE_BYTES_PER_SECOND, `${served} bytes served before busy`);
  assert.ok(
    served < 4 * GRAFT_SERVE_BYTES_PER_SECOND,
    `${served} bytes: refused within a few seconds' worth`,
  );
  s.stop();
});
