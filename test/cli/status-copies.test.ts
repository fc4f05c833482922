// `arbor status` counts a prefix's copies over finer prefixes too (node/cli/status.ts copiesOf).

import { test } from "node:test";
import assert from "node:assert/strict";
import { copiesOf } from "../../node/cli/status.js";

const m = (...prefixes: string[]) => ({ prefixes });

test("copies of a prefix: whole holders plus the fewest copies of its parts", () => {
  assert.equal(copiesOf("0", [m("0"), m("1")]), 1);
  // The only holder of all of "0" left; finer prefixes of others still cover it twice.
  assert.equal(copiesOf("0", [m("00", "1"), m("01"), m("00"), m("01", "11")]), 2);
  assert.equal(copiesOf("0", [m("0"), m("00"), m("01"), m("000"), m("001", "01")]), 3);
  // A part no one else holds: only the whole holder counts.
  assert.equal(copiesOf("0", [m("0"), m("00"), m("000")]), 1);
  assert.equal(copiesOf("", [m("0"), m("1"), m("")]), 2);
  assert.equal(copiesOf("", []), 0);
});
