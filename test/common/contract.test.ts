// The contract assertions (node/common/errors.ts): a broken precondition or postcondition is a bug,
// reported as an InvariantError (never an ArborError, which callers treat as a verdict on input).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArborError, InvariantError, ensures, expects, invariant } from "../../node/common/errors.js";

test("expects, ensures and invariant pass on true and throw InvariantError naming the broken rule", () => {
  expects(true, "x");
  ensures(1, "x");
  invariant("non-empty", "x");
  for (const [check, kind] of [
    [expects, "precondition"],
    [ensures, "postcondition"],
  ] as const) {
    assert.throws(
      () => check(false, "blocks are applied in height order"),
      (e: unknown) =>
        e instanceof InvariantError &&
        !(e instanceof ArborError) &&
        e.message.includes(kind) &&
        e.message.includes("blocks are applied in height order"),
    );
  }
  assert.throws(() => invariant(0, "zero"), InvariantError);
});
