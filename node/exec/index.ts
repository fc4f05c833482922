// The executor as the node uses it: the pure core wired to node:crypto.

import { Executor, type ExecutorOptions } from "./core/executor.js";
import { nodeHostCrypto } from "./host-crypto.js";

export { Executor } from "./core/executor.js";
export type { ExecRequest, ExecResult, ExecutorOptions } from "./core/executor.js";
export type { TouchedRecord, Write } from "./core/io.js";
export { checkModule, type CheckResult } from "./core/check.js";
export { REJECT_REASONS, type RejectReason } from "./core/abi.js";
export { METERING_VERSION } from "./core/gas.js";
export { domainOf, mayWrite } from "./core/domain.js";
export { InvalidModuleError } from "./core/errors.js";

export function createExecutor(options: ExecutorOptions = {}): Executor {
  return new Executor(nodeHostCrypto, options);
}
export {
  SYSTEM_DOMAIN,
  ROOT_RULE_KEY,
  BASE_RULE_TEMPLATE_KEY,
  baseRuleKey,
  ownerKey,
} from "../common/system-keys.js";
export { loadBuiltOp, systemGenesisRecords, BUILT_OPS_DIR } from "./built-ops.js";
