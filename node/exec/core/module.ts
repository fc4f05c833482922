// Parses and validates the sections of an operation module against Arbor's rules: size and count
// bounds, imports only from the host ABI, exactly the `run` and `memory` exports, integer types
// only (f64 solely in the signature of AssemblyScript's trace), one bounded memory, at most one
// funcref table, constant initialisers, active data/element segments that fit. Function bodies are
// checked by code.ts. Anything wrong is an InvalidModuleError; the parser never reads out of bounds.

import {
  MAX_WASM_DATA_SEGMENTS,
  MAX_WASM_ELEMENT_SEGMENTS,
  MAX_WASM_EXPORTS,
  MAX_WASM_FUNCTIONS,
  MAX_WASM_GLOBALS,
  MAX_WASM_IMPORTS,
  MAX_WASM_INITIAL_PAGES,
  MAX_WASM_NAME_BYTES,
  MAX_WASM_TABLE_ELEMENTS,
  MAX_WASM_TYPE_ARITY,
  MAX_WASM_TYPES,
} from "../../common/limits.js";
import {
  HOST_IMPORTS,
  INJECTED_PREFIX,
  MEMORY_EXPORT,
  REFUSED_IMPORTS,
  RUN_EXPORT,
  type ValType,
} from "./abi.js";
import { invalid, InvalidModuleError } from "./errors.js";
import { moduleSizeViolation } from "../../common/bounds.js";
import { WasmReader } from "./wasm-bytes.js";

export const PAGE_BYTES = 65536;

export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  readonly hasFloat: boolean;
}

export interface Global {
  readonly type: "i32" | "i64";
  readonly mutable: boolean;
  readonly init: bigint;
}

export interface Limits {
  readonly min: number;
  readonly max: number | undefined;
}

export interface Section {
  readonly id: number;
  /** Contents, without id and size. */
  readonly start: number;
  readonly end: number;
}

export interface ParsedModule {
  readonly bytes: Uint8Array;
  readonly sections: readonly Section[];
  readonly types: readonly FuncType[];
  /** Imported functions, in import order (they take the first function indices). */
  readonly imports: ReadonlyArray<{ module: string; name: string; type: number }>;
  /** Type index of each defined function. */
  readonly funcTypes: readonly number[];
  readonly table: Limits | undefined;
  readonly memory: Limits;
  readonly globals: readonly Global[];
  readonly start: number | undefined;
  /** Function index of the `run` export. */
  readonly runIndex: number;
  /** Function bodies: byte ranges in `bytes` (after the size prefix). */
  readonly bodies: ReadonlyArray<{ start: number; end: number }>;
  readonly dataBytes: number;
}

/** Function type of function index i (imports first). */
export function typeOfFunc(m: ParsedModule, i: number): FuncType {
  const t = i < m.imports.length ? m.imports[i]!.type : m.funcTypes[i - m.imports.length]!;
  return m.types[t]!;
}

export function funcCount(m: ParsedModule): number {
  return m.imports.length + m.funcTypes.length;
}

// Canonical position of each known section id (custom sections, id 0, may appear anywhere).
const ORDER = new Map<number, number>([
  [1, 1],
  [2, 2],
  [3, 3],
  [4, 4],
  [5, 5],
  [6, 6],
  [7, 7],
  [8, 8],
  [9, 9],
  [12, 10],
  [10, 11],
  [11, 12],
]);

function valType(r: WasmReader): ValType {
  const b = r.u8();
  if (b === 0x7f) return "i32";
  if (b === 0x7e) return "i64";
  if (b === 0x7c) return "f64";
  if (b === 0x7d) invalid("float", "f32 values are not allowed");
  return invalid("feature", `value type 0x${b.toString(16)} is not supported`);
}

function intType(r: WasmReader, what: string): "i32" | "i64" {
  const t = valType(r);
  if (t === "f64") invalid("float", `${what} of type f64 is not allowed`);
  return t;
}

