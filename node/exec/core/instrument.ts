// Rewrites a validated module into the form a node compiles: metered and resettable. Additions only
// (every original index stays valid): globals for gas, call-stack units and a status code; a
// shadow of every mutable global; hook functions for memory.grow and memory.copy/fill; and exported
// __arbor_save / __arbor_restore so one instance can be reused with no state carried between calls.
// Each function body becomes:
//   depth += w; if depth > MAX: status = STACK, unreachable      (w = 4 + locals + max stack)
//   block <result>  <original body, returns turned into br to this block>  end
//   depth -= w
// with a gas charge at the start of every segment planned by code.ts. Custom sections are dropped.

import { MAX_START_GAS, MAX_WASM_MEMORY_PAGES, MAX_WASM_STACK_UNITS } from "../../common/limits.js";
import {
  INJECTED_GAS,
  INJECTED_RESTORE,
  INJECTED_SAVE,
  INJECTED_STATUS,
  MEMORY_EXPORT,
  RUN_EXPORT,
  STATUS_MEMORY_LIMIT,
  STATUS_OUT_OF_GAS,
  STATUS_STACK_LIMIT,
  type ValType,
} from "./abi.js";
import { planBody, type BodyPlan } from "./code.js";
import { GAS_PER_GROWN_PAGE, GAS_PER_WORD } from "./gas.js";
import { type ParsedModule } from "./module.js";
import { WasmWriter } from "./wasm-bytes.js";

/** Fixed frame overhead, in stack units, added to every function's locals and operand stack. */
export const FRAME_BASE_UNITS = 4;

export interface Instrumented {
  readonly bytes: Uint8Array;
  /** Declared initial memory, in pages. */
  readonly initialPages: number;
  readonly metered: boolean;
}

// Opcodes used by the injected code.
const UNREACHABLE = 0x00;
const IF = 0x04;
const END = 0x0b;
const BR = 0x0c;
const CALL = 0x10;
const BLOCK = 0x02;
const LOCAL_GET = 0x20;
const GLOBAL_GET = 0x23;
const GLOBAL_SET = 0x24;
const MEMORY_SIZE = 0x3f;
const I32_CONST = 0x41;
const I64_CONST = 0x42;
const I32_GT_U = 0x4b;
const I64_LT_S = 0x53;
const I64_GT_U = 0x56;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I64_ADD = 0x7c;
const I64_SUB = 0x7d;
const I64_MUL = 0x7e;
const I64_SHR_U = 0x88;
const I64_EXTEND_I32_U = 0xad;
const VOID = 0x40;

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f64: 0x7c };

export function planAll(m: ParsedModule): BodyPlan[] {
  return m.bodies.map((b, i) => planBody(m, m.imports.length + i, b));
}

