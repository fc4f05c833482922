// The peer wire's batch frame: a turn's messages for one peer round-trip in order with their
// channels, and hostile batches (empty, too many frames, an empty or oversized frame, trailing
// bytes, truncation) are typed decode errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodePeerBatch, encodePeerBatch } from "../../node/net/peer-batch.js";
import { Writer } from "../../node/common/codec.js";
import { DecodeError } from "../../node/common/errors.js";
import { MAX_PEER_BATCH_FRAMES, MAX_PEER_FRAME_BYTES } from "../../node/common/limits.js";

test("a batch carries its frames in order, with their channels", () => {
  const frames = [new Uint8Array([0, 1, 2, 3]), new Uint8Array([1]), new Uint8Array([0, 9])];
  const got = decodePeerBatch(encodePeerBatch(frames));
  assert.deepEqual(
    got.map((m) => [m.channel, [...m.payload]]),
    [
      [0, [1, 2, 3]],
      [1, []],
      [0, [9]],
    ],
  );
});

test("hostile batches are typed decode errors", () => {
  const bad = [
    new Uint8Array([]),
    new Writer().varint(0).finish(),
    new Writer().varint(1).bytes(new Uint8Array(0)).finish(),
    new Writer().varint(MAX_PEER_BATCH_FRAMES + 1).finish(),
    new Writer()
      .varint(1)
      .varint(MAX_PEER_FRAME_BYTES + 1)
      .finish(),
    new Writer()
      .varint(2)
      .bytes(new Uint8Array([0, 1]))
      .finish(),
    new Uint8Array([...encodePeerBatch([new Uint8Array([0, 1])]), 7]),
  ];
  for (const b of bad) assert.throws(() => decodePeerBatch(b), DecodeError, `bytes ${[...b.subarray(0, 8)]}`);
});