function limits(r: WasmReader, what: string): Limits {
  const flags = r.u8();
  if (flags !== 0 && flags !== 1)
    invalid("feature", `${what} limits flag 0x${flags.toString(16)} (shared or 64-bit) is not supported`);
  const min = r.u32();
  const max = flags === 1 ? r.u32() : undefined;
  if (max !== undefined && max < min) invalid("malformed", `${what} maximum below minimum`);
  return { min, max };
}

/** A constant initialiser: `i32.const n end` or `i64.const n end`. */
function constExpr(r: WasmReader, type: "i32" | "i64"): bigint {
  const op = r.u8();
  let v: bigint;
  if (op === 0x41 && type === "i32") v = r.sleb(32);
  else if (op === 0x42 && type === "i64") v = r.sleb(64);
  else return invalid("feature", `initialiser must be a single ${type}.const`);
  if (r.u8() !== 0x0b) invalid("feature", "initialiser must be a single constant");
  return v;
}

function sameSig(t: FuncType, params: readonly ValType[], results: readonly ValType[]): boolean {
  return (
    t.params.length === params.length &&
    t.results.length === results.length &&
    t.params.every((p, i) => p === params[i]) &&
    t.results.every((p, i) => p === results[i])
  );
}

export function parseModule(bytes: Uint8Array): ParsedModule {
  const tooLarge = moduleSizeViolation(bytes.length);
  if (tooLarge !== null) throw new InvalidModuleError(tooLarge.code, tooLarge.message);
  const r = new WasmReader(bytes);
  const header = r.bytes(Math.min(8, bytes.length));
  const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (header.length < 8 || HEADER.some((b, i) => header[i] !== b))
    invalid("malformed", "not a WebAssembly 1.0 binary");

  const sections: Section[] = [];
  let types: FuncType[] = [];
  const imports: Array<{ module: string; name: string; type: number }> = [];
  let funcTypes: number[] = [];
  let table: Limits | undefined;
  let memory: Limits | undefined;
  const globals: Global[] = [];
  let start: number | undefined;
  const bodies: Array<{ start: number; end: number }> = [];
  let dataBytes = 0;
  let dataCount: number | undefined;
  let sawCode = false;
  let sawData = false;
  const exportsSeen = { run: false, memory: false };
  let runIndex = 0;
  const sigOf = (i: number): FuncType =>
    types[i < imports.length ? imports[i]!.type : funcTypes[i - imports.length]!]!;
  let lastOrder = 0;

  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    if (size > r.end - r.pos) invalid("malformed", `section ${id} runs past the end`);
    const s = new WasmReader(bytes, r.pos, r.pos + size);
    r.pos += size;
    if (id === 0) {
      s.name(MAX_WASM_NAME_BYTES); // custom sections are ignored (and dropped by the instrumenter)
      continue;
    }
    const order = ORDER.get(id);
    if (order === undefined) invalid("feature", `section id ${id} is not supported`);
    if (order <= lastOrder) invalid("malformed", `section ${id} out of order or repeated`);
    lastOrder = order;
    sections.push({ id, start: s.pos, end: s.end });

    const nFuncs = () => imports.length + funcTypes.length;
    switch (id) {
      case 1: {
        const n = s.u32();
        if (n > MAX_WASM_TYPES) invalid("bounds", `${n} types exceed ${MAX_WASM_TYPES}`);
        types = [];
        for (let i = 0; i < n; i++) {
          if (s.u8() !== 0x60) invalid("feature", "only function types are supported");
          const params: ValType[] = [];
          const results: ValType[] = [];
          for (const list of [params, results]) {
            const k = s.u32();
            if (k > MAX_WASM_TYPE_ARITY)
              invalid("bounds", `function type arity ${k} exceeds ${MAX_WASM_TYPE_ARITY}`);
            for (let j = 0; j < k; j++) list.push(valType(s));
          }
          if (results.length > 1) invalid("feature", "multiple results are not supported");
          types.push({ params, results, hasFloat: params.includes("f64") || results.includes("f64") });
        }
        break;
      }
      case 2: {
        const n = s.u32();
        if (n > MAX_WASM_IMPORTS) invalid("bounds", `${n} imports exceed ${MAX_WASM_IMPORTS}`);
        const seen = new Set<string>();
        for (let i = 0; i < n; i++) {
          const module = s.name(MAX_WASM_NAME_BYTES);
          const name = s.name(MAX_WASM_NAME_BYTES);
          const kind = s.u8();
          const full = `${module}.${name}`;
          if (kind !== 0x00)
            invalid("import", `import ${full} is not a function (only host functions can be imported)`);
          const type = s.u32();
          if (type >= types.length) invalid("malformed", `import ${full} has unknown type ${type}`);
          if (REFUSED_IMPORTS.includes(full))
            invalid("import", `${full} (randomness) is not available to operations`);
          const spec = HOST_IMPORTS.find((h) => h.module === module && h.name === name);
          if (!spec) invalid("import", `import ${full} is not part of the host ABI`);
          if (!sameSig(types[type]!, spec.params, spec.results))
            invalid("import", `import ${full} has the wrong signature`);
          if (seen.has(full)) invalid("import", `import ${full} is declared twice`);
          seen.add(full);
          imports.push({ module, name, type });
        }
        break;
      }
      case 3: {
        const n = s.u32();
        if (n > MAX_WASM_FUNCTIONS) invalid("bounds", `${n} functions exceed ${MAX_WASM_FUNCTIONS}`);
        funcTypes = [];
        for (let i = 0; i < n; i++) {
          const t = s.u32();
          if (t >= types.length) invalid("malformed", `function ${i} has unknown type ${t}`);
          if (types[t]!.hasFloat) invalid("float", `function ${i} has a floating-point signature`);
          funcTypes.push(t);
        }
        break;
      }
      case 4: {
        const n = s.u32();
        if (n > 1) invalid("feature", "at most one table is supported");
        if (n === 1) {
          if (s.u8() !== 0x70) invalid("feature", "only funcref tables are supported");
          table = limits(s, "table");
          if (table.min > MAX_WASM_TABLE_ELEMENTS)
            invalid("bounds", `table of ${table.min} elements exceeds ${MAX_WASM_TABLE_ELEMENTS}`);
        }
        break;
      }
      case 5: {
        const n = s.u32();
        if (n !== 1) invalid("memory", "a module must define exactly one memory");
        memory = limits(s, "memory");
        if (memory.min > MAX_WASM_INITIAL_PAGES)
          invalid("bounds", `initial memory of ${memory.min} pages exceeds ${MAX_WASM_INITIAL_PAGES}`);
        break;
      }
      case 6: {
        const n = s.u32();
        if (n > MAX_WASM_GLOBALS) invalid("bounds", `${n} globals exceed ${MAX_WASM_GLOBALS}`);
        for (let i = 0; i < n; i++) {
          const type = intType(s, "global");
          const mut = s.u8();
          if (mut > 1) invalid("malformed", "bad global mutability");
          globals.push({ type, mutable: mut === 1, init: constExpr(s, type) });
        }
        break;
      }
      case 7: {
        const n = s.u32();
        if (n > MAX_WASM_EXPORTS) invalid("bounds", `${n} exports exceed ${MAX_WASM_EXPORTS}`);
        for (let i = 0; i < n; i++) {
          const name = s.name(MAX_WASM_NAME_BYTES);
          const kind = s.u8();
          const index = s.u32();
          if (name.startsWith(INJECTED_PREFIX))
            invalid("export", `export name ${name} uses the reserved prefix ${INJECTED_PREFIX}`);
          if (name === RUN_EXPORT && kind === 0 && !exportsSeen.run) {
            if (index < imports.length || index >= nFuncs())
              invalid("export", `${RUN_EXPORT} must be a defined function`);
            if (!sameSig(sigOf(index), [], ["i32"]))
              invalid("export", `${RUN_EXPORT} must have type () -> i32`);
            exportsSeen.run = true;
            runIndex = index;
          } else if (name === MEMORY_EXPORT && kind === 2 && !exportsSeen.memory) {
            if (index !== 0) invalid("export", `${MEMORY_EXPORT} must be memory 0`);
            exportsSeen.memory = true;
          } else
            invalid(
              "export",
              `unexpected export ${JSON.stringify(name)} (only ${RUN_EXPORT} and ${MEMORY_EXPORT})`,
            );
        }
        break;
      }
      case 8: {
        start = s.u32();
        if (start >= nFuncs()) invalid("malformed", "start function out of range");
        if (!sameSig(sigOf(start), [], [])) invalid("malformed", "start function must have type () -> ()");
        if (start < imports.length) invalid("import", "the start function cannot be an import");
        break;
      }
      case 9: {
        const n = s.u32();
        if (n > MAX_WASM_ELEMENT_SEGMENTS)
          invalid("bounds", `${n} element segments exceed ${MAX_WASM_ELEMENT_SEGMENTS}`);
        if (n > 0 && !table) invalid("malformed", "element segments without a table");
        for (let i = 0; i < n; i++) {
          if (s.u32() !== 0) invalid("feature", "only active element segments of table 0 are supported");
          const offset = Number(BigInt.asUintN(32, constExpr(s, "i32")));
          const k = s.u32();
          if (offset + k > table!.min) invalid("bounds", `element segment ${i} does not fit the table`);
          for (let j = 0; j < k; j++)
            if (s.u32() >= nFuncs()) invalid("malformed", "element refers to an unknown function");
        }
        break;
      }
      case 12:
        dataCount = s.u32();
        break;
      case 10: {
        sawCode = true;
        const n = s.u32();
        if (n !== funcTypes.length) invalid("malformed", `${n} bodies for ${funcTypes.length} functions`);
        for (let i = 0; i < n; i++) {
          const size = s.u32();
          const start = s.pos;
          s.skip(size);
          bodies.push({ start, end: start + size });
        }
        break;
      }
      case 11: {
        sawData = true;
        const n = s.u32();
        if (n > MAX_WASM_DATA_SEGMENTS)
          invalid("bounds", `${n} data segments exceed ${MAX_WASM_DATA_SEGMENTS}`);
        if (dataCount !== undefined && dataCount !== n)
          invalid("malformed", "data count does not match the data section");
        if (n > 0 && !memory) invalid("memory", "data segments without a memory");
        for (let i = 0; i < n; i++) {
          if (s.u32() !== 0) invalid("feature", "only active data segments of memory 0 are supported");
          const offset = Number(BigInt.asUintN(32, constExpr(s, "i32")));
          const k = s.u32();
          dataBytes += k;
          // Data needs no bound of its own: it is part of the module (MAX_MODULE_BYTES) and must
          // fit the initial memory (MAX_WASM_INITIAL_PAGES), so every module size is usable.
          if (offset + k > memory!.min * PAGE_BYTES)
            invalid("bounds", `data segment ${i} does not fit the initial memory`);
          s.skip(k);
        }
        break;
      }
    }
    if (!s.done) invalid("malformed", `section ${id} has ${s.end - s.pos} trailing bytes`);
  }

  if (funcTypes.length > 0 && !sawCode) invalid("malformed", "functions without a code section");
  if (dataCount !== undefined && dataCount > 0 && !sawData)
    invalid("malformed", "data count without a data section");
  if (!memory) invalid("memory", "a module must define exactly one memory");
  if (!exportsSeen.run) invalid("export", `missing export ${RUN_EXPORT}`);
  if (!exportsSeen.memory) invalid("export", `missing export ${MEMORY_EXPORT}`);
  return {
    bytes,
    sections,
    types,
    imports,
    funcTypes,
    table,
    memory,
    globals,
    start,
    runIndex,
    bodies,
    dataBytes,
  };
}
