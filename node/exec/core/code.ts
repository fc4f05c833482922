// Checks one function body and plans its instrumentation. Decodes every instruction (rejecting
// floats and anything outside opcodes.ts), bounds locals and nesting, estimates the largest operand
// stack (for the call-stack budget), and splits the body into metered segments, each charged in
// full, before it runs, for every instruction it contains.
//
// Soundness rule: every instruction that executes lies in a segment whose charge executed first.
// So a segment must begin wherever control can arrive other than by falling through from the code
// before it: function entry, loop header, each arm of an if, after the end of a block or if that
// a branch targets. Everything else continues the current segment — a forward br_if, a call, the
// end of an untargeted block — so an early exit is charged at most the rest of its segment, never
// less than it ran. Two refinements keep the count of charges low:
//  * after an if whose arm ends in a trap or branch, the code after it is reachable from one side
//    only and joins that side's segment (AssemblyScript's bounds checks cost no extra charge);
//  * after a loop's end and after a br_if back to a loop a new segment begins anyway, so a loop's
//    iterations are never charged for code they skip.
// Code after br, br_table, return or unreachable is dead until a segment begins; it is not charged.

import { MAX_WASM_LOCALS, MAX_WASM_NESTING } from "../../common/limits.js";
import { invalid } from "./errors.js";
import { COST } from "./gas.js";
import { funcCount, typeOfFunc, type ParsedModule } from "./module.js";
import { FC_OPCODES, OPCODES, isFloatFcOpcode, isFloatOpcode, type OpInfo } from "./opcodes.js";
import { WasmReader } from "./wasm-bytes.js";

export type Patch =
  /** Insert a gas charge of `cost` before byte `at`. */
  | { readonly at: number; readonly kind: "charge"; readonly cost: number }
  /** Replace the one-byte `return` at `at` by `br depth` (to the wrapper block). */
  | { readonly at: number; readonly kind: "return"; readonly depth: number }
  /** Insert a call to the memory.grow hook before the instruction at `at`. */
  | { readonly at: number; readonly kind: "grow" }
  /** Insert a call to the memory.copy/fill hook before the instruction at `at`. */
  | { readonly at: number; readonly kind: "bulk" };

export interface BodyPlan {
  /** Byte range of the whole body and where its instructions begin (after the local declarations). */
  readonly start: number;
  readonly codeStart: number;
  readonly end: number;
  /** Parameters plus declared locals. */
  readonly locals: number;
  /** Upper bound of the operand stack height. */
  readonly maxStack: number;
  /** Block type byte of the function's result (0x40 for none). */
  readonly resultType: number;
  /** In increasing order of `at`. */
  readonly patches: readonly Patch[];
}

interface Segment {
  readonly at: number;
  cost: number;
}

interface Frame {
  kind: "func" | "block" | "loop" | "if";
  base: number;
  results: number;
  /** Some branch targets this frame's label. */
  targeted: boolean;
  /** For an if: the segment live at the if instruction (null if that code was dead). */
  pre: Segment | null;
  /** For an if with else: the segment live at the else (the then-arm's fall-through). */
  thenEnd: Segment | null;
  hasElse: boolean;
}

function blockResults(r: WasmReader): number {
  const b = r.u8();
  if (b === 0x40) return 0;
  if (b === 0x7f || b === 0x7e) return 1;
  if (b === 0x7c || b === 0x7d) invalid("float", "floating-point block type");
  return invalid("feature", "multi-value and reference block types are not supported");
}

