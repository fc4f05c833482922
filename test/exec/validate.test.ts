// Module validation: every rule of docs/abi.md §3 rejects with its stable code, accepted modules
// pass, and no input — random bytes or mutated valid modules — makes checkModule throw.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { checkModule } from "../../node/exec/index.js";
import {
  MAX_MODULE_BYTES,
  MAX_WASM_INITIAL_PAGES,
  MAX_WASM_LOCALS,
  MAX_WASM_NESTING,
} from "../../node/common/limits.js";
import { build, op, I32, I64, F32, F64, uleb } from "./wasm-builder.js";
import { opCode } from "./helpers.js";
import { WASM_TEST_TIMEOUT_MS, WasmRunner } from "./wasm-runner.js";

const T = { timeout: WASM_TEST_TIMEOUT_MS };

function code(bytes: Uint8Array): string {
  const r = checkModule(bytes);
  return r.ok ? "ok" : r.code;
}

const RUN = { type: 0, body: op.i32_const(0) };

test("a minimal module is accepted", () => {
  assert.equal(code(build({ funcs: [RUN] })), "ok");
});

test("every built op is accepted", () => {
  for (const name of [
    "system/root_rule",
    "system/base_rule",
    "banking/open",
    "banking/mint",
    "banking/transfer",
    "test/probe",
  ]) {
    const r = checkModule(opCode(name));
    assert.ok(r.ok, `${name}: ${r.ok ? "" : r.message}`);
  }
});

test("size, header and structure", () => {
  assert.equal(code(new Uint8Array(0)), "module/malformed");
  assert.equal(code(Uint8Array.from([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0])), "module/malformed");
  assert.equal(code(new Uint8Array(MAX_MODULE_BYTES + 1)), "module/too-large");
  const ok = build({ funcs: [RUN] });
  assert.equal(code(ok.subarray(0, ok.length - 3)), "module/malformed");
  assert.equal(code(Uint8Array.from([...ok, 0x01])), "module/malformed"); // truncated trailing section
  assert.equal(code(Uint8Array.from([...ok, 99, 0])), "module/feature"); // unknown section id
});

test("imports: only the host ABI, with exact signatures", () => {
  const withImport = (module: string, name: string, type: [number[], number[]]) =>
    code(build({ types: [[[], [I32]], type], imports: [{ module, name, type: 1 }], funcs: [RUN] }));
  assert.equal(withImport("arbor", "input_size", [[], [I32]]), "ok");
  assert.equal(withImport("env", "abort", [[I32, I32, I32, I32], []]), "ok");
  assert.equal(withImport("env", "trace", [[I32, I32, F64, F64, F64, F64, F64], []]), "ok");
  assert.equal(
    withImport("wasi_snapshot_preview1", "fd_write", [[I32, I32, I32, I32], [I32]]),
    "module/import",
  );
  assert.equal(withImport("arbor", "clock", [[], [I64]]), "module/import");
  assert.equal(withImport("env", "seed", [[], [F64]]), "module/import");
  assert.equal(withImport("arbor", "input_size", [[], [I64]]), "module/import"); // wrong signature
  // memory, table and global imports
  for (const raw of [
    [0x02, 0x00, 0x01],
    [0x01, 0x70, 0x00, 0x01],
    [0x03, I32, 0x00],
  ])
    assert.equal(
      code(build({ imports: [{ module: "env", name: "x", raw }], funcs: [RUN] })),
      "module/import",
    );
  // the same import twice
  assert.equal(
    code(
      build({
        types: [[[], [I32]]],
        imports: [
          { module: "arbor", name: "input_size", type: 0 },
          { module: "arbor", name: "input_size", type: 0 },
        ],
        funcs: [RUN],
      }),
    ),
    "module/import",
  );
});

