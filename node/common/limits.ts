// Every bound in Arbor, in one place. Each is checked where input crosses a boundary
// (decoder, RPC handler, executor, consensus core) and exceeding it is a typed error.

/** Longest record key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** Largest record value, in bytes (large payloads are allowed). */
export const MAX_VALUE_BYTES = 1024 * 1024;
/** Most keys one request may touch, and most keys one GET may ask for. */
export const MAX_TOUCHED_KEYS = 64;
/** Most keys a single proof may prove (combined proofs of a block's requests stay far below). */
export const MAX_PROOF_KEYS = 4096;
/** Most nodes in a decoded proof, whatever their kind. */
export const MAX_PROOF_NODES = 1 << 20;
/** Largest encoded proof accepted from the network, in bytes. */
export const MAX_PROOF_BYTES = 8 * 1024 * 1024;
/** Deepest node of the tree: paths are SHA-256 outputs, so no internal node can be deeper than 255. */
export const MAX_TREE_DEPTH = 256;
/** Largest history window T (operations whose roots and touched keys a node remembers). */
export const MAX_HISTORY_T = 1 << 20;
/** Most key-hash prefixes one partition may list. */
export const MAX_PARTITION_PREFIXES = 1024;
/** Longest partition prefix, in bits. */
export const MAX_PREFIX_BITS = 64;
/** Largest timestamp a tree node may carry: timestamps are kept as JS numbers in tree nodes. */
export const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;
/** Longest canonical varint, in bytes (enough for a u64). */
export const MAX_VARINT_BYTES = 10;
