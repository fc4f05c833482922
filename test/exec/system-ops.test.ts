// The system operations, built from source and run through the real executor: .root_rule creates
// domains, .base_rule lets exactly the domain owner change the domain.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Writer } from "../../node/common/codec.js";
import {
  BASE_RULE_TEMPLATE_KEY,
  ROOT_RULE_KEY,
  baseRuleKey,
  ownerKey,
  type ExecResult,
} from "../../node/exec/index.js";
import { call, createExecutor, fixedKey, GAS, opCode } from "./helpers.js";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "../../node/common/limits.js";

const ex = createExecutor();
const OWNER = fixedKey(0xaa);
const OTHER = fixedKey(0xbb);

function genesis(): Map<string, Uint8Array> {
  return new Map([
    [ROOT_RULE_KEY, opCode("system/root_rule")],
    [BASE_RULE_TEMPLATE_KEY, opCode("system/base_rule")],
  ]);
}

function createDomain(
  state: Map<string, Uint8Array>,
  name: string,
  owner = OWNER,
  caller = OTHER,
): ExecResult {
  const a = new Writer().string(name).bytes(owner).finish();
  return call(
    ex,
    state,
    ROOT_RULE_KEY,
    [BASE_RULE_TEMPLATE_KEY, baseRuleKey(name), ownerKey(name)],
    a,
    caller,
  );
}

function refused(r: ExecResult, reason: string, message?: RegExp): void {
  assert.equal(r.ok, false, "expected a rejection");
  if (!r.ok) {
    assert.equal(r.reason, reason, r.message);
    if (message) assert.match(r.message, message);
  }
}

type Change = [string, Uint8Array | null];
function baseArgs(changes: Change[]): Uint8Array {
  const w = new Writer().varint(changes.length);
  for (const [k, v] of changes) {
    w.string(k);
    if (v === null) w.u8(0);
    else w.u8(1).bytes(v);
  }
  return w.finish();
}

function base(
  state: Map<string, Uint8Array>,
  domain: string,
  changes: Change[],
  caller: Uint8Array,
  extraTouched: string[] = [],
): ExecResult {
  const keys = [ownerKey(domain), ...changes.map(([k]) => k), ...extraTouched];
  return call(ex, state, baseRuleKey(domain), [...new Set(keys)], baseArgs(changes), caller);
}

test(".root_rule creates a domain: its base rule and owner record", () => {
  const s = genesis();
  const r = createDomain(s, "bank");
  assert.ok(r.ok, r.ok ? "" : r.message);
  assert.deepEqual(s.get("bank/.base_rule"), opCode("system/base_rule"));
  assert.deepEqual(s.get("bank/.owner"), OWNER);
  assert.equal(r.writes.length, 2);
});

test(".root_rule refuses an existing domain", () => {
  const s = genesis();
  assert.ok(createDomain(s, "bank").ok);
  refused(createDomain(s, "bank", OTHER), "trap", /already exists/);
  assert.deepEqual(s.get("bank/.owner"), OWNER);
});

test(".root_rule refuses malformed names, the system domain and bad owner keys", () => {
  const s = genesis();
  refused(createDomain(s, ""), "trap", /empty/);
  refused(createDomain(s, "a/b"), "trap", /'\/'/);
  refused(createDomain(s, ".arbor"), "trap", /system domain/);
  refused(createDomain(s, ".hidden"), "trap", /reserved/);
  refused(createDomain(s, "no spaces"), "trap", /character/);
  refused(createDomain(s, "x".repeat(65)), "trap", /64 bytes/);
  refused(createDomain(s, "ok", new Uint8Array(31)), "trap", /32 bytes/);
  assert.equal(s.size, 2); // nothing was written
});

test(".root_rule needs its records touched and the template present", () => {
  const s = genesis();
  const a = new Writer().string("bank").bytes(OWNER).finish();
  refused(
    call(ex, s, ROOT_RULE_KEY, [BASE_RULE_TEMPLATE_KEY, "bank/.base_rule"], a, OTHER),
    "trap",
    /not touched/,
  );
  s.delete(BASE_RULE_TEMPLATE_KEY);
  refused(
    call(ex, s, ROOT_RULE_KEY, [BASE_RULE_TEMPLATE_KEY, "bank/.base_rule", "bank/.owner"], a, OTHER),
    "trap",
    /template/,
  );
  refused(
    call(
      ex,
      genesis(),
      ROOT_RULE_KEY,
      [BASE_RULE_TEMPLATE_KEY, "bank/.base_rule", "bank/.owner"],
      Uint8Array.of(4, 0xff, 0xfe, 0x61, 0x62),
      OTHER,
    ),
    "trap",
    /UTF-8|truncated/,
  );
});

