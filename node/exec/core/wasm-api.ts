// Typed access to the engine's WebAssembly API. The project's TypeScript libs do not declare it
// (no DOM lib), so the few pieces the executor uses are typed here, locally, without a global.

export interface WasmModule {
  readonly __wasmModule: never;
}
export interface WasmGlobal {
  value: bigint | number;
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
export type WasmImports = Record<string, Record<string, (...args: never[]) => unknown>>;

export interface ModuleDescriptor {
  readonly module?: string;
  readonly name: string;
  readonly kind: string;
}

interface WasmApi {
  Module: {
    new (bytes: Uint8Array): WasmModule;
    imports(m: WasmModule): ModuleDescriptor[];
    exports(m: WasmModule): ModuleDescriptor[];
  };
  Instance: new (m: WasmModule, imports: WasmImports) => WasmInstance;
  CompileError: new (...a: never[]) => Error;
  LinkError: new (...a: never[]) => Error;
  RuntimeError: new (...a: never[]) => Error;
}

export const wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
