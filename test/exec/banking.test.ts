// The banking operations, built from source and run through the real executor, deployed the way a
// user would: genesis → .root_rule creates "bank" → .base_rule deploys open, mint, transfer.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Reader, Writer } from "../../node/common/codec.js";
import { BASE_RULE_TEMPLATE_KEY, ROOT_RULE_KEY, type ExecResult } from "../../node/exec/index.js";
import { call, createExecutor, fixedKey, opCode } from "./helpers.js";

const ex = createExecutor();
const BANKER = fixedKey(0x01);
const ALICE = fixedKey(0xa1);
const BOB = fixedKey(0xb0);
const U64_MAX = (1n << 64n) - 1n;

/** A ledger with the bank domain created and its three operations deployed. */
function bank(): Map<string, Uint8Array> {
  const s = new Map<string, Uint8Array>([
    [ROOT_RULE_KEY, opCode("system/root_rule")],
    [BASE_RULE_TEMPLATE_KEY, opCode("system/base_rule")],
  ]);
  const r = call(
    ex,
    s,
    ROOT_RULE_KEY,
    [BASE_RULE_TEMPLATE_KEY, "bank/.base_rule", "bank/.owner"],
    new Writer().string("bank").bytes(BANKER).finish(),
    BANKER,
  );
  assert.ok(r.ok);
  const deploy = new Writer().varint(3);
  for (const name of ["mint", "open", "transfer"])
    deploy
      .string(`bank/${name}`)
      .u8(1)
      .bytes(opCode(`banking/${name}`));
  const d = call(
    ex,
    s,
    "bank/.base_rule",
    ["bank/.owner", "bank/mint", "bank/open", "bank/transfer"],
    deploy.finish(),
    BANKER,
  );
  assert.ok(d.ok, d.ok ? "" : d.message);
  return s;
}

const acct = (name: string) => `bank/accounts/${name}`;

function open(s: Map<string, Uint8Array>, name: string, caller: Uint8Array, key = acct(name)): ExecResult {
  return call(ex, s, "bank/open", [key], new Writer().string(key).finish(), caller);
}
function mint(s: Map<string, Uint8Array>, name: string, amount: bigint, caller = BANKER): ExecResult {
  return call(
    ex,
    s,
    "bank/mint",
    ["bank/.owner", acct(name)],
    new Writer().string(acct(name)).varint64(amount).finish(),
    caller,
  );
}
function transfer(
  s: Map<string, Uint8Array>,
  from: string,
  to: string,
  amount: bigint,
  caller: Uint8Array,
): ExecResult {
  const a = new Writer().string(acct(from)).string(acct(to)).varint64(amount).finish();
  return call(ex, s, "bank/transfer", [...new Set([acct(from), acct(to)])], a, caller);
}

function account(s: Map<string, Uint8Array>, name: string): { owner: Uint8Array; balance: bigint } {
  const v = s.get(acct(name));
  assert.ok(v, `no account ${name}`);
  assert.equal(v.length, 40);
  const r = new Reader(v);
  return { owner: r.raw(32).slice(), balance: r.u64() };
}

function refused(r: ExecResult, message: RegExp, reason = "trap"): void {
  assert.equal(r.ok, false, "expected a rejection");
  if (!r.ok) {
    assert.equal(r.reason, reason, r.message);
    assert.match(r.message, message);
  }
}

test("open creates an account owned by the caller with balance 0", () => {
  const s = bank();
  assert.ok(open(s, "alice", ALICE).ok);
  assert.deepEqual(account(s, "alice"), { owner: ALICE, balance: 0n });
  refused(open(s, "alice", BOB), /already exists/);
  refused(open(s, "x", ALICE, "bank/x"), /not an account key/);
  refused(open(s, "", ALICE, "bank/accounts/"), /empty account name/);
  refused(open(s, "a", ALICE, "bank/accounts/a/b"), /contains '\/'/);
  refused(open(s, "a", ALICE, "shop/accounts/a"), /not an account key/);
});

