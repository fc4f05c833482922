// The stored form of history entries: the one-pass encoder writes exactly the layout of
// docs/protocol.md §13 (checked against the canonical codec's Writer), and decodes back.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Writer } from "../../node/common/codec.js";
import { toHex } from "../../node/common/bytes.js";
import { decodeEntries, encodeEntries } from "../../node/store/core/history-codec.js";
import type { HistoryEntry } from "../../node/store/core/history.js";
import { DecodeError } from "../../node/common/errors.js";

function reference(es: readonly HistoryEntry[]): Uint8Array {
  const w = new Writer(16).varint(es.length);
  for (const e of es) {
    w.varint(e.ts);
    if (e.root === null) w.u8(0);
    else w.u8(1).raw(e.root);
    w.varint(e.paths.length);
    for (const p of e.paths) w.raw(p);
    w.bytes(e.tag ?? new Uint8Array(0));
  }
  return w.finish();
}

const entry = fc.record({
  ts: fc.oneof(fc.nat(300), fc.maxSafeNat()),
  root: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 })),
  paths: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 5 }),
  tag: fc.option(fc.uint8Array({ minLength: 1, maxLength: 200 }), { nil: undefined }),
});

test("history entries: the layout of the canonical codec, and back", () => {
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 200 }), (es) => {
      const b = encodeEntries(es);
      assert.equal(toHex(b), toHex(reference(es)));
      const back = decodeEntries(b);
      assert.equal(back.length, es.length);
      for (let i = 0; i < es.length; i++) {
        assert.equal(back[i]!.ts, es[i]!.ts);
        assert.equal(
          back[i]!.root === null ? null : toHex(back[i]!.root!),
          es[i]!.root === null ? null : toHex(es[i]!.root!),
        );
        assert.deepEqual(back[i]!.paths.map(toHex), es[i]!.paths.map(toHex));
        assert.equal(
          back[i]!.tag === undefined ? undefined : toHex(back[i]!.tag!),
          es[i]!.tag === undefined ? undefined : toHex(es[i]!.tag!),
        );
      }
    }),
  );
});

test("history entries: truncated or padded bytes are refused with a DecodeError", () => {
  const b = encodeEntries([
    { ts: 7, root: new Uint8Array(32).fill(1), paths: [new Uint8Array(32)], tag: undefined },
  ]);
  assert.throws(() => decodeEntries(b.subarray(0, b.length - 1)), DecodeError);
  const padded = new Uint8Array(b.length + 1);
  padded.set(b);
  assert.throws(() => decodeEntries(padded), DecodeError);
});

test("history entries: a has-root byte other than 0 or 1 is refused", () => {
  const b = encodeEntries([{ ts: 7, root: null, paths: [], tag: undefined }]);
  // count 1, ts 7, then the has-root byte.
  assert.equal(b[2], 0);
  for (const bad of [2, 0x80, 0xff]) {
    const c = Uint8Array.from(b);
    c[2] = bad;
    assert.throws(
      () => decodeEntries(c),
      (e: unknown) => e instanceof DecodeError && /non-canonical/.test(e.code),
    );
  }
});
