// The hostile-module suite (issue 3, "must be shown" 2): each attack gets its typed rejection, the
// same gas on every run and on a fresh executor, and the executor keeps serving honest calls. The
// attacks that only metering stops run first in a worker (wasm-runner.ts): if metering fails to stop
// them, the test fails after a deadline instead of hanging the file.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Writer } from "../../node/common/codec.js";
import { MAX_WASM_MEMORY_PAGES } from "../../node/common/limits.js";
import type { ExecRequest, ExecResult } from "../../node/exec/index.js";
import { build, op, resultModule, I32 } from "./wasm-builder.js";
import { args, createExecutor, fixedKey, opCode, request, touched } from "./helpers.js";
import { WASM_TEST_TIMEOUT_MS, WasmRunner } from "./wasm-runner.js";

const ex = createExecutor();
const bounded = new WasmRunner();
const T = { timeout: WASM_TEST_TIMEOUT_MS };

/** Runs a request three times on the shared executor and once on a fresh one: all must agree. */
function runAll(req: ExecRequest): ExecResult {
  const first = ex.execute(req);
  for (let i = 0; i < 2; i++) assert.deepEqual(ex.execute(req), first);
  assert.deepEqual(createExecutor().execute(req), first);
  return first;
}

function rejected(req: ExecRequest, reason: string, message?: RegExp): ExecResult {
  const r = runAll(req);
  assert.equal(r.ok, false, `expected ${reason}, got acceptance`);
  if (!r.ok) {
    assert.equal(r.reason, reason, r.message);
    if (message) assert.match(r.message, message);
  }
  return r;
}

/** An honest call that must still work after any attack. */
function honest(): void {
  const code = opCode("test/hostile_state");
  const r = ex.execute(
    request({ code, opKey: "d/op", records: touched(["d/x", null]), args: args((w) => w.string("d/x")) }),
  );
  assert.ok(r.ok);
  assert.deepEqual([...r.writes[0]!.value!], [1, 1]);
}

const TYPES: Array<[number[], number[]]> = [
  [[], [I32]],
  [[], []],
];

test("infinite loop: out-of-gas, all the gas used", T, async () => {
  const code = build({
    funcs: [{ type: 0, body: [...op.loop(), ...op.br(0), ...op.end, ...op.i32_const(0)] }],
  });
  const req = request({ code, opKey: "d/op", gasLimit: 123_456n });
  assert.equal((await bounded.execute(req)).ok, false, "the loop stops (in a worker, under a deadline)");
  const r = rejected(req, "out-of-gas");
  assert.equal(r.gasUsed, 123_456n);
  honest();
});

test("deep recursion: stack-limit (hand-made and AssemblyScript)", () => {
  const code = build({
    types: TYPES,
    funcs: [
      { type: 0, body: [...op.call(1), ...op.i32_const(0)] },
      { type: 1, body: op.call(1) },
    ],
  });
  rejected(request({ code, opKey: "d/op" }), "stack-limit");
  rejected(request({ code: opCode("test/hostile_recursion"), opKey: "d/op" }), "stack-limit");
  honest();
});

test("recursion with the heaviest frames still stops at the budget, not in the engine", () => {
  // 500 i64 locals and a deep operand stack per frame.
  const push = new Array(200).fill(op.i64_const(1)).flat();
  const pop = new Array(200).fill(op.drop).flat();
  const code = build({
    types: TYPES,
    funcs: [
      { type: 0, body: [...op.call(1), ...op.i32_const(0)] },
      { type: 1, locals: [[500, 0x7e]], body: [...push, ...op.call(1), ...pop] },
    ],
  });
  rejected(request({ code, opKey: "d/op" }), "stack-limit");
});

test("memory growth past the cap: memory-limit", () => {
  const growForever = [
    ...op.loop(),
    ...op.i32_const(1),
    ...op.memory_grow,
    ...op.drop,
    ...op.br(0),
    ...op.end,
    ...op.i32_const(0),
  ];
  rejected(
    request({ code: build({ funcs: [{ type: 0, body: growForever }] }), opKey: "d/op" }),
    "memory-limit",
  );
  const oneBigGrow = [
    ...op.i32_const(MAX_WASM_MEMORY_PAGES),
    ...op.memory_grow,
    ...op.drop,
    ...op.i32_const(0),
  ];
  rejected(
    request({ code: build({ funcs: [{ type: 0, body: oneBigGrow }] }), opKey: "d/op" }),
    "memory-limit",
  );
  const huge = [...op.i32_const(-1), ...op.memory_grow, ...op.drop, ...op.i32_const(0)];
  rejected(request({ code: build({ funcs: [{ type: 0, body: huge }] }), opKey: "d/op" }), "memory-limit");
  rejected(
    request({ code: opCode("test/hostile_alloc"), opKey: "d/op", gasLimit: 100_000_000n }),
    "memory-limit",
  );
  honest();
});

