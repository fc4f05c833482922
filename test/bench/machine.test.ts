// Bench helpers: dirBytes sums the sizes of every file below a directory (nested ones too, empty
// files as 0, a missing directory as 0), and dirBreakdown splits that sum by top-level entry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dirBreakdown, dirBytes, hasFlag, numberFlag } from "../../bench/machine.js";

test("dirBytes sums file sizes recursively and dirBreakdown splits them by top-level entry", () => {
  const dir = mkdtempSync(join(tmpdir(), "arbor-dirbytes-"));
  try {
    mkdirSync(join(dir, "a", "b", "c"), { recursive: true });
    mkdirSync(join(dir, "empty"));
    writeFileSync(join(dir, "top"), new Uint8Array(10));
    writeFileSync(join(dir, "a", "one"), new Uint8Array(1000));
    writeFileSync(join(dir, "a", "b", "c", "deep"), new Uint8Array(4097));
    writeFileSync(join(dir, "a", "b", "zero"), new Uint8Array(0));
    assert.equal(dirBytes(dir), 10 + 1000 + 4097);
    assert.equal(dirBytes(join(dir, "a", "b")), 4097);
    assert.equal(dirBytes(join(dir, "missing")), 0);
    assert.deepEqual(dirBreakdown(dir), { top: 10, a: 5097, empty: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("hasFlag and numberFlag read the command line", () => {
  const argv = ["node", "x.js", "--quick", "--rate", "250"];
  assert.equal(hasFlag("quick", argv), true);
  assert.equal(hasFlag("million", argv), false);
  assert.equal(numberFlag("rate", 100, argv), 250);
  assert.equal(numberFlag("seconds", 30, argv), 30);
  assert.throws(() => numberFlag("rate", 1, ["--rate", "fast"]), /--rate needs a number/);
  assert.throws(() => numberFlag("rate", 1, ["--rate"]), /--rate needs a number/);
});