export function planBody(
  m: ParsedModule,
  funcIndex: number,
  range: { start: number; end: number },
): BodyPlan {
  const r = new WasmReader(m.bytes, range.start, range.end);
  const type = typeOfFunc(m, funcIndex);
  let locals = type.params.length;
  const groups = r.u32();
  if (groups > MAX_WASM_LOCALS)
    invalid("bounds", `function ${funcIndex} declares more than ${MAX_WASM_LOCALS} locals`);
  for (let i = 0; i < groups; i++) {
    const n = r.u32();
    locals += n;
    if (locals > MAX_WASM_LOCALS)
      invalid("bounds", `function ${funcIndex} has more than ${MAX_WASM_LOCALS} locals`);
    const t = r.u8();
    if (t === 0x7c || t === 0x7d) invalid("float", `function ${funcIndex} has a floating-point local`);
    if (t !== 0x7f && t !== 0x7e) invalid("feature", `function ${funcIndex} has a local of unsupported type`);
  }
  const codeStart = r.pos;
  const nFuncs = funcCount(m);
  const patches: Patch[] = [];
  const segments: Segment[] = [];
  const frame = (kind: Frame["kind"], base: number, results: number, pre: Segment | null = null): Frame => ({
    kind,
    base,
    results,
    targeted: false,
    pre,
    thenEnd: null,
    hasElse: false,
  });
  const ctrl: Frame[] = [frame("func", 0, type.results.length)];
  let height = 0;
  let maxStack = 0;
  /** The segment being charged, or null while the code is dead. */
  let cur: Segment | null = null;
  const begin = (at: number) => {
    cur = { at, cost: 0 };
    segments.push(cur);
  };
  begin(codeStart);

  const pop = (n: number) => {
    const f = ctrl[ctrl.length - 1]!;
    height = Math.max(f.base, height - n);
  };
  const push = (n: number) => {
    height += n;
    if (height > maxStack) maxStack = height;
  };
  const target = (label: number): Frame => {
    if (label >= ctrl.length) invalid("malformed", "branch to an unknown label");
    const f = ctrl[ctrl.length - 1 - label]!;
    f.targeted = true;
    return f;
  };

  while (ctrl.length > 0) {
    const at = r.pos;
    const code = r.u8();
    let info: OpInfo | undefined;
    if (code === 0xfc) {
      const sub = r.u32();
      if (isFloatFcOpcode(sub))
        invalid("float", `function ${funcIndex}: floating-point conversion 0xfc ${sub}`);
      info = FC_OPCODES.get(sub);
      if (!info) invalid("feature", `function ${funcIndex}: instruction 0xfc ${sub} is not supported`);
      const mems = sub === 10 ? 2 : 1;
      for (let i = 0; i < mems; i++) if (r.u32() !== 0) invalid("malformed", "memory index must be 0");
    } else {
      info = OPCODES.get(code);
      if (!info) {
        if (isFloatOpcode(code))
          invalid(
            "float",
            `function ${funcIndex}: floating-point instruction 0x${code.toString(16)} at byte ${at}`,
          );
        invalid(
          "feature",
          `function ${funcIndex}: instruction 0x${code.toString(16)} at byte ${at} is not supported`,
        );
      }
    }
    if (cur !== null) (cur as Segment).cost += COST[info.cost];

    let pops = info.pop;
    let pushes = info.push;
    let branchesToLoop = false;
    switch (info.imm) {
      case "none":
      case "blocktype":
        break;
      case "label":
        branchesToLoop = target(r.u32()).kind === "loop";
        break;
      case "br_table": {
        const n = r.u32();
        if (n > range.end - r.pos) invalid("malformed", "br_table longer than the body");
        for (let i = 0; i <= n; i++) target(r.u32());
        break;
      }
      case "func": {
        const f = r.u32();
        if (f >= nFuncs) invalid("malformed", "call to an unknown function");
        const t = typeOfFunc(m, f);
        pops = t.params.length;
        pushes = t.results.length;
        break;
      }
      case "call_indirect": {
        const ti = r.u32();
        if (ti >= m.types.length) invalid("malformed", "call_indirect with an unknown type");
        const t = m.types[ti]!;
        if (t.hasFloat) invalid("float", "call_indirect with a floating-point signature");
        if (r.u32() !== 0 || !m.table) invalid("malformed", "call_indirect needs table 0");
        pops = 1 + t.params.length;
        pushes = t.results.length;
        break;
      }
      case "local":
        if (r.u32() >= locals) invalid("malformed", "unknown local");
        break;
      case "global":
        if (r.u32() >= m.globals.length) invalid("malformed", "unknown global");
        break;
      case "memarg":
        r.u32();
        r.u32();
        break;
      case "memidx":
        if (r.u32() !== 0) invalid("malformed", "memory index must be 0");
        break;
      case "i32":
        r.sleb(32);
        break;
      case "i64":
        r.sleb(64);
        break;
      case "f64":
        r.skip(8);
        break;
    }
    const next = r.pos;

    switch (info.role) {
      case "block":
        ctrl.push(frame("block", height, blockResults(r)));
        break;
      case "loop":
        ctrl.push(frame("loop", height, blockResults(r)));
        begin(r.pos);
        break;
      case "if": {
        const results = blockResults(r);
        pop(1);
        ctrl.push(frame("if", height, results, cur));
        begin(r.pos);
        break;
      }
      case "else": {
        const f = ctrl[ctrl.length - 1]!;
        if (f.kind !== "if" || f.hasElse) invalid("malformed", "else outside if");
        f.hasElse = true;
        f.thenEnd = cur;
        height = f.base;
        begin(next);
        break;
      }
      case "end": {
        const f = ctrl.pop()!;
        height = f.base;
        if (ctrl.length > 0) push(f.results);
        if (f.kind === "func") break;
        if (f.targeted) begin(next);
        else if (f.kind === "loop") {
          if (cur !== null) begin(next);
        } else if (f.kind === "if") {
          // Which sides fall through to here? One side only: continue its segment.
          const a: Segment | null = f.hasElse ? f.thenEnd : cur; // the then-arm's fall-through
          const b: Segment | null = f.hasElse ? cur : f.pre; // the else-arm's fall-through, or the false path
          if (a === null) cur = b;
          else if (b === null) cur = a;
          else begin(next);
        }
        // An untargeted block is left only by falling through: its segment continues.
        break;
      }
      case "br":
      case "br_table":
      case "return":
      case "unreachable":
        pop(pops);
        if (info.role === "return") patches.push({ at, kind: "return", depth: ctrl.length - 1 });
        height = ctrl[ctrl.length - 1]!.base;
        cur = null;
        break;
      case "br_if":
        pop(pops);
        if (branchesToLoop && cur !== null) begin(next);
        break;
      case "grow":
      case "bulk":
        patches.push({ at, kind: info.role });
        pop(pops);
        push(pushes);
        break;
      default:
        pop(pops);
        push(pushes);
    }
    if (ctrl.length > MAX_WASM_NESTING)
      invalid("bounds", `function ${funcIndex} nests blocks deeper than ${MAX_WASM_NESTING}`);
  }
  for (const seg of segments) if (seg.cost > 0) patches.push({ at: seg.at, kind: "charge", cost: seg.cost });
  if (!r.done) invalid("malformed", `function ${funcIndex} has bytes after its final end`);
  // Stable sort; at equal positions the segment's charge goes first.
  patches.sort((a, b) => a.at - b.at || (a.kind === "charge" ? -1 : 0) - (b.kind === "charge" ? -1 : 0));
  const resultType = type.results.length === 0 ? 0x40 : type.results[0] === "i32" ? 0x7f : 0x7e;
  return { start: range.start, codeStart, end: range.end, locals, maxStack, resultType, patches };
}
