// The delivered blocks the consensus core keeps in memory: bounded by count and by request bytes,
// never below the floor a restart and the leader choice need, always the newest contiguous run
// (older heights are answered from storage).
import { test } from "node:test";
import assert from "node:assert/strict";
import { CommittedChain } from "../../node/tob/core/committed-chain.js";
import type { Block, QC } from "../../node/tob/core/types.js";
import {
  TOB_MIN_RETAINED_BLOCKS,
  TOB_RETAINED_BLOCKS,
  TOB_RETAINED_BYTES,
} from "../../node/common/limits.js";

const GENESIS = new Uint8Array(32);
const QC0: QC = { epoch: 0, round: 0, blockId: GENESIS, votes: [] };

/** A block at `height` with `count` distinct requests of `size` bytes each. */
function block(height: number, count: number, size: number): Block {
  const requests = Array.from({ length: count }, (_, i) => {
    const r = new Uint8Array(size);
    new DataView(r.buffer).setUint32(0, height);
    new DataView(r.buffer).setUint32(4, i);
    return r;
  });
  const id = new Uint8Array(32);
  new DataView(id.buffer).setUint32(0, height);
  return {
    epoch: 0,
    round: height,
    height,
    parentId: GENESIS,
    qc: QC0,
    author: 0,
    requests,
    id,
    signature: new Uint8Array(64),
  };
}

function deliverAll(chain: CommittedChain, from: number, to: number, count: number, size: number): void {
  for (let h = from; h <= to; h++) {
    chain.enqueue([block(h, count, size)]);
    chain.deliver();
    chain.applied(h);
  }
}

function retainedBytes(chain: CommittedChain): number {
  let bytes = 0;
  for (let h = chain.retainedFrom; h <= chain.deliveredHeight; h++)
    for (const r of chain.blockAt(h)!.requests) bytes += r.length;
  return bytes;
}

test("small blocks: the newest TOB_RETAINED_BLOCKS stay in memory", () => {
  const chain = new CommittedChain({ id: GENESIS, height: 0 }, [], 0);
  deliverAll(chain, 1, TOB_RETAINED_BLOCKS + 10, 1, 100);
  assert.equal(chain.retainedFrom, 11);
  assert.equal(chain.blockAt(10), undefined);
  assert.ok(chain.blockAt(11));
});

test("large blocks: memory holds at most TOB_RETAINED_BYTES of requests, newest first", () => {
  const chain = new CommittedChain({ id: GENESIS, height: 0 }, [], 0);
  // 40 requests of 2 KiB: 80 KiB a block, so the byte bound binds long before the count (and
  // above the floor).
  const perBlock = 40 * 2048;
  deliverAll(chain, 1, 400, 40, 2048);
  const kept = chain.deliveredHeight - chain.retainedFrom + 1;
  assert.equal(kept, Math.floor(TOB_RETAINED_BYTES / perBlock));
  assert.ok(retainedBytes(chain) <= TOB_RETAINED_BYTES);
  assert.equal(chain.blockAt(chain.retainedFrom - 1), undefined);
  assert.ok(kept > TOB_MIN_RETAINED_BLOCKS && kept < TOB_RETAINED_BLOCKS);
  for (let h = chain.retainedFrom; h <= 400; h++) assert.equal(chain.blockAt(h)!.height, h);
});

test("huge blocks: the floor of TOB_MIN_RETAINED_BLOCKS stays whatever their size", () => {
  const chain = new CommittedChain({ id: GENESIS, height: 0 }, [], 0);
  const size = Math.ceil(TOB_RETAINED_BYTES / 8);
  deliverAll(chain, 1, TOB_MIN_RETAINED_BLOCKS + 20, 1, size);
  assert.equal(chain.retainedFrom, 21);
  assert.ok(retainedBytes(chain) > TOB_RETAINED_BYTES);
});

test("a restart re-emits every block its application had not applied, even when they are large", () => {
  const tail = Array.from({ length: 50 }, (_, i) => block(i + 1, 1, Math.ceil(TOB_RETAINED_BYTES / 4)));
  const chain = new CommittedChain({ id: GENESIS, height: 0 }, tail, 10);
  const again = chain.reemit();
  assert.deepEqual(
    again.map((d) => d.height),
    Array.from({ length: 40 }, (_, i) => i + 11),
  );
});

test("a restart rebuilds the duplicate filter from the delivered digests, not by guessing from the blocks it kept", () => {
  const R = new Uint8Array(64).fill(7);
  /** Heights 1..320, each with one request of its own; R also rides in blocks 10, 200 and 300. */
  const withR = (h: number): Block => {
    const b = block(h, 1, 64);
    return [10, 200, 300].includes(h) ? { ...b, requests: [...b.requests, R] } : b;
  };
  const delivered = (d: { requests: readonly Uint8Array[] }) => d.requests.some((r) => r === R);
  const first = new CommittedChain({ id: GENESIS, height: 0 }, [], 0);
  const digests = new Map<number, string[]>();
  const got = new Map<number, boolean>();
  for (let h = 1; h <= 320; h++) {
    first.enqueue([withR(h)]);
    got.set(h, delivered(first.deliver()));
    first.applied(h);
    const bytes = first.freshBytes(h);
    digests.set(
      h,
      Array.from({ length: bytes.length / 32 }, (_, i) =>
        String.fromCharCode(...bytes.subarray(i * 32, i * 32 + 32)),
      ),
    );
  }
  // R at 10 delivers; at 200 it is a duplicate within the window; at 300 the window has moved on.
  assert.deepEqual([got.get(10), got.get(200), got.get(300)], [true, false, true]);

  // Restarted at 299 with the blocks from 150 on: replaying them alone takes R at 200 for new, and
  // so filters it at 300; with the digests each height delivered it filters exactly as before.
  const tail = Array.from({ length: 150 }, (_, i) => withR(150 + i));
  const window = new Map([...digests].filter(([h]) => h > 299 - 256 && h <= 299));
  const guessed = new CommittedChain({ id: GENESIS, height: 149 }, tail, 299);
  const exact = new CommittedChain({ id: GENESIS, height: 149 }, tail, 299, TOB_RETAINED_BLOCKS, window);
  for (const c of [guessed, exact]) c.enqueue([withR(300)]);
  assert.equal(delivered(guessed.deliver()), false, "the replay's guess differs from the first run");
  assert.equal(delivered(exact.deliver()), true, "the kept digests give the first run's delivery");
});
