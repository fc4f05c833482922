// Gas metering against the cost table (gas.ts): exact charges for known code, linear cost per loop
// iteration, per-page and per-word dynamic charges, out-of-gas at exactly the limit, and a
// call-stack budget that is charged by frame size. Every module runs in a worker (wasm-runner.ts),
// so a metering bug that lets a loop run free fails its test after a deadline instead of hanging.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Writer } from "../../node/common/codec.js";
import { MAX_WASM_STACK_UNITS } from "../../node/common/limits.js";
import {
  COST,
  GAS_ED25519_PER_WORD,
  GAS_INVOKE_BASE,
  GAS_REGROW_PER_INITIAL_PAGE,
  GAS_REINSTANTIATE,
  GAS_PER_GROWN_PAGE,
  GAS_PER_INITIAL_PAGE,
  METERING_VERSION,
} from "../../node/exec/core/gas.js";
import { FRAME_BASE_UNITS } from "../../node/exec/core/instrument.js";
import { build, op, I32 } from "./wasm-builder.js";
import { request } from "./helpers.js";
import { WASM_TEST_TIMEOUT_MS, WasmRunner } from "./wasm-runner.js";

const ex = new WasmRunner();
const T = { timeout: WASM_TEST_TIMEOUT_MS };
const BASE = GAS_INVOKE_BASE + GAS_PER_INITIAL_PAGE; // one page of initial memory
const EMPTY_RESULT = [1, 0, 0, 0, 0]; // length 1, zero writes
const RESULT_GAS = 1n; // one started word

/** A module whose run executes `body` and then returns the empty result at address 16. */
function module(body: number[], extra: Parameters<typeof build>[0] = {}): Uint8Array {
  return build({
    funcs: [{ type: 0, body: [...body, ...op.i32_const(16)] }],
    data: [{ offset: 16, bytes: EMPTY_RESULT }],
    ...extra,
  });
}

async function gas(code: Uint8Array, limit = 10_000_000n): Promise<bigint> {
  const r = await ex.execute(request({ code, opKey: "d/op", gasLimit: limit }));
  assert.ok(r.ok, r.ok ? "" : `${r.reason}: ${r.message}`);
  return r.gasUsed;
}

test("metering version is 2", () => {
  assert.equal(METERING_VERSION, 2);
});

test("straight-line code is charged once, for every instruction", T, async () => {
  // i32.const, drop, i32.const(result): 1 + 1 + 1
  assert.equal(
    await gas(module([...op.i32_const(5), ...op.drop])),
    BASE + 3n * BigInt(COST.simple) + RESULT_GAS,
  );
  // a division costs more
  const div = [...op.i32_const(6), ...op.i32_const(3), ...op.i32_div_u, ...op.drop];
  assert.equal(await gas(module(div)), BASE + 4n * BigInt(COST.simple) + BigInt(COST.divrem) + RESULT_GAS);
});

test("a loop costs the same per iteration", T, async () => {
  // local0 = n; loop { local0 -= 1; br_if 0 (local0 != 0) }
  const counted = (n: number) =>
    build({
      types: [[[], [I32]]],
      funcs: [
        {
          type: 0,
          locals: [[1, I32]],
          body: [
            ...op.i32_const(n),
            ...op.local_set(0),
            ...op.loop(),
            ...op.local_get(0),
            ...op.i32_const(1),
            ...op.i32_sub,
            ...op.local_tee(0),
            ...op.br_if(0),
            ...op.end,
            ...op.i32_const(16),
          ],
        },
      ],
      data: [{ offset: 16, bytes: EMPTY_RESULT }],
    });
  const perIteration = 4n * BigInt(COST.simple) + BigInt(COST.branch);
  const g10 = await gas(counted(10));
  const g20 = await gas(counted(20));
  const g1000 = await gas(counted(1000));
  assert.equal(g20 - g10, 10n * perIteration);
  assert.equal(g1000 - g10, 990n * perIteration);
});

test("out-of-gas happens at exactly the limit, at the same point every time", T, async () => {
  const spin = build({
    funcs: [{ type: 0, body: [...op.loop(), ...op.br(0), ...op.end, ...op.i32_const(0)] }],
  });
  for (const limit of [BASE, BASE + 1n, BASE + 7n, 99_999n, 1_000_000n]) {
    const r = await ex.execute(request({ code: spin, opKey: "d/op", gasLimit: limit }));
    assert.ok(!r.ok && r.reason === "out-of-gas" && r.gasUsed === limit);
  }
  const below = await ex.execute(request({ code: spin, opKey: "d/op", gasLimit: BASE - 1n }));
  assert.ok(!below.ok && below.reason === "out-of-gas" && below.gasUsed === BASE - 1n);
  // A run that needs exactly g gas succeeds with g and fails with g - 1.
  const code = module([...op.i32_const(5), ...op.drop]);
  const g = await gas(code);
  assert.equal(await gas(code, g), g);
  const r = await ex.execute(request({ code, opKey: "d/op", gasLimit: g - 1n }));
  assert.ok(!r.ok && r.reason === "out-of-gas");
});

test("memory.grow is charged per page requested", T, async () => {
  const grow = (pages: number) => module([...op.i32_const(pages), ...op.memory_grow, ...op.drop]);
  assert.equal((await gas(grow(3))) - (await gas(grow(1))), 2n * GAS_PER_GROWN_PAGE);
  // Growing by nothing is still the engine's runtime call: version 2 charges it 400 (it was 10).
  const none = module([...op.i32_const(0), ...op.memory_grow, ...op.drop]);
  const bare = module([...op.i32_const(0), ...op.drop]);
  assert.equal(COST.grow, 400);
  assert.equal((await gas(none)) - (await gas(bare)), BigInt(COST.grow));
});

