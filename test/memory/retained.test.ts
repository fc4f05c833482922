// What a long-running node keeps per item of work: the ids it indexes by (hex strings) and the
// blocks its consensus retains and the history window must cost their own size, not a multiple of it
// (soak: bench/soak.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../../node/common/bytes.js";
import { computeBlockId, encodeBlock, type Block } from "../../node/tob/core/index.js";
import { fullGc, heapUsedAfterGc } from "./gc.js";
import { HistoryTree } from "../../node/store/core/history.js";
import { Partition } from "../../node/store/core/partition.js";
import { keyPath } from "../../node/store/core/path.js";
import { sha256 } from "../../node/common/hash.js";
import { utf8 } from "../../node/common/bytes.js";

test("a 32-byte id as hex is one flat string: about 64 bytes of heap, not a rope of pieces", async () => {
  const N = 20_000;
  const ids = Array.from({ length: N }, (_, i) => {
    const b = new Uint8Array(32);
    new DataView(b.buffer).setUint32(0, i);
    b[31] = i & 0xff;
    return b;
  });
  const keep: string[] = new Array<string>(N);
  const before = await heapUsedAfterGc();
  for (let i = 0; i < N; i++) keep[i] = toHex(ids[i]!);
  const perId = ((await heapUsedAfterGc()) - before) / N;
  assert.equal(keep[1], "00000001" + "00".repeat(27) + "01");
  // A flat one-byte string of 64 characters is 80 bytes; a rope built by += is over 800.
  assert.ok(perId < 200, `${perId.toFixed(0)} bytes of heap per hex id`);
});

test("a block does not keep its encoding alive (a retained block costs its requests once)", async () => {
  const qc = { epoch: 1, round: 1, blockId: new Uint8Array(32), votes: [] };
  const body = {
    epoch: 1,
    round: 2,
    height: 2,
    parentId: new Uint8Array(32),
    qc,
    author: 0,
    requests: [new Uint8Array(8 * 1024).fill(7)],
  };
  const block: Block = { ...body, id: computeBlockId(body), signature: new Uint8Array(64) };
  const ref = new WeakRef(encodeBlock(block));
  assert.ok(ref.deref()!.length > 8 * 1024);
  await fullGc();
  assert.ok(ref.deref() === undefined, "the encoding outlived its use while the block lives");
  assert.equal(block.requests.length, 1);
});

test("the history window costs a few bytes more than its paths per operation, not a typed array per path", async () => {
  const N = 20_000;
  const h = HistoryTree.genesis(Partition.whole(), N + 1, []);
  const before = await heapUsedAfterGc();
  for (let i = 0; i < N; i++) {
    // What the ledger hands over: fresh arrays for the touched paths and the request id.
    h.apply({ t: "empty" }, [keyPath(`a${i}`), keyPath(`b${i}`)], [], sha256(utf8(`request ${i}`)));
    if (i % 10 === 9) {
      h.seal();
      h.takeNewEntries();
    }
  }
  h.seal();
  h.takeNewEntries();
  const perEntry = ((await heapUsedAfterGc()) - before) / N;
  assert.equal(h.now, N);
  // Two 32-byte paths as one flat string and the entry: ~130 bytes. A Uint8Array per path and
  // for the tag was ~900.
  assert.ok(perEntry < 300, `${perEntry.toFixed(0)} bytes of heap per history entry`);
});
