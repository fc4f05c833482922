// A tiny WebAssembly binary builder for tests: hand-written hostile and probe modules without a
// WAT toolchain. Bodies are given as raw instruction bytes (helpers below).

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const VOID = 0x40;

export function uleb(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

export function sleb(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

function vec(items: number[][]): number[] {
  const out = uleb(items.length);
  for (const it of items) append(out, it);
  return out;
}

/** out.push(...xs) without the argument-count limit of spreads (large data segments). */
function append(out: number[], xs: ArrayLike<number>): number[] {
  for (let i = 0; i < xs.length; i++) out.push(xs[i]!);
  return out;
}

/** Instruction helpers (each returns bytes). */
export const op = {
  unreachable: [0x00],
  nop: [0x01],
  block: (bt = VOID) => [0x02, bt],
  loop: (bt = VOID) => [0x03, bt],
  if: (bt = VOID) => [0x04, bt],
  else: [0x05],
  end: [0x0b],
  br: (l: number) => [0x0c, ...uleb(l)],
  br_if: (l: number) => [0x0d, ...uleb(l)],
  return: [0x0f],
  call: (f: number) => [0x10, ...uleb(f)],
  drop: [0x1a],
  local_get: (i: number) => [0x20, ...uleb(i)],
  local_set: (i: number) => [0x21, ...uleb(i)],
  local_tee: (i: number) => [0x22, ...uleb(i)],
  global_get: (i: number) => [0x23, ...uleb(i)],
  global_set: (i: number) => [0x24, ...uleb(i)],
  i32_load: (offset = 0) => [0x28, 2, ...uleb(offset)],
  i32_store: (offset = 0) => [0x36, 2, ...uleb(offset)],
  i32_store8: (offset = 0) => [0x3a, 0, ...uleb(offset)],
  memory_size: [0x3f, 0],
  memory_grow: [0x40, 0],
  i32_const: (v: number) => [0x41, ...sleb(v)],
  i64_const: (v: number | bigint) => [0x42, ...sleb(v)],
  f32_const: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  f64_const: (v: number) => [0x44, ...new Uint8Array(new Float64Array([v]).buffer)],
  i32_eqz: [0x45],
  i32_lt_u: [0x49],
  i32_add: [0x6a],
  i32_sub: [0x6b],
  i32_div_u: [0x6e],
  f64_add: [0xa0],
  memory_copy: [0xfc, 10, 0, 0],
  memory_fill: [0xfc, 11, 0],
};

export interface Func {
  type: number;
  locals?: Array<[number, number]>; // (count, valtype)
  body: number[]; // instructions, without the final end (added)
}

export interface ModuleSpec {
  types?: Array<[number[], number[]]>;
  imports?: Array<
    { module: string; name: string; type: number } | { module: string; name: string; raw: number[] }
  >;
  funcs?: Func[];
  table?: { min: number; max?: number };
  memory?: { min: number; max?: number; flags?: number } | null;
  globals?: Array<{ type: number; mutable: boolean; init: number[] }>;
  exports?: Array<{ name: string; kind: number; index: number }>;
  start?: number;
  elements?: Array<{ offset: number; funcs: number[] }>;
  data?: Array<{ offset: number; bytes: number[] | Uint8Array }>;
  passiveData?: boolean;
  custom?: Array<{ name: string; bytes: number[] }>;
}

function section(id: number, contents: number[]): number[] {
  return append([id, ...uleb(contents.length)], contents);
}

/** Builds a module. By default: one memory of 1 page, exports "memory" and (if any) function 0 as "run". */
export function build(spec: ModuleSpec): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types = spec.types ?? [[[], [I32]]];
  append(
    out,
    section(1, vec(types.map(([p, r]) => [0x60, ...vec(p.map((x) => [x])), ...vec(r.map((x) => [x]))]))),
  );
  const imports = spec.imports ?? [];
  if (imports.length)
    append(
      out,
      section(
        2,
        vec(
          imports.map((i) => [
            ...name(i.module),
            ...name(i.name),
            ...("raw" in i ? i.raw : [0x00, ...uleb(i.type)]),
          ]),
        ),
      ),
    );
  const funcs = spec.funcs ?? [];
  if (funcs.length) append(out, section(3, vec(funcs.map((f) => uleb(f.type)))));
  if (spec.table)
    append(
      out,
      section(
        4,
        vec([
          [
            0x70,
            ...(spec.table.max === undefined
              ? [0, ...uleb(spec.table.min)]
              : [1, ...uleb(spec.table.min), ...uleb(spec.table.max)]),
          ],
        ]),
      ),
    );
  const memory = spec.memory === undefined ? { min: 1 } : spec.memory;
  if (memory) {
    const flags = memory.flags ?? (memory.max === undefined ? 0 : 1);
    append(
      out,
      section(5, vec([[flags, ...uleb(memory.min), ...(memory.max === undefined ? [] : uleb(memory.max))]])),
    );
  }
  if (spec.globals?.length)
    append(out, section(6, vec(spec.globals.map((g) => [g.type, g.mutable ? 1 : 0, ...g.init, 0x0b]))));
  const imported = imports.length;
  const exports = spec.exports ?? [
    ...(memory ? [{ name: "memory", kind: 2, index: 0 }] : []),
    ...(funcs.length ? [{ name: "run", kind: 0, index: imported }] : []),
  ];
  append(out, section(7, vec(exports.map((e) => [...name(e.name), e.kind, ...uleb(e.index)]))));
  if (spec.start !== undefined) append(out, section(8, uleb(spec.start)));
  if (spec.elements?.length)
    append(
      out,
      section(
        9,
        vec(
          spec.elements.map((e) => [0, ...op.i32_const(e.offset), 0x0b, ...vec(e.funcs.map((f) => uleb(f)))]),
        ),
      ),
    );
  if (funcs.length)
    append(
      out,
      section(
        10,
        vec(
          funcs.map((f) => {
            const body = [...vec((f.locals ?? []).map(([n, t]) => [...uleb(n), t])), ...f.body, 0x0b];
            return [...uleb(body.length), ...body];
          }),
        ),
      ),
    );
  if (spec.data?.length)
    append(
      out,
      section(
        11,
        vec(
          spec.data.map((d) =>
            append(
              spec.passiveData
                ? [1, ...uleb(d.bytes.length)]
                : [0, ...op.i32_const(d.offset), 0x0b, ...uleb(d.bytes.length)],
              d.bytes,
            ),
          ),
        ),
      ),
    );
  for (const c of spec.custom ?? []) append(out, section(0, append(name(c.name), c.bytes)));
  return Uint8Array.from(out);
}

/** A module whose run() returns a pointer to a result blob placed at `at` by a data segment. */
export function resultModule(blob: number[] | Uint8Array, at = 1024): Uint8Array {
  const len = blob.length;
  const framed = append([len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, (len >>> 24) & 0xff], blob);
  return build({
    funcs: [{ type: 0, body: op.i32_const(at) }],
    data: [{ offset: at, bytes: framed }],
  });
}
