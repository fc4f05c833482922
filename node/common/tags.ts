// Every domain-separation tag Arbor signs or hashes under, in one place and one spelling
// (`arbor:<what>:v<n>`). A tag keeps bytes signed or hashed for one purpose from ever being taken
// for another's; docs/protocol.md §10 lists them with how each is framed. Changing a tag's string is
// a protocol change: bump its version.

/**
 * Signed EXECUTE, COMPLAIN and MEMBER bodies: the tag's UTF-8 bytes, the chain id, then the body
 * (§5). The chain id binds a signature to one chain: the same body signed for another is refused.
 */
export const REQUEST_TAG = "arbor:request:v3";
/** A node's signature over a receipt: the tag's UTF-8 bytes, then the receipt (§6). */
export const RECEIPT_TAG = "arbor:receipt:v1";
/** A block's receipt root: the tag's UTF-8 bytes, the receipt count (u64) and the Merkle tree's top (§6). */
export const RECEIPTS_ROOT_TAG = "arbor:receipts:v1";
/** A node's signature over a block header: the tag's UTF-8 bytes, then SHA-256 of the header (§7). */
export const HEADER_TAG = "arbor:header:v2";
/** A node's signature over a GET statement: the tag's UTF-8 bytes, then the statement (§7). */
export const GET_TAG = "arbor:get:v1";
/** A node's statement about a snapshot of its store: the tag's UTF-8 bytes, then the statement (§17). */
export const SNAPSHOT_TAG = "arbor:snapshot:v1";
/** The peer handshake: the tag's UTF-8 bytes, chain id, server key and challenge (§8). */
export const PEER_TAG = "arbor:peer:v2";

// Consensus (docs/consensus.md). These are written as codec strings (a varint length, then the
// UTF-8 bytes) at the start of what is hashed or signed.

/** The id of a network's height-0 block. */
export const TOB_GENESIS_TAG = "arbor:tob-genesis:v1";
/** A block's id: SHA-256 of the tag, the block's header part and its requests digest. */
export const TOB_BLOCK_TAG = "arbor:tob-block:v2";
/** A block's requests digest: SHA-256 of the tag and the block's encoded request list. */
export const TOB_BLOCK_REQUESTS_TAG = "arbor:tob-block-requests:v1";
/** A validator's vote for a block. */
export const TOB_VOTE_TAG = "arbor:tob-vote:v1";
/** A validator's timeout of a round. */
export const TOB_TIMEOUT_TAG = "arbor:tob-timeout:v1";
/** A leader's signature over its proposal. */
export const TOB_PROPOSAL_TAG = "arbor:tob-proposal:v1";
/** A request's identity in the broadcast's duplicate filter. */
export const TOB_REQUEST_TAG = "arbor:tob-request:v1";

/**
 * Not a protocol tag: the Byzantine test behaviour (node/byzantine.ts) derives the block id of its
 * conflicting vote under it, so a fabricated block can never equal a real one.
 */
export const BYZANTINE_FAKE_BLOCK_TAG = "arbor:byzantine-fake-block:v1";

// Queries (docs/protocol.md §15). Prefixed as raw UTF-8 bytes, like the request tags.

/** A node of the ordered index: the tag, the entry, the left and right subtrees' hashes. */
export const INDEX_NODE_TAG = "arbor:index-node:v1";
/** One link of a key's history chain: the tag, the head before, the change. */
export const KEY_HISTORY_TAG = "arbor:key-history:v1";

// Membership (docs/protocol.md §11). Raw UTF-8 bytes, like the request tags.

/** A governance key's approval of a membership change: the tag, the chain id, the change, nonce and validUntil. */
export const MEMBER_APPROVAL_TAG = "arbor:member-approval:v2";
