// Loads operations compiled by `npm run build:ops` (scripts/build-ops.mjs) from build/ops/:
// the system ops genesis needs, and the banking examples.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_RULE_TEMPLATE_KEY, ROOT_RULE_KEY } from "../common/system-keys.js";

export const BUILT_OPS_DIR = join(process.cwd(), "build", "ops");

/** Bytes of a built op by name, e.g. "system/root_rule" or "banking/transfer". */
export function loadBuiltOp(name: string, dir = BUILT_OPS_DIR): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, `${name}.wasm`)));
}

/** The records genesis must hold for .root_rule to work: the root rule and the base-rule template. */
export function systemGenesisRecords(dir = BUILT_OPS_DIR): Array<{ key: string; value: Uint8Array }> {
  return [
    { key: BASE_RULE_TEMPLATE_KEY, value: loadBuiltOp("system/base_rule", dir) },
    { key: ROOT_RULE_KEY, value: loadBuiltOp("system/root_rule", dir) },
  ];
}
