// Test vectors and hostile inputs for the canonical codec.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Reader, Writer } from "../../node/common/codec.js";
import { DecodeError } from "../../node/common/errors.js";
import { fromHex, toHex } from "../../node/common/bytes.js";

test("varint vectors", () => {
  const vectors: Array<[number, string]> = [
    [0, "00"],
    [1, "01"],
    [127, "7f"],
    [128, "8001"],
    [300, "ac02"],
    [16384, "808001"],
    [Number.MAX_SAFE_INTEGER, "ffffffffffffff0f"],
  ];
  for (const [n, hex] of vectors) {
    assert.equal(toHex(new Writer().varint(n).finish()), hex);
    const r = new Reader(fromHex(hex));
    assert.equal(r.varint(), n);
    r.end();
  }
  assert.equal(toHex(new Writer().varint64((1n << 64n) - 1n).finish()), "ffffffffffffffffff01");
});

test("u64 is fixed-width big-endian", () => {
  assert.equal(toHex(new Writer().u64(0x0102030405060708n).finish()), "0102030405060708");
  assert.equal(new Reader(fromHex("ffffffffffffffff")).u64(), (1n << 64n) - 1n);
});

test("string and bytes vectors", () => {
  assert.equal(toHex(new Writer().string("bank/alice").finish()), "0a62616e6b2f616c696365");
  assert.equal(toHex(new Writer().bytes(new Uint8Array([1, 2, 3])).finish()), "03010203");
});

test("non-canonical and hostile varints are DecodeErrors", () => {
  for (const hex of ["8000", "ff", "80808080808080808080", "ffffffffffffffffff02", ""]) {
    assert.throws(() => new Reader(fromHex(hex)).varint64(), DecodeError, hex);
  }
  assert.throws(() => new Reader(fromHex("0a")).varint(5), DecodeError);
});

test("bounded bytes, bad UTF-8 and trailing bytes are DecodeErrors", () => {
  assert.throws(() => new Reader(fromHex("05010203")).bytes(10), DecodeError);
  assert.throws(() => new Reader(fromHex("0401020304")).bytes(3), DecodeError);
  assert.throws(() => new Reader(fromHex("01ff")).string(10), DecodeError);
  const r = new Reader(fromHex("0100"));
  r.u8();
  assert.throws(() => r.end(), DecodeError);
});

test("round trip and garbage never throws a non-DecodeError", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 40 }), fc.string())), (items) => {
      const w = new Writer(1);
      for (const [n, b, s] of items) w.varint(n).bytes(b).string(s);
      const r = new Reader(w.finish());
      for (const [n, b, s] of items) {
        assert.equal(r.varint(), n);
        assert.deepEqual(r.bytes(1000), b);
        assert.equal(r.string(1000), s);
      }
      r.end();
    }),
    { seed: 7, numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const r = new Reader(bytes);
      try {
        while (r.remaining > 0) {
          r.varint();
          r.string(16);
        }
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
      }
    }),
    { seed: 8, numRuns: 2000 },
  );
});
