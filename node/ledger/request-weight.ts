// What a request counts against its block's gas budget (docs/protocol.md §9 "The block's gas"):
// its gas limit, or BLOCK_GAS_PER_MODULE_BYTE per byte of the module it runs if that is more. Gas
// meters the module's work but not compiling it, which a node does whenever its cache no longer
// holds the module (about 75 ns a byte for the worst shapes measured); the cache differs between
// nodes, so the cost is counted on every call, and only against the budget, never as gas used.

import { BLOCK_GAS_PER_MODULE_BYTE } from "../common/limits.js";

export function requestWeight(gasLimit: bigint, moduleBytes: number): bigint {
  const compile = BigInt(moduleBytes) * BLOCK_GAS_PER_MODULE_BYTE;
  return compile > gasLimit ? compile : gasLimit;
}
