// The instruction set Arbor accepts: WebAssembly MVP integer instructions, sign-extension,
// memory.copy / memory.fill, and f64.const (only so AssemblyScript's trace() can be called; no
// float value can reach an integer). For each opcode: its immediates, stack effect (for the
// frame-size estimate), cost class (gas.ts) and control role (where basic blocks split).

import type { CostClass } from "./gas.js";

export type Imm =
  | "none"
  | "blocktype"
  | "label"
  | "br_table"
  | "func"
  | "call_indirect"
  | "local"
  | "global"
  | "memarg"
  | "memidx"
  | "i32"
  | "i64"
  | "f64";

export type Role =
  | "plain"
  | "block"
  | "loop"
  | "if"
  | "else"
  | "end"
  | "br"
  | "br_if"
  | "br_table"
  | "return"
  | "unreachable"
  | "call"
  | "call_indirect"
  | "grow"
  | "bulk";

export interface OpInfo {
  readonly name: string;
  readonly imm: Imm;
  /** Operands popped and results pushed (calls and blocks are computed from their types). */
  readonly pop: number;
  readonly push: number;
  readonly cost: CostClass;
  readonly role: Role;
}

function op(
  name: string,
  imm: Imm,
  pop: number,
  push: number,
  cost: CostClass,
  role: Role = "plain",
): OpInfo {
  return { name, imm, pop, push, cost, role };
}

/** Single-byte opcodes. */
export const OPCODES = new Map<number, OpInfo>();
/** 0xFC-prefixed opcodes, by sub-opcode. */
export const FC_OPCODES = new Map<number, OpInfo>();

function def(code: number, info: OpInfo): void {
  OPCODES.set(code, info);
}

def(0x00, op("unreachable", "none", 0, 0, "branch", "unreachable"));
def(0x01, op("nop", "none", 0, 0, "free"));
def(0x02, op("block", "blocktype", 0, 0, "free", "block"));
def(0x03, op("loop", "blocktype", 0, 0, "free", "loop"));
def(0x04, op("if", "blocktype", 1, 0, "branch", "if"));
def(0x05, op("else", "none", 0, 0, "free", "else"));
def(0x0b, op("end", "none", 0, 0, "free", "end"));
def(0x0c, op("br", "label", 0, 0, "branch", "br"));
def(0x0d, op("br_if", "label", 1, 0, "branch", "br_if"));
def(0x0e, op("br_table", "br_table", 1, 0, "branch", "br_table"));
def(0x0f, op("return", "none", 0, 0, "branch", "return"));
def(0x10, op("call", "func", 0, 0, "call", "call"));
def(0x11, op("call_indirect", "call_indirect", 1, 0, "callIndirect", "call_indirect"));
def(0x1a, op("drop", "none", 1, 0, "simple"));
def(0x1b, op("select", "none", 3, 1, "simple"));
def(0x20, op("local.get", "local", 0, 1, "simple"));
def(0x21, op("local.set", "local", 1, 0, "simple"));
def(0x22, op("local.tee", "local", 1, 1, "simple"));
def(0x23, op("global.get", "global", 0, 1, "simple"));
def(0x24, op("global.set", "global", 1, 0, "simple"));

const loads: Array<[number, string]> = [
  [0x28, "i32.load"],
  [0x29, "i64.load"],
  [0x2c, "i32.load8_s"],
  [0x2d, "i32.load8_u"],
  [0x2e, "i32.load16_s"],
  [0x2f, "i32.load16_u"],
  [0x30, "i64.load8_s"],
  [0x31, "i64.load8_u"],
  [0x32, "i64.load16_s"],
  [0x33, "i64.load16_u"],
  [0x34, "i64.load32_s"],
  [0x35, "i64.load32_u"],
];
for (const [c, n] of loads) def(c, op(n, "memarg", 1, 1, "memory"));
const stores: Array<[number, string]> = [
  [0x36, "i32.store"],
  [0x37, "i64.store"],
  [0x3a, "i32.store8"],
  [0x3b, "i32.store16"],
  [0x3c, "i64.store8"],
  [0x3d, "i64.store16"],
  [0x3e, "i64.store32"],
];
for (const [c, n] of stores) def(c, op(n, "memarg", 2, 0, "memory"));

def(0x3f, op("memory.size", "memidx", 0, 1, "simple"));
def(0x40, op("memory.grow", "memidx", 1, 1, "grow", "grow"));
def(0x41, op("i32.const", "i32", 0, 1, "simple"));
def(0x42, op("i64.const", "i64", 0, 1, "simple"));
def(0x44, op("f64.const", "f64", 0, 1, "simple"));

// Comparisons: eqz is unary, the rest binary.
def(0x45, op("i32.eqz", "none", 1, 1, "simple"));
for (let c = 0x46; c <= 0x4f; c++) def(c, op(`i32.cmp_${c.toString(16)}`, "none", 2, 1, "simple"));
def(0x50, op("i64.eqz", "none", 1, 1, "simple"));
for (let c = 0x51; c <= 0x5a; c++) def(c, op(`i64.cmp_${c.toString(16)}`, "none", 2, 1, "simple"));

// Integer arithmetic: clz/ctz/popcnt unary; mul, div/rem priced apart.
function intArith(base: number, t: string): void {
  const names = [
    "clz",
    "ctz",
    "popcnt",
    "add",
    "sub",
    "mul",
    "div_s",
    "div_u",
    "rem_s",
    "rem_u",
    "and",
    "or",
    "xor",
    "shl",
    "shr_s",
    "shr_u",
    "rotl",
    "rotr",
  ];
  names.forEach((n, i) => {
    const unary = i < 3;
    const cost: CostClass =
      n === "mul" ? "mul" : n.startsWith("div") || n.startsWith("rem") ? "divrem" : "simple";
    def(base + i, op(`${t}.${n}`, "none", unary ? 1 : 2, 1, cost));
  });
}
intArith(0x67, "i32");
intArith(0x79, "i64");

def(0xa7, op("i32.wrap_i64", "none", 1, 1, "simple"));
def(0xac, op("i64.extend_i32_s", "none", 1, 1, "simple"));
def(0xad, op("i64.extend_i32_u", "none", 1, 1, "simple"));
def(0xc0, op("i32.extend8_s", "none", 1, 1, "simple"));
def(0xc1, op("i32.extend16_s", "none", 1, 1, "simple"));
def(0xc2, op("i64.extend8_s", "none", 1, 1, "simple"));
def(0xc3, op("i64.extend16_s", "none", 1, 1, "simple"));
def(0xc4, op("i64.extend32_s", "none", 1, 1, "simple"));

FC_OPCODES.set(10, op("memory.copy", "none", 3, 0, "bulk", "bulk"));
FC_OPCODES.set(11, op("memory.fill", "none", 3, 0, "bulk", "bulk"));

/** True for opcodes that compute on or move floating-point values (rejected as "module/float"). */
export function isFloatOpcode(code: number): boolean {
  return (
    code === 0x2a ||
    code === 0x2b ||
    code === 0x38 ||
    code === 0x39 ||
    code === 0x43 ||
    (code >= 0x5b && code <= 0x66) ||
    (code >= 0x8b && code <= 0xa6) ||
    (code >= 0xa8 && code <= 0xab) ||
    (code >= 0xae && code <= 0xbf)
  );
}

/** 0xFC sub-opcodes 0–7 are the saturating float-to-int conversions. */
export function isFloatFcOpcode(sub: number): boolean {
  return sub <= 7;
}
