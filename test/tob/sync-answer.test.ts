// Catch-up answers (node/tob/core/sync.ts) are cut by bytes as well as by blocks: an answer of
// large blocks still fits one consensus message, so a node catching up over a chain of full
// blocks is never sent an answer every receiver must drop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeMessage, type Block, type QC } from "../../node/tob/core/index.js";
import { answerFrom, answerLength } from "../../node/tob/core/sync.js";
import { blockSizeBound } from "../../node/tob/core/wire.js";
import { TOB_MAX_BLOCK_BYTES, TOB_MAX_MESSAGE_BYTES, TOB_MAX_SYNC_BLOCKS } from "../../node/common/limits.js";

const id = (h: number) => new Uint8Array(32).fill(h % 251);
const qcOf = (h: number): QC => ({
  epoch: 0,
  round: h,
  blockId: id(h),
  votes: [0, 1, 2].map((signer) => ({ signer, sig: new Uint8Array(64).fill(signer) })),
});

/** A chain of blocks from height 1, each carrying `payload(h)` bytes in one request. */
function chain(length: number, payload: (h: number) => number): Block[] {
  return Array.from({ length }, (_, i) => {
    const h = i + 1;
    return {
      epoch: 0,
      round: h,
      height: h,
      parentId: id(h - 1),
      qc: qcOf(h - 1),
      author: h % 4,
      requests: [new Uint8Array(payload(h))],
      id: id(h),
      signature: new Uint8Array(64),
    };
  });
}

const size = (blocks: readonly Block[], qc: QC) =>
  encodeMessage({ kind: "syncResponse", epoch: 0, blocks, qc, more: true }).length;

test("an answer of full blocks is one block, and fits a message", () => {
  const c = chain(5, () => TOB_MAX_BLOCK_BYTES - 64);
  const a = answerFrom(c, null);
  assert.equal(a.blocks.length, 1);
  assert.ok(a.more, "the asker goes on from the next height");
  assert.equal(a.qc, c[1]!.qc, "the next block's QC certifies the one sent");
  assert.ok(size(a.blocks, a.qc!) <= TOB_MAX_MESSAGE_BYTES, "within one message");
});

test("blocks of a few MiB are cut where their bytes reach the bound, never past a message", () => {
  for (const mib of [1, 3, 5, 7]) {
    const c = chain(40, () => mib * 1024 * 1024);
    const a = answerFrom(c, null);
    const n = a.blocks.length;
    assert.ok(n >= 1 && n < 40, `${mib} MiB blocks: ${n} sent`);
    assert.equal(a.qc, c[n]!.qc);
    assert.ok(size(a.blocks, a.qc!) <= TOB_MAX_MESSAGE_BYTES, `${mib} MiB blocks: within one message`);
    // One block more would pass the byte bound.
    const bytes = c.slice(0, n + 1).reduce((s, b) => s + blockSizeBound(b), 0);
    assert.ok(bytes > TOB_MAX_BLOCK_BYTES, `${mib} MiB blocks: as many as the bound allows`);
  }
});

test("small blocks are still cut by count, and a short chain is answered whole", () => {
  assert.equal(answerLength(chain(200, () => 100)), TOB_MAX_SYNC_BLOCKS);
  const c = chain(10, () => 100);
  const tip = qcOf(10);
  const a = answerFrom(c, tip);
  assert.equal(a.blocks.length, 10);
  assert.equal(a.qc, tip);
  assert.equal(a.more, false);
  assert.equal(answerLength([]), 0);
});
