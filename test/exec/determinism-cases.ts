// Requests whose results must be byte-identical everywhere: in one process over many runs, after
// the cache is dropped, and in fresh processes with different engine tiers and stack sizes.

import { Writer } from "../../node/common/codec.js";
import type { ExecRequest } from "../../node/exec/index.js";
import { build, op } from "./wasm-builder.js";
import { fixedKey, opCode, request, touched } from "./helpers.js";

function account(owner: Uint8Array, balance: bigint): Uint8Array {
  return new Writer().raw(owner).u64(balance).finish();
}

export function determinismCases(): Array<[string, ExecRequest]> {
  const alice = fixedKey(0xa1);
  const bob = fixedKey(0xb0);
  const records = touched(
    ["bank/accounts/alice", account(alice, 1000n)],
    ["bank/accounts/bob", account(bob, 5n)],
  );
  const transferArgs = (amount: number) =>
    new Writer().string("bank/accounts/alice").string("bank/accounts/bob").varint(amount).finish();
  const probeArgs = new Writer()
    .string("app/out")
    .bytes(fixedKey(3))
    .bytes(new Uint8Array(64).fill(9))
    .finish();
  const x = touched(["d/x", null]);
  const xArgs = new Writer().string("d/x").finish();
  return [
    [
      "transfer",
      request({
        code: opCode("banking/transfer"),
        opKey: "bank/transfer",
        records,
        args: transferArgs(250),
        caller: alice,
      }),
    ],
    [
      "overdraft",
      request({
        code: opCode("banking/transfer"),
        opKey: "bank/transfer",
        records,
        args: transferArgs(5000),
        caller: alice,
      }),
    ],
    [
      "probe",
      request({
        code: opCode("test/probe"),
        opKey: "app/probe",
        records: touched(["app/out", null]),
        args: probeArgs,
      }),
    ],
    ["state", request({ code: opCode("test/hostile_state"), opKey: "d/op", records: x, args: xArgs })],
    [
      "loop",
      request({
        code: build({
          funcs: [{ type: 0, body: [...op.loop(), ...op.br(0), ...op.end, ...op.i32_const(0)] }],
        }),
        opKey: "d/op",
        gasLimit: 200_000n,
      }),
    ],
    ["recursion", request({ code: opCode("test/hostile_recursion"), opKey: "d/op" })],
    ["alloc", request({ code: opCode("test/hostile_alloc"), opKey: "d/op", gasLimit: 5_000_000n })],
    ["abort", request({ code: opCode("test/hostile_abort"), opKey: "d/op" })],
  ];
}