export function instrument(m: ParsedModule, plans: readonly BodyPlan[], metered = true): Instrumented {
  const G = m.globals.length;
  const gGas = G;
  const gDepth = G + 1;
  const gStatus = G + 2;
  const mutables = m.globals.map((g, i) => ({ g, i })).filter((x) => x.g.mutable);
  const shadowOf = new Map(mutables.map((x, k) => [x.i, G + 3 + k]));

  const F = m.imports.length + m.funcTypes.length;
  const fGrow = F;
  const fBulk = F + 1;
  const fSave = F + 2;
  const fRestore = F + 3;

  // Types: reuse identical ones, append the rest.
  const types = m.types.map((t) => ({ params: [...t.params], results: [...t.results] }));
  const typeIndex = (params: ValType[], results: ValType[]): number => {
    const key = JSON.stringify([params, results]);
    let i = types.findIndex((t) => JSON.stringify([t.params, t.results]) === key);
    if (i < 0) i = types.push({ params, results }) - 1;
    return i;
  };
  const tHook = typeIndex(["i32"], ["i32"]);
  const tSave = typeIndex([], []);
  const tRestore = typeIndex(["i64"], []);

  const raw = (id: number) => {
    const s = m.sections.find((x) => x.id === id);
    return s ? m.bytes.subarray(s.start, s.end) : undefined;
  };
  const out = new WasmWriter().raw(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));

  // 1 type
  {
    const w = new WasmWriter().u32(types.length);
    for (const t of types) {
      w.u8(0x60).u32(t.params.length);
      for (const p of t.params) w.u8(VALTYPE[p]);
      w.u32(t.results.length);
      for (const p of t.results) w.u8(VALTYPE[p]);
    }
    out.section(1, w.finish());
  }
  // 2 import
  const imports = raw(2);
  if (imports) out.section(2, imports);
  // 3 function
  {
    const w = new WasmWriter().u32(m.funcTypes.length + 4);
    for (const t of m.funcTypes) w.u32(t);
    w.u32(tHook).u32(tHook).u32(tSave).u32(tRestore);
    out.section(3, w.finish());
  }
  // 4 table
  const table = raw(4);
  if (table) out.section(4, table);
  // 5 memory: the maximum is lowered to the cap, so growth past it can never succeed in the engine.
  {
    const max = Math.min(m.memory.max ?? MAX_WASM_MEMORY_PAGES, MAX_WASM_MEMORY_PAGES);
    out.section(5, new WasmWriter().u32(1).u8(1).u32(m.memory.min).u32(Math.max(max, m.memory.min)).finish());
  }
  // 6 global
  {
    const w = new WasmWriter().u32(G + 3 + mutables.length);
    const global = (type: "i32" | "i64", mutable: boolean, init: bigint) =>
      w
        .u8(VALTYPE[type])
        .u8(mutable ? 1 : 0)
        .u8(type === "i32" ? I32_CONST : I64_CONST)
        .sleb(init)
        .u8(END);
    for (const g of m.globals) global(g.type, g.mutable, g.init);
    global("i64", true, MAX_START_GAS); // gas: the start function runs on this budget
    global("i32", true, 0n); // depth
    global("i32", true, 0n); // status
    for (const x of mutables) global(x.g.type, true, x.g.init);
    out.section(6, w.finish());
  }
  // 7 export: run and memory, plus the injected ones.
  {
    const r = new WasmWriter().u32(6);
    r.name(RUN_EXPORT).u8(0).u32(m.runIndex);
    r.name(MEMORY_EXPORT).u8(2).u32(0);
    r.name(INJECTED_GAS).u8(3).u32(gGas);
    r.name(INJECTED_STATUS).u8(3).u32(gStatus);
    r.name(INJECTED_SAVE).u8(0).u32(fSave);
    r.name(INJECTED_RESTORE).u8(0).u32(fRestore);
    out.section(7, r.finish());
  }
  for (const id of [8, 9, 12]) {
    const s = raw(id);
    if (s) out.section(id, s);
  }
  // 10 code
  {
    const w = new WasmWriter().u32(plans.length + 4);
    for (const p of plans) {
      const body = rewriteBody(m.bytes, p, metered, { gGas, gDepth, gStatus, fGrow, fBulk });
      w.u32(body.length).raw(body);
    }
    for (const body of [
      hookBody(true, gGas, gStatus),
      hookBody(false, gGas, gStatus),
      saveBody(mutables.map((x) => [x.i, shadowOf.get(x.i)!])),
      restoreBody(
        mutables.map((x) => [x.i, shadowOf.get(x.i)!]),
        gGas,
        gDepth,
        gStatus,
      ),
    ])
      w.u32(body.length).raw(body);
    out.section(10, w.finish());
  }
  const data = raw(11);
  if (data) out.section(11, data);
  return { bytes: out.finish(), initialPages: m.memory.min, metered };
}

interface Indices {
  gGas: number;
  gDepth: number;
  gStatus: number;
  fGrow: number;
  fBulk: number;
}

/** `status = code; unreachable` inside `if … end` (the condition is on the stack). */
function trapIf(w: WasmWriter, gStatus: number, code: number): void {
  w.u8(IF).u8(VOID).u8(I32_CONST).sleb(BigInt(code)).u8(GLOBAL_SET).u32(gStatus).u8(UNREACHABLE).u8(END);
}

function chargeConst(w: WasmWriter, cost: number, gGas: number, gStatus: number): void {
  w.u8(GLOBAL_GET).u32(gGas).u8(I64_CONST).sleb(BigInt(cost)).u8(I64_SUB).u8(GLOBAL_SET).u32(gGas);
  w.u8(GLOBAL_GET).u32(gGas).u8(I64_CONST).sleb(0n).u8(I64_LT_S);
  trapIf(w, gStatus, STATUS_OUT_OF_GAS);
}