test(".base_rule: the owner creates, replaces and removes records, operations included", () => {
  const s = genesis();
  assert.ok(createDomain(s, "bank").ok);
  const transfer = opCode("banking/transfer");
  let r = base(
    s,
    "bank",
    [
      ["bank/transfer", transfer],
      ["bank/config", Uint8Array.of(1)],
      ["bank/sub/deep", Uint8Array.of(2)],
    ],
    OWNER,
  );
  assert.ok(r.ok, r.ok ? "" : r.message);
  assert.deepEqual(s.get("bank/transfer"), transfer);
  r = base(
    s,
    "bank",
    [
      ["bank/config", Uint8Array.of(9)],
      ["bank/sub/deep", null],
    ],
    OWNER,
  );
  assert.ok(r.ok);
  assert.deepEqual(s.get("bank/config"), Uint8Array.of(9));
  assert.equal(s.has("bank/sub/deep"), false);
});

test(".base_rule refuses anyone but the owner, and writes outside the domain", () => {
  const s = genesis();
  assert.ok(createDomain(s, "bank").ok);
  assert.ok(createDomain(s, "shop", OTHER).ok);
  refused(base(s, "bank", [["bank/x", Uint8Array.of(1)]], OTHER), "trap", /only the domain owner/);
  refused(base(s, "bank", [["shop/x", Uint8Array.of(1)]], OWNER), "domain-violation");
  refused(base(s, "bank", [[".arbor/members", Uint8Array.of(1)]], OWNER), "domain-violation");
  refused(base(s, "bank", [["top", Uint8Array.of(1)]], OWNER), "domain-violation");
  refused(base(s, "bank", [], OWNER), "trap", /no writes/);
  refused(
    call(
      ex,
      s,
      "bank/.base_rule",
      ["bank/.owner", "bank/x"],
      Uint8Array.of(1, 6, ...new TextEncoder().encode("bank/x"), 7),
      OWNER,
    ),
    "trap",
    /kind/,
  );
  refused(
    call(
      ex,
      s,
      "bank/.base_rule",
      ["bank/.owner", "bank/x"],
      new Writer().varint(2).string("bank/x").u8(0).string("bank/x").u8(0).finish(),
      OWNER,
    ),
    "trap",
    /twice/,
  );
  refused(
    call(ex, s, "bank/.base_rule", ["bank/.owner"], baseArgs([["bank/y", Uint8Array.of(1)]]), OWNER),
    "trap",
    /not touched/,
  );
});

test(".base_rule: the owner can hand the domain over", () => {
  const s = genesis();
  assert.ok(createDomain(s, "bank").ok);
  assert.ok(base(s, "bank", [["bank/.owner", OTHER]], OWNER).ok);
  refused(base(s, "bank", [["bank/x", Uint8Array.of(1)]], OWNER), "trap", /only the domain owner/);
  assert.ok(base(s, "bank", [["bank/x", Uint8Array.of(1)]], OTHER).ok);
});

test("a base rule placed in the root domain refuses to run", () => {
  const s = genesis();
  refused(call(ex, s, BASE_RULE_TEMPLATE_KEY, ["/.owner"], baseArgs([]), OWNER), "trap", /inside a domain/);
});

test(".base_rule writes and replaces a largest value (MAX_VALUE_BYTES) within the SDK's default gas; one byte over is refused as value/too-large", () => {
  const s = genesis();
  assert.ok(createDomain(s, "big").ok);
  const v1 = new Uint8Array(MAX_VALUE_BYTES).fill(1);
  const r1 = base(s, "big", [[`big/${"k".repeat(MAX_KEY_BYTES - 4)}`, v1]], OWNER);
  assert.ok(r1.ok, r1.ok ? "" : r1.message);
  // Replacing it: the input now carries the old 1 MiB value as well as the new one.
  const v2 = new Uint8Array(MAX_VALUE_BYTES).fill(2);
  const r2 = base(s, "big", [[`big/${"k".repeat(MAX_KEY_BYTES - 4)}`, v2]], OWNER);
  assert.ok(r2.ok, r2.ok ? "" : r2.message);
  assert.ok(r2.gasUsed < GAS / 4n, `gas ${r2.gasUsed}`);
  assert.deepEqual(s.get(`big/${"k".repeat(MAX_KEY_BYTES - 4)}`), v2);
  refused(
    base(s, "big", [["big/w", new Uint8Array(MAX_VALUE_BYTES + 1)]], OWNER),
    "malformed-result",
    /value\/too-large/,
  );
});