test("unbounded allocation under a small gas limit: out-of-gas first", T, async () => {
  const req = request({ code: opCode("test/hostile_alloc"), opKey: "d/op", gasLimit: 50_000n });
  assert.equal(
    (await bounded.execute(req)).ok,
    false,
    "the allocation loop stops (in a worker, under a deadline)",
  );
  rejected(req, "out-of-gas");
});

test("data segment larger than the initial memory: invalid-module", () => {
  const code = build({
    funcs: [{ type: 0, body: op.i32_const(0) }],
    memory: { min: 1 },
    data: [{ offset: 0, bytes: new Uint8Array(200 * 1024) }],
  });
  const r = rejected(request({ code, opKey: "d/op" }), "invalid-module", /does not fit the initial memory/);
  assert.equal(r.gasUsed, 0n);
});

test("traps: unreachable, divide by zero, out-of-bounds memory, abort with a message", () => {
  rejected(
    request({ code: build({ funcs: [{ type: 0, body: op.unreachable }] }), opKey: "d/op" }),
    "trap",
    /^unreachable executed$/,
  );
  const div = [...op.i32_const(1), ...op.i32_const(0), ...op.i32_div_u];
  rejected(
    request({ code: build({ funcs: [{ type: 0, body: div }] }), opKey: "d/op" }),
    "trap",
    /^integer divide by zero$/,
  );
  const oob = [...op.i32_const(-4), ...op.i32_load()];
  rejected(
    request({ code: build({ funcs: [{ type: 0, body: oob }] }), opKey: "d/op" }),
    "trap",
    /^memory access out of bounds$/,
  );
  rejected(request({ code: opCode("test/hostile_abort"), opKey: "d/op" }), "trap", /^boom: the op refused$/);
  honest();
});

test("abort with an unreadable message pointer still traps cleanly", () => {
  const types: Array<[number[], number[]]> = [
    [[], [I32]],
    [[I32, I32, I32, I32], []],
  ];
  const body = [
    ...op.i32_const(0x7ffffff0),
    ...op.i32_const(-1),
    ...op.i32_const(1),
    ...op.i32_const(2),
    ...op.call(0),
    ...op.i32_const(0),
  ];
  const code = build({
    types,
    imports: [{ module: "env", name: "abort", type: 1 }],
    funcs: [{ type: 0, body }],
  });
  rejected(request({ code, opKey: "d/op" }), "trap", /^abort/);
});

test("host calls with out-of-bounds pointers trap", () => {
  const types: Array<[number[], number[]]> = [
    [[], [I32]],
    [[I32, I32, I32], []],
  ];
  const body = [
    ...op.i32_const(0x7fff0000),
    ...op.i32_const(16),
    ...op.i32_const(0),
    ...op.call(0),
    ...op.i32_const(0),
  ];
  const code = build({
    types,
    imports: [{ module: "arbor", name: "sha256", type: 1 }],
    funcs: [{ type: 0, body }],
  });
  rejected(request({ code, opKey: "d/op" }), "trap", /out of bounds/);
});

test("float arithmetic: invalid-module", () => {
  const body = [...op.f64_const(0.1), ...op.f64_const(0.2), ...op.f64_add, ...op.drop, ...op.i32_const(0)];
  rejected(
    request({ code: build({ funcs: [{ type: 0, body }] }), opKey: "d/op" }),
    "invalid-module",
    /floating-point/,
  );
});

test("unknown and WASI imports: invalid-module", () => {
  for (const [module, name] of [
    ["wasi_snapshot_preview1", "fd_write"],
    ["env", "seed"],
    ["arbor", "now"],
    ["env", "memory"],
  ]) {
    const code = build({
      types: [
        [[], [I32]],
        [[], []],
      ],
      imports: [{ module: module!, name: name!, type: 1 }],
      funcs: [{ type: 0, body: op.i32_const(0) }],
    });
    rejected(request({ code, opKey: "d/op" }), "invalid-module", /import/);
  }
});

test("missing exports: invalid-module", () => {
  rejected(
    request({
      code: build({
        funcs: [{ type: 0, body: op.i32_const(0) }],
        exports: [{ name: "memory", kind: 2, index: 0 }],
      }),
      opKey: "d/op",
    }),
    "invalid-module",
    /missing export run/,
  );
  rejected(
    request({
      code: build({
        funcs: [{ type: 0, body: op.i32_const(0) }],
        exports: [{ name: "run", kind: 0, index: 0 }],
      }),
      opKey: "d/op",
    }),
    "invalid-module",
    /missing export memory/,
  );
  rejected(request({ code: build({ memory: { min: 1 } }), opKey: "d/op" }), "invalid-module");
});

/** A result blob: n writes of (key, set value | remove). */
function blob(writes: Array<[string, number[] | null]>): Uint8Array {
  const w = new Writer().varint(writes.length);
  for (const [k, v] of writes) {
    w.string(k);
    if (v === null) w.u8(0);
    else w.u8(1).bytes(Uint8Array.from(v));
  }
  return w.finish();
}

