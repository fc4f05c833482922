// checkModule: what a node would say about a module before anyone calls it (for `arbor op check`).
// Runs exactly the node's pipeline — validate, instrument, compile, instantiate with the start
// function — and reports either the accepted module's facts or the rule it breaks.

import { METERING_VERSION } from "./gas.js";
import { InvalidModuleError } from "./errors.js";
import { compileOp } from "./load.js";
import { instantiate } from "./slot.js";

export type CheckResult =
  | {
      readonly ok: true;
      readonly meteringVersion: number;
      readonly functions: number;
      readonly initialPages: number;
      readonly instrumentedBytes: number;
      readonly imports: ReadonlyArray<{ module: string; name: string }>;
    }
  | { readonly ok: false; readonly code: string; readonly message: string };

export function checkModule(code: Uint8Array): CheckResult {
  try {
    const op = compileOp(code);
    instantiate(op, undefined);
    return {
      ok: true,
      meteringVersion: METERING_VERSION,
      functions: op.functions,
      initialPages: op.initialPages,
      instrumentedBytes: op.instrumentedBytes,
      imports: op.imports,
    };
  } catch (e) {
    if (e instanceof InvalidModuleError) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}
