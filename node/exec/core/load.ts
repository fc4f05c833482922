// The compile pipeline a node runs once per (code hash, metering version): parse and validate,
// plan and instrument every body, compile with the engine. Any failure is an InvalidModuleError.

import { invalid } from "./errors.js";
import { instrument, planAll } from "./instrument.js";
import { parseModule } from "./module.js";
import { wasm, type WasmModule } from "./wasm-api.js";

export interface CompiledOp {
  readonly module: WasmModule;
  /** Declared initial memory, in pages (charged per call, see gas.ts). */
  readonly initialPages: number;
  readonly metered: boolean;
  /** Size of the instrumented module actually compiled. */
  readonly instrumentedBytes: number;
  readonly functions: number;
  readonly imports: ReadonlyArray<{ module: string; name: string }>;
}

/** Validates, instruments (unless `metered` is false: benchmarks only) and compiles a module. */
export function compileOp(code: Uint8Array, metered = true): CompiledOp {
  const parsed = parseModule(code);
  const plans = planAll(parsed);
  const out = instrument(parsed, plans, metered);
  let module: WasmModule;
  try {
    module = new wasm.Module(out.bytes);
  } catch (e) {
    // The engine's wording is not stable across versions: keep it out of the code and message.
    void e;
    return invalid("compile", "the WebAssembly engine rejects the module (type or structure error)");
  }
  return {
    module,
    initialPages: out.initialPages,
    metered,
    instrumentedBytes: out.bytes.length,
    functions: parsed.funcTypes.length,
    imports: parsed.imports.map((i) => ({ module: i.module, name: i.name })),
  };
}