test("results writing outside the touched keys or the domain are refused whole", () => {
  const records = touched(
    ["d/a", null],
    ["d/b", null],
    ["e/x", null],
    [".arbor/members", null],
    ["top", null],
  );
  const run = (opKey: string, writes: Array<[string, number[] | null]>) =>
    request({ code: resultModule(blob(writes)), opKey, records });
  // an honest result is accepted
  const ok = runAll(
    run("d/op", [
      ["d/a", [1]],
      ["d/b", null],
    ]),
  );
  assert.ok(ok.ok && ok.writes.length === 2);
  rejected(
    run("d/op", [
      ["d/a", [1]],
      ["d/c", [2]],
    ]),
    "write-not-touched",
    /d\/c/,
  );
  rejected(
    run("d/op", [
      ["d/a", [1]],
      ["e/x", [2]],
    ]),
    "domain-violation",
    /e\/x/,
  );
  rejected(run("d/op", [["top", [1]]]), "domain-violation");
  rejected(run("d/sub/op", [["d/a", [1]]]), "domain-violation"); // a sub-domain's op cannot write its parent
  // the root domain may write anywhere except the system domain
  assert.ok(
    runAll(
      run("root_op", [
        ["d/a", [1]],
        ["e/x", [2]],
        ["top", [3]],
      ]),
    ).ok,
  );
  rejected(run("root_op", [[".arbor/members", [1]]]), "domain-violation");
  // only the system domain writes the system domain
  assert.ok(runAll(run(".arbor/op", [[".arbor/members", [1]]])).ok);
});

test("garbage results: malformed-result", () => {
  const records = touched(["d/a", null], ["d/b", null]);
  const run = (code: Uint8Array) => request({ code, opKey: "d/op", records });
  const garbage = Uint8Array.from({ length: 64 }, (_, i) => (i * 89 + 13) & 0xff);
  rejected(run(resultModule(garbage)), "malformed-result");
  rejected(
    run(
      resultModule(
        blob([
          ["d/b", [1]],
          ["d/a", [2]],
        ]),
      ),
    ),
    "malformed-result",
    /ascending/,
  );
  rejected(
    run(
      resultModule(
        blob([
          ["d/a", [1]],
          ["d/a", [2]],
        ]),
      ),
    ),
    "malformed-result",
    /ascending/,
  );
  rejected(run(resultModule([...blob([["d/a", [1]]]), 0])), "malformed-result", /trailing/);
  rejected(run(resultModule([1, 3, 0x64, 0x2f, 0x61, 7])), "malformed-result", /kind/);
  rejected(run(resultModule([1, 3, 0x64, 0x2f, 0xff, 0])), "malformed-result", /UTF-8/);
  rejected(run(resultModule([0x80])), "malformed-result");
  // the result pointer or length runs off the memory
  rejected(run(build({ funcs: [{ type: 0, body: op.i32_const(65534) }] })), "malformed-result", /pointer/);
  const longLen = build({
    funcs: [{ type: 0, body: op.i32_const(16) }],
    data: [{ offset: 16, bytes: [0xff, 0xff, 0, 0] }],
  });
  rejected(run(longLen), "malformed-result", /length/);
  honest();
});

test("no state leaks between calls: globals, static memory and heap are reset", () => {
  const code = opCode("test/hostile_state");
  for (let i = 0; i < 20; i++) {
    const r = ex.execute(
      request({ code, opKey: "d/op", records: touched(["d/x", null]), args: args((w) => w.string("d/x")) }),
    );
    assert.ok(r.ok);
    assert.deepEqual([...r.writes[0]!.value!], [1, 1]);
  }
});

test("a module whose memory grew is replaced, and the next call starts clean", () => {
  // Grows by one page, stores a marker past the old end, returns a blob holding memory.size.
  const body = [
    ...op.i32_const(1),
    ...op.memory_grow,
    ...op.drop,
    ...op.i32_const(70000),
    ...op.i32_const(42),
    ...op.i32_store(),
    ...op.i32_const(0),
  ];
  const code = build({ funcs: [{ type: 0, body }], data: [{ offset: 0, bytes: [1, 0, 0, 0, 0] }] });
  for (let i = 0; i < 3; i++) {
    const r = ex.execute(request({ code, opKey: "d/op" }));
    assert.ok(r.ok, r.ok ? "" : r.message);
    assert.equal(r.writes.length, 0);
  }
  void fixedKey;
});

test("memory.grow(0) keeps the size but replaces the engine's buffer: the next calls run clean", () => {
  // Stores a marker, grows by nothing, returns an empty result (the blob at 0 is 1 byte: no writes).
  const body = [
    ...op.i32_const(100),
    ...op.i32_const(42),
    ...op.i32_store(),
    ...op.i32_const(0),
    ...op.memory_grow,
    ...op.drop,
    ...op.i32_const(0),
  ];
  const code = build({ funcs: [{ type: 0, body }], data: [{ offset: 0, bytes: [1, 0, 0, 0, 0] }] });
  for (let i = 0; i < 4; i++) {
    const r = ex.execute(request({ code, opKey: "d/grow0" }));
    assert.ok(r.ok, r.ok ? "" : r.message);
    assert.equal(r.writes.length, 0);
  }
});
