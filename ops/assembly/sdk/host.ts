// Raw host imports of the Arbor ABI (node/exec/core/abi.ts is the source of truth; a test checks
// that a probe op compiled from this SDK imports exactly those names with those signatures).
// Operations never call these directly: use the functions of index.ts.

@external("arbor", "input_size")
export declare function host_input_size(): i32;

@external("arbor", "input_read")
export declare function host_input_read(ptr: usize): void;

@external("arbor", "sha256")
export declare function host_sha256(ptr: usize, len: i32, out: usize): void;

@external("arbor", "ed25519_verify")
export declare function host_ed25519_verify(pk: usize, msg: usize, len: i32, sig: usize): i32;
