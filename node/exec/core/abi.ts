// The host ABI of Arbor operations: the one source of truth for what a module may import, what it
// must export, the names the instrumenter injects, and the byte layout of the input and result
// blobs. The AssemblyScript SDK (ops/assembly/sdk) mirrors this table; a test compiles a probe op
// and checks its imports and exports against it.

export type ValType = "i32" | "i64" | "f64";

export interface HostImport {
  readonly module: string;
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** Module name of Arbor's own host functions. */
export const HOST_MODULE = "arbor";
/** Module name AssemblyScript uses for its built-in imports. */
export const AS_MODULE = "env";

/** Every import a module may declare (each at most once). Nothing else can be imported. */
export const HOST_IMPORTS: readonly HostImport[] = [
  // Size in bytes of the input blob (layout below).
  { module: HOST_MODULE, name: "input_size", params: [], results: ["i32"] },
  // Copies the input blob to [ptr, ptr + input_size()).
  { module: HOST_MODULE, name: "input_read", params: ["i32"], results: [] },
  // sha256(data_ptr, data_len, out_ptr): writes the 32-byte digest at out_ptr.
  { module: HOST_MODULE, name: "sha256", params: ["i32", "i32", "i32"], results: [] },
  // ed25519_verify(pk_ptr, msg_ptr, msg_len, sig_ptr) -> 1 if the 64-byte signature is valid, else 0.
  { module: HOST_MODULE, name: "ed25519_verify", params: ["i32", "i32", "i32", "i32"], results: ["i32"] },
  // AssemblyScript abort(message, file, line, column): traps with the decoded message.
  { module: AS_MODULE, name: "abort", params: ["i32", "i32", "i32", "i32"], results: [] },
  // AssemblyScript trace(message, n, a0..a4): a metered no-op. The only place f64 may appear.
  {
    module: AS_MODULE,
    name: "trace",
    params: ["i32", "i32", "f64", "f64", "f64", "f64", "f64"],
    results: [],
  },
];

/** AssemblyScript's `seed` import (randomness, returns f64) is refused by name, with its own message. */
export const REFUSED_IMPORTS: readonly string[] = ["env.seed"];

/** The exports every operation must have, and nothing else. */
export const RUN_EXPORT = "run"; // func () -> i32: pointer to the result (see below)
export const MEMORY_EXPORT = "memory"; // the module's only linear memory

/** Names the instrumenter adds to the compiled module; a user module may not use this prefix. */
export const INJECTED_PREFIX = "__arbor_";
export const INJECTED_GAS = "__arbor_gas"; // mutable i64 global: gas left
export const INJECTED_STATUS = "__arbor_status"; // mutable i32 global: why the module trapped
export const INJECTED_SAVE = "__arbor_save"; // func: snapshot every mutable global after start
export const INJECTED_RESTORE = "__arbor_restore"; // func (gas i64): restore the snapshot, set gas

/** Values of the status global, set by injected code just before it executes `unreachable`. */
export const STATUS_NONE = 0;
export const STATUS_OUT_OF_GAS = 1;
export const STATUS_STACK_LIMIT = 2;
export const STATUS_MEMORY_LIMIT = 3;

/** Length of a caller public key (Ed25519). */
export const CALLER_KEY_BYTES = 32;
/** Length of an Ed25519 public key and signature as read by ed25519_verify. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export const SHA256_BYTES = 32;

/**
 * Input blob (canonical codec of node/common/codec.ts):
 *   caller[32] ‖ op_key: string ‖ args: bytes ‖ varint n ‖ n × record
 *   record := key: string ‖ u8 state ‖ (value: bytes, if state = RECORD_PRESENT)
 * Records come in strictly ascending order of their UTF-8 key bytes.
 */
export const RECORD_ABSENT = 0;
export const RECORD_PRESENT = 1;

/**
 * Result: `run` returns a pointer p; the u32 little-endian at p is the blob's length L, and the
 * blob is [p + 4, p + 4 + L):
 *   varint n ‖ n × write
 *   write := key: string ‖ u8 kind ‖ (value: bytes, if kind = WRITE_SET)
 * Writes come in strictly ascending order of their UTF-8 key bytes (so each key at most once).
 */
export const WRITE_REMOVE = 0;
export const WRITE_SET = 1;

/** Stable reason codes of a rejected execution (receipts carry them). */
export const REJECT_REASONS = [
  "invalid-module", // the module fails validation or does not compile
  "trap", // a WebAssembly trap, an abort() by the op, or a bad host-call argument
  "out-of-gas",
  "stack-limit", // call-stack budget (MAX_WASM_STACK_UNITS) exhausted
  "memory-limit", // memory.grow past MAX_WASM_MEMORY_PAGES
  "malformed-result", // the result blob is out of bounds, undecodable or not canonical
  "domain-violation", // a write outside the op's domain, or into the system domain
  "write-not-touched", // a write to a key that is not among the touched keys
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];