test("exports: exactly run () -> i32 and memory", () => {
  assert.equal(
    code(build({ funcs: [RUN], exports: [{ name: "memory", kind: 2, index: 0 }] })),
    "module/export",
  );
  assert.equal(code(build({ funcs: [RUN], exports: [{ name: "run", kind: 0, index: 0 }] })), "module/export");
  assert.equal(
    code(
      build({
        funcs: [RUN],
        exports: [
          { name: "run", kind: 0, index: 0 },
          { name: "memory", kind: 2, index: 0 },
          { name: "other", kind: 0, index: 0 },
        ],
      }),
    ),
    "module/export",
  );
  assert.equal(code(build({ types: [[[], []]], funcs: [{ type: 0, body: [] }] })), "module/export"); // run of type () -> ()
  assert.equal(
    code(
      build({
        funcs: [RUN],
        exports: [
          { name: "run", kind: 0, index: 0 },
          { name: "memory", kind: 2, index: 0 },
          { name: "__arbor_gas", kind: 0, index: 0 },
        ],
      }),
    ),
    "module/export",
  );
  assert.equal(
    code(build({ funcs: [RUN], memory: null, exports: [{ name: "run", kind: 0, index: 0 }] })),
    "module/memory",
  );
});

test("floating point is refused in types, locals, globals and instructions", () => {
  assert.equal(
    code(
      build({
        types: [
          [[], [I32]],
          [[F64], []],
        ],
        funcs: [RUN, { type: 1, body: [] }],
      }),
    ),
    "module/float",
  );
  assert.equal(
    code(
      build({
        types: [
          [[], [I32]],
          [[F32], []],
        ],
        funcs: [RUN],
      }),
    ),
    "module/float",
  );
  assert.equal(
    code(build({ funcs: [{ type: 0, locals: [[1, F64]], body: op.i32_const(0) }] })),
    "module/float",
  );
  assert.equal(
    code(build({ funcs: [RUN], globals: [{ type: F64, mutable: false, init: op.f64_const(1) }] })),
    "module/float",
  );
  const f64add = [...op.f64_const(1), ...op.f64_const(2), ...op.f64_add, ...op.drop, ...op.i32_const(0)];
  assert.equal(code(build({ funcs: [{ type: 0, body: f64add }] })), "module/float");
  const f32 = [...op.f32_const(1), ...op.drop, ...op.i32_const(0)];
  assert.equal(code(build({ funcs: [{ type: 0, body: f32 }] })), "module/float");
  const trunc = [...op.f64_const(1), 0xfc, 0, ...op.i32_const(0)]; // i32.trunc_sat_f32_s
  assert.equal(code(build({ funcs: [{ type: 0, body: trunc }] })), "module/float");
  const reinterpret = [...op.i64_const(1), 0xbf, ...op.drop, ...op.i32_const(0)]; // f64.reinterpret_i64
  assert.equal(code(build({ funcs: [{ type: 0, body: reinterpret }] })), "module/float");
  // f64.const may only feed trace: alone it is harmless and accepted
  assert.equal(
    code(build({ funcs: [{ type: 0, body: [...op.f64_const(1), ...op.drop, ...op.i32_const(0)] }] })),
    "ok",
  );
});

test("features outside the integer MVP are refused", () => {
  const body = (b: number[]) => code(build({ funcs: [{ type: 0, body: [...b, ...op.i32_const(0)] }] }));
  assert.equal(body([0xfd, 12, ...new Array(16).fill(0), ...op.drop]), "module/feature"); // v128.const
  assert.equal(body([...op.i32_const(0), 0x25, 0, ...op.drop]), "module/feature"); // table.get
  assert.equal(
    body([...op.i32_const(0), ...op.i32_const(0), ...op.i32_const(0), 0xfc, 8, 0, 0]),
    "module/feature",
  ); // memory.init
  assert.equal(body([0xd0, 0x70, ...op.drop]), "module/feature"); // ref.null
  assert.equal(body([0x12, 0]), "module/feature"); // return_call
  assert.equal(code(build({ funcs: [RUN], memory: { min: 1, max: 2, flags: 3 } })), "module/feature"); // shared
  assert.equal(
    code(build({ funcs: [RUN], data: [{ offset: 0, bytes: [1] }], passiveData: true })),
    "module/feature",
  );
  assert.equal(
    code(
      build({
        types: [[[], [I32, I32]]],
        funcs: [{ type: 0, body: [...op.i32_const(0), ...op.i32_const(0)] }],
      }),
    ),
    "module/feature",
  );
});

