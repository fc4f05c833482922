// One live instance of a compiled op, reusable across calls. Created by instantiating (which runs
// the module's start function on the fixed MAX_START_GAS budget with only abort and trace usable),
// then snapshotted: memory bytes and, via the injected __arbor_save, every mutable global. Before
// each later call the executor restores both, so no state survives from one call to the next; an
// instance whose memory grew cannot be shrunk back and is discarded instead.

import {
  INJECTED_GAS,
  INJECTED_RESTORE,
  INJECTED_SAVE,
  INJECTED_STATUS,
  MEMORY_EXPORT,
  RUN_EXPORT,
} from "./abi.js";
import { MAX_START_GAS } from "../../common/limits.js";
import { invalid } from "./errors.js";
import { HostContext, HostTrap, type HostCrypto } from "./host.js";
import type { CompiledOp } from "./load.js";
import { wasm, type WasmGlobal, type WasmMemory } from "./wasm-api.js";

export interface Slot {
  readonly ctx: HostContext;
  readonly memory: WasmMemory;
  readonly gas: WasmGlobal;
  readonly status: WasmGlobal;
  readonly restore: (gas: bigint) => void;
  readonly run: () => number;
  /** Memory size right after start; a different size later means the memory grew. */
  readonly baseBytes: number;
  readonly snapshot: Uint8Array;
  /** The memory as bytes: re-viewed by the executor whenever the engine replaced the buffer. */
  view: Uint8Array;
  /** True once a call has run since the last restore. */
  dirty: boolean;
  /** Gas the start function used (deterministic: it is metered like any code). */
  readonly startGas: bigint;
}

export function instantiate(op: CompiledOp, crypto: HostCrypto | undefined): Slot {
  const ctx = new HostContext(crypto);
  let exports: Record<string, unknown>;
  try {
    exports = new wasm.Instance(op.module, ctx.imports()).exports;
  } catch (e) {
    if (e instanceof HostTrap) return invalid("start", `the start function failed: ${e.detail}`);
    if (e instanceof wasm.RuntimeError || e instanceof RangeError)
      return invalid("start", "the start function trapped or exhausted its gas");
    if (e instanceof wasm.LinkError) return invalid("link", "the module does not link against the host ABI");
    throw e;
  }
  const memory = exports[MEMORY_EXPORT] as WasmMemory;
  const save = exports[INJECTED_SAVE] as () => void;
  ctx.memory = memory;
  ctx.gas = exports[INJECTED_GAS] as WasmGlobal;
  const startGas = MAX_START_GAS - (ctx.gas.value as bigint);
  save();
  const view = new Uint8Array(memory.buffer);
  const snapshot = view.slice();
  return {
    ctx,
    memory,
    gas: ctx.gas,
    status: exports[INJECTED_STATUS] as WasmGlobal,
    restore: exports[INJECTED_RESTORE] as (gas: bigint) => void,
    run: exports[RUN_EXPORT] as () => number,
    baseBytes: snapshot.length,
    snapshot,
    view,
    dirty: false,
    startGas,
  };
}
