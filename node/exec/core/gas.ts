// The metering scheme, version 2: what every instruction and host call costs, in gas. This table is
// part of the protocol — every node must charge exactly this — so any change to it, or to where the
// instrumenter places charges, must bump METERING_VERSION (which is also part of the cache key).
// One unit of gas is meant to be roughly one nanosecond of work on a 2020s server core.

export const METERING_VERSION = 2;

/** Cost classes of instructions (see opcodes.ts for which opcode is in which class). */
export const COST = {
  /** nop, block, loop, else, end: structure only. */
  free: 0,
  /** constants, locals, globals, drop, select, integer compare/add/logic/shift, conversions, memory.size. */
  simple: 1,
  /** if, br, br_if, br_table, return, unreachable. */
  branch: 2,
  /** i32.mul, i64.mul. */
  mul: 3,
  /** loads and stores. */
  memory: 3,
  /** integer division and remainder. */
  divrem: 10,
  /** call (the callee's own blocks are charged separately). */
  call: 10,
  /** call_indirect (signature check included). */
  callIndirect: 20,
  /**
   * memory.grow, before the per-page part. The engine's grow is a runtime call of about 180 ns even
   * for 0 pages; at 10 (version 1) a loop of grow(0) ran 18 ns per unit of gas (at 250, 1.2).
   */
  grow: 400,
  /** memory.copy / memory.fill, before the per-byte part. */
  bulk: 10,
} as const;

export type CostClass = keyof typeof COST;

/** memory.grow: per 64 KiB page requested (allocating and zeroing the page). */
export const GAS_PER_GROWN_PAGE = 2000n;
/** memory.copy / memory.fill and host copies: per started 8-byte word. */
export const GAS_PER_WORD = 1n;

/** Host calls: fixed part, plus a per-size part where noted. */
export const GAS_HOST_INPUT_SIZE = 10n;
export const GAS_HOST_INPUT_READ = 20n; // + GAS_PER_WORD per word copied
export const GAS_HOST_SHA256 = 1000n; // + GAS_SHA256_PER_BLOCK per started 64-byte block
export const GAS_SHA256_PER_BLOCK = 300n;
// About 100 µs with node:crypto here (60,000 in version 1 ran 1.6 ns per unit of gas).
export const GAS_HOST_ED25519_VERIFY = 120_000n; // + GAS_ED25519_PER_WORD per message word
/**
 * The message is copied and hashed with SHA-512: about 12 ns per 8-byte word here (charged 1 in an
 * earlier draft of version 2, a 16 MiB message ran 11.6 ns per unit of gas).
 */
export const GAS_ED25519_PER_WORD = 12n;
export const GAS_HOST_TRACE = 50n;

/**
 * Charged before `run` starts: the fixed cost of an invocation (restoring the module's memory and
 * globals, encoding the input) plus GAS_PER_INITIAL_PAGE per page of declared initial memory.
 */
export const GAS_INVOKE_BASE = 500n;
/**
 * Paid by a call whose memory grew, with the start function's gas and GAS_REGROW_PER_INITIAL_PAGE
 * per initial page: the instance cannot be restored, so the next call instantiates the module
 * afresh (measured here: about 180 µs with 1 initial page, 0.9–1.3 ms with 16).
 */
export const GAS_REINSTANTIATE = 150_000n;
export const GAS_REGROW_PER_INITIAL_PAGE = 50_000n;
export const GAS_PER_INITIAL_PAGE = 1000n;
/** Charged after `run` returns: per started 8-byte word of the result blob. */
export const GAS_PER_RESULT_WORD = 1n;

/** Gas for n bytes at `perWord` per started 8-byte word. */
export function wordsGas(n: number, perWord: bigint = GAS_PER_WORD): bigint {
  return BigInt(Math.ceil(n / 8)) * perWord;
}