test("bounds on memory, data, locals and nesting", () => {
  assert.equal(code(build({ funcs: [RUN], memory: { min: MAX_WASM_INITIAL_PAGES + 1 } })), "module/bounds");
  assert.equal(code(build({ funcs: [RUN], memory: { min: 1, max: 65536 } })), "ok"); // max is lowered to the cap
  assert.equal(
    code(build({ funcs: [RUN], data: [{ offset: 65530, bytes: new Array(10).fill(1) }] })),
    "module/bounds",
  );
  // A module that is mostly data is as usable as any other within MAX_MODULE_BYTES.
  assert.equal(
    code(
      build({ funcs: [RUN], memory: { min: 4 }, data: [{ offset: 0, bytes: new Uint8Array(200 * 1024) }] }),
    ),
    "ok",
  );
  assert.equal(
    code(
      build({ funcs: [RUN], memory: { min: 3 }, data: [{ offset: 0, bytes: new Uint8Array(200 * 1024) }] }),
    ),
    "module/bounds",
  );
  assert.equal(
    code(build({ funcs: [{ type: 0, locals: [[MAX_WASM_LOCALS + 1, I32]], body: op.i32_const(0) }] })),
    "module/bounds",
  );
  assert.equal(
    code(
      build({
        funcs: [
          {
            type: 0,
            locals: [
              [0xffffffff, I32],
              [0xffffffff, I32],
            ],
            body: op.i32_const(0),
          },
        ],
      }),
    ),
    "module/bounds",
  );
  const deep = (n: number) => [
    ...new Array(n).fill(op.block()).flat(),
    ...new Array(n).fill(op.end).flat(),
    ...op.i32_const(0),
  ];
  assert.equal(code(build({ funcs: [{ type: 0, body: deep(MAX_WASM_NESTING - 1) }] })), "ok");
  assert.equal(code(build({ funcs: [{ type: 0, body: deep(MAX_WASM_NESTING + 1) }] })), "module/bounds");
  assert.equal(code(build({ funcs: [RUN], table: { min: 1 << 20 } })), "module/bounds");
});

test("type errors the parser lets through are caught by the engine", () => {
  // i64 result from a function typed () -> i32
  assert.equal(code(build({ funcs: [{ type: 0, body: op.i64_const(1) }] })), "module/compile");
});

test("a start function that loops forever exhausts its fixed gas: invalid module", T, async () => {
  const spin = { type: 1, body: [...op.loop(), ...op.br(0), ...op.end] };
  const bytes = build({
    types: [
      [[], [I32]],
      [[], []],
    ],
    funcs: [RUN, spin],
    start: 1,
  });
  // In a worker first: if metering failed to stop the start function, this fails after a deadline.
  const r = await new WasmRunner().check(bytes);
  assert.equal(r.ok ? "ok" : r.code, "module/start");
  assert.equal(code(bytes), "module/start");
});

test("a start function may not read the input", () => {
  const types: Array<[number[], number[]]> = [
    [[], [I32]],
    [[], []],
  ];
  const m = build({
    types,
    imports: [{ module: "arbor", name: "input_size", type: 0 }],
    funcs: [RUN, { type: 1, body: [...op.call(0), ...op.drop] }],
    start: 2,
  });
  assert.equal(code(m), "module/start");
});

test("fuzz: random bytes never make checkModule throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = checkModule(Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...bytes]));
      assert.ok(r.ok || r.code.startsWith("module/"));
    }),
    { numRuns: 2000 },
  );
});

test("fuzz: mutated real ops never make checkModule throw", () => {
  const base = opCode("banking/transfer");
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      (edits) => {
        const m = base.slice();
        for (const [i, b] of edits) m[i] = b;
        const r = checkModule(m);
        assert.ok(r.ok || r.code.startsWith("module/"), r.ok ? "" : r.message);
      },
    ),
    { numRuns: 300 },
  );
});

test("LEB128 edge cases", () => {
  // a 6-byte u32 LEB in the type count
  const m = build({ funcs: [RUN] });
  const bad = Uint8Array.from([...m.subarray(0, 8), 1, 7, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x60]);
  assert.equal(code(bad), "module/malformed");
  void uleb;
});