test("mint: only the domain owner, positive amounts, existing accounts, no overflow", () => {
  const s = bank();
  assert.ok(open(s, "alice", ALICE).ok);
  assert.ok(mint(s, "alice", 100n).ok);
  assert.equal(account(s, "alice").balance, 100n);
  refused(mint(s, "alice", 5n, ALICE), /only the domain owner/);
  refused(mint(s, "alice", 0n), /positive/);
  refused(mint(s, "bob", 5n), /record missing/);
  assert.ok(mint(s, "alice", U64_MAX - 100n).ok);
  assert.equal(account(s, "alice").balance, U64_MAX);
  refused(mint(s, "alice", 1n), /overflow/);
});

test("transfer moves exact amounts", () => {
  const s = bank();
  assert.ok(open(s, "alice", ALICE).ok);
  assert.ok(open(s, "bob", BOB).ok);
  assert.ok(mint(s, "alice", 1000n).ok);
  const r = transfer(s, "alice", "bob", 250n, ALICE);
  assert.ok(r.ok, r.ok ? "" : r.message);
  assert.equal(account(s, "alice").balance, 750n);
  assert.equal(account(s, "bob").balance, 250n);
  assert.ok(transfer(s, "alice", "bob", 750n, ALICE).ok);
  assert.equal(account(s, "alice").balance, 0n);
  assert.equal(account(s, "bob").balance, 1000n);
});

test("transfer refuses overdraft, zero, self-transfer, strangers, missing accounts and overflow", () => {
  const s = bank();
  assert.ok(open(s, "alice", ALICE).ok);
  assert.ok(open(s, "bob", BOB).ok);
  assert.ok(mint(s, "alice", 10n).ok);
  refused(transfer(s, "alice", "bob", 11n, ALICE), /insufficient funds/);
  refused(transfer(s, "alice", "bob", 0n, ALICE), /positive/);
  refused(transfer(s, "alice", "alice", 1n, ALICE), /same account/);
  refused(transfer(s, "alice", "bob", 1n, BOB), /does not own/);
  refused(transfer(s, "alice", "carol", 1n, ALICE), /record missing/);
  refused(transfer(s, "carol", "alice", 1n, ALICE), /record missing/);
  assert.ok(mint(s, "bob", U64_MAX - 5n).ok);
  refused(transfer(s, "alice", "bob", 6n, ALICE), /overflow/);
  assert.ok(transfer(s, "alice", "bob", 5n, ALICE).ok);
  assert.equal(account(s, "bob").balance, U64_MAX);
  // malformed arguments
  const bad = new Writer().string(acct("alice")).string(acct("bob")).varint(1).u8(0).finish();
  refused(call(ex, s, "bank/transfer", [acct("alice"), acct("bob")], bad, ALICE), /trailing/);
  refused(
    call(ex, s, "bank/transfer", [acct("alice"), acct("bob")], bad.subarray(0, 10), ALICE),
    /truncated|past the end/,
  );
});

test("property: random transfers conserve money and match a model of the rules", () => {
  const names = ["a", "b", "c"];
  const owners = [ALICE, BOB, fixedKey(0xc0)];
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.bigInt({ min: 0n, max: 400n })), {
        maxLength: 25,
      }),
      (steps) => {
        const s = bank();
        const model = [300n, 200n, 100n];
        names.forEach((n, i) => {
          assert.ok(open(s, n, owners[i]!).ok);
          assert.ok(mint(s, n, model[i]!).ok);
        });
        for (const [from, to, who, amount] of steps) {
          const r = transfer(s, names[from]!, names[to]!, amount, owners[who]!);
          const allowed = amount > 0n && from !== to && who === from && model[from]! >= amount;
          assert.equal(r.ok, allowed, r.ok ? "" : r.message);
          if (allowed) {
            model[from]! -= amount;
            model[to]! += amount;
          }
        }
        names.forEach((n, i) => assert.equal(account(s, n).balance, model[i]));
        assert.equal(model[0]! + model[1]! + model[2]!, 600n);
      },
    ),
    { numRuns: 40 },
  );
});
