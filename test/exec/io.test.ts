// The sandbox wall's bytes: caller input is checked against the named bounds (LimitError), keys
// of any script survive the round trip, and AssemblyScript's trace is a metered no-op.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Writer } from "../../node/common/codec.js";
import { LimitError } from "../../node/common/errors.js";
import { MAX_ARGS_BYTES, MAX_GAS_LIMIT, MAX_TOUCHED_KEYS } from "../../node/common/limits.js";
import { GAS_HOST_TRACE } from "../../node/exec/core/gas.js";
import { build, op, resultModule, I32, F64 } from "./wasm-builder.js";
import { createExecutor, opCode, request, touched } from "./helpers.js";

const ex = createExecutor();
const code = resultModule([0]);

test("bad caller input is a LimitError, never a rejection or a crash", () => {
  const bad = (over: Parameters<typeof request>[0]) =>
    assert.throws(() => ex.execute(request(over)), LimitError);
  bad({ code, opKey: "d/op", caller: new Uint8Array(31) });
  bad({ code, opKey: "" });
  bad({ code, opKey: "d/\ud800" });
  bad({ code, opKey: "d/op", gasLimit: MAX_GAS_LIMIT + 1n });
  bad({ code, opKey: "d/op", gasLimit: -1n });
  bad({ code, opKey: "d/op", args: new Uint8Array(MAX_ARGS_BYTES + 1) });
  bad({
    code,
    opKey: "d/op",
    records: [
      { key: "d/b", value: null },
      { key: "d/a", value: null },
    ],
  });
  bad({
    code,
    opKey: "d/op",
    records: [
      { key: "d/a", value: null },
      { key: "d/a", value: null },
    ],
  });
  bad({
    code,
    opKey: "d/op",
    records: Array.from({ length: MAX_TOUCHED_KEYS + 1 }, (_, i) => ({
      key: `d/${String(i).padStart(3, "0")}`,
      value: null,
    })),
  });
  // touched keys are ordered by UTF-8 bytes, not UTF-16 code units
  bad({
    code,
    opKey: "d/op",
    records: [
      { key: "d/\u{1F600}", value: null },
      { key: "d/\uFFFD", value: null },
    ],
  });
  assert.ok(
    ex.execute(
      request({
        code,
        opKey: "d/op",
        records: [
          { key: "d/\uFFFD", value: null },
          { key: "d/\u{1F600}", value: null },
        ],
      }),
    ).ok,
  );
});

test("non-ASCII keys round-trip through an op", () => {
  const keys = ["app/ключ", "app/😀", "app/é"];
  for (const key of keys) {
    const a = new Writer().string(key).bytes(new Uint8Array(32)).bytes(new Uint8Array(64)).finish();
    const r = ex.execute(
      request({
        code: opCode("test/probe"),
        opKey: "app/probe",
        records: touched([key, Uint8Array.of(1)]),
        args: a,
      }),
    );
    assert.ok(r.ok, r.ok ? "" : r.message);
    assert.equal(r.writes[0]!.key, key);
    assert.equal(r.writes[0]!.value![33], 1); // the probe saw the record as present
  }
});

test("trace is a metered no-op; f64 exists only to call it", () => {
  const types: Array<[number[], number[]]> = [
    [[], [I32]],
    [[I32, I32, F64, F64, F64, F64, F64], []],
  ];
  const trace = [
    ...op.i32_const(0),
    ...op.i32_const(0),
    ...[1, 2, 3, 4, 5].flatMap((x) => op.f64_const(x)),
    ...op.call(0),
  ];
  const mk = (n: number) =>
    build({
      types,
      imports: [{ module: "env", name: "trace", type: 1 }],
      funcs: [{ type: 0, body: [...new Array(n).fill(trace).flat(), ...op.i32_const(16)] }],
      data: [{ offset: 16, bytes: [1, 0, 0, 0, 0] }],
    });
  const gas = (n: number) => {
    const r = ex.execute(request({ code: mk(n), opKey: "d/op" }));
    assert.ok(r.ok, r.ok ? "" : r.message);
    return r.gasUsed;
  };
  // per trace: 7 consts + a call in the segment, plus the host's charge
  assert.equal(gas(2) - gas(1), 7n + 10n + GAS_HOST_TRACE);
});

test("the result vector of docs/abi.md §2.3 decodes as documented", () => {
  const blob = [0x02, 0x03, 0x62, 0x2f, 0x78, 0x01, 0x01, 0x01, 0x03, 0x62, 0x2f, 0x79, 0x00];
  const r = ex.execute(
    request({
      code: resultModule(blob),
      opKey: "b/op",
      records: touched(["b/x", null], ["b/y", Uint8Array.of(9)]),
    }),
  );
  assert.ok(r.ok, r.ok ? "" : r.message);
  assert.deepEqual(
    r.writes.map((w) => [w.key, w.value && [...w.value]]),
    [
      ["b/x", [1]],
      ["b/y", null],
    ],
  );
});
