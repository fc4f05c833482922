// Raw host imports of the Arbor ABI. AssemblyScript names an ambient import after its file, so
// these import from module "arbor" (node/exec/core/abi.ts is the source of truth; a test checks
// that a probe op compiled from this SDK imports exactly those names with those signatures).
// Operations never call these directly: use the functions of index.ts.

export declare function input_size(): i32;

export declare function input_read(ptr: usize): void;

export declare function sha256(ptr: usize, len: i32, out: usize): void;

export declare function ed25519_verify(pk: usize, msg: usize, len: i32, sig: usize): i32;