function rewriteBody(bytes: Uint8Array, p: BodyPlan, metered: boolean, ix: Indices): Uint8Array {
  const w = new WasmWriter();
  w.raw(bytes.subarray(p.start, p.codeStart)); // local declarations, unchanged
  if (!metered) {
    w.raw(bytes.subarray(p.codeStart, p.end));
    return w.finish();
  }
  const units = FRAME_BASE_UNITS + p.locals + p.maxStack;
  w.u8(GLOBAL_GET).u32(ix.gDepth).u8(I32_CONST).sleb(BigInt(units)).u8(I32_ADD).u8(GLOBAL_SET).u32(ix.gDepth);
  w.u8(GLOBAL_GET).u32(ix.gDepth).u8(I32_CONST).sleb(BigInt(MAX_WASM_STACK_UNITS)).u8(I32_GT_U);
  trapIf(w, ix.gStatus, STATUS_STACK_LIMIT);
  w.u8(BLOCK).u8(p.resultType);
  let pos = p.codeStart;
  for (const patch of p.patches) {
    w.raw(bytes.subarray(pos, patch.at));
    pos = patch.at;
    switch (patch.kind) {
      case "charge":
        chargeConst(w, patch.cost, ix.gGas, ix.gStatus);
        break;
      case "return":
        w.u8(BR).u32(patch.depth);
        pos += 1; // the original one-byte return is replaced
        break;
      case "grow":
        w.u8(CALL).u32(ix.fGrow);
        break;
      case "bulk":
        w.u8(CALL).u32(ix.fBulk);
        break;
    }
  }
  w.raw(bytes.subarray(pos, p.end)); // ends with the body's final `end`, which now closes the wrapper
  w.u8(GLOBAL_GET).u32(ix.gDepth).u8(I32_CONST).sleb(BigInt(units)).u8(I32_SUB).u8(GLOBAL_SET).u32(ix.gDepth);
  w.u8(END);
  return w.finish();
}

/** (param i32 n) (result i32): charges for n pages (grow) or n bytes (bulk) and returns n. */
function hookBody(grow: boolean, gGas: number, gStatus: number): Uint8Array {
  const w = new WasmWriter().u32(0);
  if (grow) {
    // Growth past the cap is its own rejection, checked before the gas for it.
    w.u8(LOCAL_GET).u32(0).u8(I64_EXTEND_I32_U).u8(MEMORY_SIZE).u8(0).u8(I64_EXTEND_I32_U).u8(I64_ADD);
    w.u8(I64_CONST).sleb(BigInt(MAX_WASM_MEMORY_PAGES)).u8(I64_GT_U);
    trapIf(w, gStatus, STATUS_MEMORY_LIMIT);
    w.u8(GLOBAL_GET).u32(gGas);
    w.u8(LOCAL_GET).u32(0).u8(I64_EXTEND_I32_U).u8(I64_CONST).sleb(GAS_PER_GROWN_PAGE).u8(I64_MUL);
  } else {
    // per started 8-byte word
    w.u8(GLOBAL_GET).u32(gGas);
    w.u8(LOCAL_GET)
      .u32(0)
      .u8(I64_EXTEND_I32_U)
      .u8(I64_CONST)
      .sleb(7n)
      .u8(I64_ADD)
      .u8(I64_CONST)
      .sleb(3n)
      .u8(I64_SHR_U);
    w.u8(I64_CONST).sleb(GAS_PER_WORD).u8(I64_MUL);
  }
  w.u8(I64_SUB).u8(GLOBAL_SET).u32(gGas);
  w.u8(GLOBAL_GET).u32(gGas).u8(I64_CONST).sleb(0n).u8(I64_LT_S);
  trapIf(w, gStatus, STATUS_OUT_OF_GAS);
  w.u8(LOCAL_GET).u32(0).u8(END);
  return w.finish();
}

function saveBody(pairs: Array<[number, number]>): Uint8Array {
  const w = new WasmWriter().u32(0);
  for (const [g, s] of pairs) w.u8(GLOBAL_GET).u32(g).u8(GLOBAL_SET).u32(s);
  return w.u8(END).finish();
}

function restoreBody(
  pairs: Array<[number, number]>,
  gGas: number,
  gDepth: number,
  gStatus: number,
): Uint8Array {
  const w = new WasmWriter().u32(0);
  for (const [g, s] of pairs) w.u8(GLOBAL_GET).u32(s).u8(GLOBAL_SET).u32(g);
  w.u8(LOCAL_GET).u32(0).u8(GLOBAL_SET).u32(gGas);
  w.u8(I32_CONST).sleb(0n).u8(GLOBAL_SET).u32(gDepth);
  w.u8(I32_CONST).sleb(0n).u8(GLOBAL_SET).u32(gStatus);
  return w.u8(END).finish();
}
