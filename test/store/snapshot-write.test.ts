// A snapshot file is written whole or not at all: a write that takes fewer bytes than asked (a disk
// filling up) is continued, and one that takes none fails (node/snapshot/snapshot-file.ts writeAll).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FileHandle } from "node:fs/promises";
import { writeAll } from "../../node/snapshot/snapshot-file.js";
import { ArborError } from "../../node/common/errors.js";

/** A file handle that takes at most `step` bytes per write, and nothing once `room` is used up. */
function shortWrites(step: number, room: number) {
  const file = new Uint8Array(64);
  let used = 0;
  const fh = {
    async write(b: Uint8Array, offset: number, length: number, position: number | null) {
      const n = Math.max(0, Math.min(step, length, room - used));
      file.set(b.subarray(offset, offset + n), position ?? used);
      used += n;
      return { bytesWritten: n, buffer: b };
    },
  } as unknown as FileHandle;
  return { fh, file };
}

test("a short write is continued until every byte is written, at the right offsets", async () => {
  const { fh, file } = shortWrites(3, 64);
  const bytes = Uint8Array.from({ length: 10 }, (_, i) => i + 1);
  await writeAll(fh, bytes, 20);
  assert.deepEqual([...file.subarray(20, 30)], [...bytes]);
  assert.equal(file[19], 0);
  assert.equal(file[30], 0);
});

test("a write that takes nothing (the disk is full) fails snapshot/short-write", async () => {
  const { fh } = shortWrites(4, 6);
  await assert.rejects(
    writeAll(fh, new Uint8Array(10).fill(7), 0),
    (e: unknown) => e instanceof ArborError && e.code === "snapshot/short-write",
  );
});