test("ed25519_verify is charged its base and 12 per 8-byte word of message", T, async () => {
  const types: Array<[number[], number[]]> = [
    [[], [I32]],
    [[I32, I32, I32, I32], [I32]],
  ];
  const verify = (len: number) =>
    build({
      types,
      imports: [{ module: "arbor", name: "ed25519_verify", type: 1 }],
      funcs: [
        {
          type: 0,
          body: [
            ...[...op.i32_const(0), ...op.i32_const(4096), ...op.i32_const(len), ...op.i32_const(128)],
            ...[...op.call(0), ...op.drop, ...op.i32_const(16)],
          ],
        },
      ],
      data: [{ offset: 16, bytes: EMPTY_RESULT }],
    });
  assert.equal(GAS_ED25519_PER_WORD, 12n);
  assert.equal((await gas(verify(800))) - (await gas(verify(8))), 99n * GAS_ED25519_PER_WORD);
});

test("a call whose memory grew pays for the next call's fresh instance, trapping or not", T, async () => {
  const grows = (tail: number[]) =>
    build({
      funcs: [{ type: 0, body: [...op.i32_const(1), ...op.memory_grow, ...op.drop, ...tail] }],
      data: [{ offset: 16, bytes: EMPTY_RESULT }],
    });
  const regrow = GAS_REINSTANTIATE + GAS_REGROW_PER_INITIAL_PAGE; // one initial page, no start function
  const plain = build({
    funcs: [{ type: 0, body: [...op.i32_const(1), ...op.drop, ...op.i32_const(16)] }],
    data: [{ offset: 16, bytes: EMPTY_RESULT }],
  });
  const grown = await gas(grows(op.i32_const(16)));
  assert.equal(grown - (await gas(plain)), BigInt(COST.grow) + GAS_PER_GROWN_PAGE + regrow);
  // Growing then trapping pays it too.
  const r = await ex.execute(request({ code: grows(op.unreachable), opKey: "d/op" }));
  assert.ok(!r.ok && r.reason === "trap");
  assert.ok(r.gasUsed >= regrow, `gas ${r.gasUsed}`);
  // A limit that cannot pay for it ends out-of-gas, with the whole limit.
  const short = await ex.execute(request({ code: grows(op.i32_const(16)), opKey: "d/op", gasLimit: regrow }));
  assert.ok(!short.ok && short.reason === "out-of-gas" && short.gasUsed === regrow);
});

test("memory.fill and memory.copy are charged per 8-byte word", T, async () => {
  const fill = (n: number) =>
    module([...op.i32_const(1024), ...op.i32_const(7), ...op.i32_const(n), ...op.memory_fill]);
  assert.equal((await gas(fill(800))) - (await gas(fill(8))), 99n);
  assert.equal((await gas(fill(9))) - (await gas(fill(8))), 1n);
  const copy = (n: number) =>
    module([...op.i32_const(2048), ...op.i32_const(0), ...op.i32_const(n), ...op.memory_copy]);
  assert.equal((await gas(copy(4000))) - (await gas(copy(0))), 500n);
});

test("the call-stack budget is charged by frame size", T, async () => {
  // run calls f, which calls itself until the budget traps in f's entry (before f is charged).
  const recurse = (locals: number) =>
    build({
      types: [
        [[], [I32]],
        [[], []],
      ],
      funcs: [
        { type: 0, body: [...op.call(1), ...op.i32_const(0)] },
        { type: 1, locals: locals ? [[locals, I32]] : [], body: op.call(1) },
      ],
    });
  const depthGas = async (locals: number) => {
    const r = await ex.execute(request({ code: recurse(locals), opKey: "d/op" }));
    assert.ok(!r.ok && r.reason === "stack-limit");
    return r.gasUsed - BASE;
  };
  // Frame weight = FRAME_BASE_UNITS + locals + largest operand stack: run's is 4 + 0 + 1, f's 4 + locals.
  const expected = (locals: number) => {
    const frames = Math.floor((MAX_WASM_STACK_UNITS - (FRAME_BASE_UNITS + 1)) / (FRAME_BASE_UNITS + locals));
    return BigInt(COST.call + COST.simple) + BigInt(frames) * BigInt(COST.call);
  };
  assert.equal(await depthGas(0), expected(0));
  assert.equal(await depthGas(100), expected(100));
  assert.ok((await depthGas(0)) > (await depthGas(100)));
});

test("host calls are charged: input_read by size", T, async () => {
  const types: Array<[number[], number[]]> = [
    [[], [I32]],
    [[I32], []],
  ];
  const code = build({
    types,
    imports: [{ module: "arbor", name: "input_read", type: 1 }],
    funcs: [{ type: 0, body: [...op.i32_const(4096), ...op.call(0), ...op.i32_const(16)] }],
    data: [{ offset: 16, bytes: EMPTY_RESULT }],
  });
  const run = async (n: number) => {
    const r = await ex.execute(request({ code, opKey: "d/op", args: new Uint8Array(n) }));
    assert.ok(r.ok);
    return r.gasUsed;
  };
  // args of 800 vs 8 bytes: 99 more words, plus one more byte of varint length prefix (same word count here)
  const d = (await run(800)) - (await run(8));
  assert.ok(d === 99n || d === 100n, `difference ${d}`);
  void Writer;
});
