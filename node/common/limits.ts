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
/** Bytes of terminal records packed into one stored chunk before the next chunk starts (store). */
export const STORE_BATCH_CHUNK_BYTES = 256 * 1024;
/** Least number of stored terminals the store's rewriting sweep visits per commit (it visits at least as many as the commit wrote). */
export const STORE_SWEEP_MIN_TERMINALS = 256;
/** Key paths remembered from the check of an operation's keys for its writes (node/store/core/path.ts). */
export const STORE_KEY_PATH_MEMO_ENTRIES = 4096;
/** Largest history window T (operations whose roots and touched keys a node remembers). */
export const MAX_HISTORY_T = 1 << 20;
/** Most key-hash prefixes one partition may list. */
export const MAX_PARTITION_PREFIXES = 1024;
/** Longest partition prefix, in bits. */
export const MAX_PREFIX_BITS = 64;
/** Largest timestamp a tree node may carry: timestamps are kept as JS numbers in tree nodes. */
export const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;
/** Most full leaves (key and value) in one chunk a holder serves to a node taking on a prefix (store/core/graft.ts). */
export const GRAFT_CHUNK_MAX_LEAVES = 256;
/** Most nodes of any kind in one such chunk. */
export const MAX_GRAFT_CHUNK_NODES = 1 << 14;
/** Largest encoded chunk, in bytes: room for at least one largest record with its key. */
export const MAX_GRAFT_CHUNK_BYTES = 4 * 1024 * 1024;
/** Chunk requests one node serves at once; more are refused (RESOURCE_EXHAUSTED) and asked again later. */
export const GRAFT_SERVE_CONCURRENCY = 2;
/**
 * Chunk bytes one node serves per second, over all askers; past it a request is refused
 * (`graft/busy`). A unary reply leaves the node's hands before its asker has read it, so callers
 * that never read could otherwise make a node hold gigabytes of replies (about 4 MiB each).
 */
export const GRAFT_SERVE_BYTES_PER_SECOND = 64 * 1024 * 1024;
/**
 * GetChunk calls whose reply its asker has not taken yet, in all; one address may have
 * GRAFT_SERVE_CONCURRENCY of them. Past either, `graft/busy`: a reply nobody reads keeps its place,
 * so askers that never read hold at most this many chunks of a node's memory.
 */
export const GRAFT_SERVE_UNFINISHED = 16;
/**
 * How long a unary reply that may be large (Get, GetSnapshot, GetChunk, List, History,
 * GetBlockReceipts) may wait for its asker to take it once handed over: past it the call's stream
 * is reset, freeing the reply and its place (node/net/unfinished-calls.ts). An asker that never
 * reads holds neither memory nor a serving slot for longer; an honest one takes a 31 MiB reply in
 * well under a second on any link a node is run on.
 */
export const REPLY_TAKE_TIMEOUT_MS = 30_000;
/**
 * Bytes of such replies (GetChunk's excepted: GRAFT_SERVE_UNFINISHED bounds those) handed over and
 * not yet taken, in all and from one address: past either, a new call of those methods is refused
 * `rpc/busy` (RESOURCE_EXHAUSTED) before any work. Before it, askers that never read made a node
 * hold gigabytes of Get replies and run out of memory.
 */
export const UNTAKEN_REPLY_BYTES = 256 * 1024 * 1024;
export const UNTAKEN_REPLY_BYTES_PER_HOST = 64 * 1024 * 1024;
/**
 * How long a peer stream may go without its handshake: a dialed node must send its challenge, and
 * a dialer its hello, within this; otherwise the stream ends (`peer/bad-hello` at the server; the
 * dialer redials). Without it a connection that never spoke held its place for ever.
 */
export const PEER_HELLO_TIMEOUT_MS = 10_000;
/** Chunk requests a node taking on prefixes has in flight at once, over all holders. */
export const GRAFT_FETCH_IN_FLIGHT = 2;
/** How long a node taking on prefixes waits before asking again for a chunk that was stale (another height). */
export const GRAFT_STALE_BACKOFF_MS = 200;
/** How long it waits for one chunk before asking another holder. */
export const GRAFT_FETCH_TIMEOUT_MS = 10_000;
/** Longest canonical varint, in bytes (enough for a u64). */
export const MAX_VARINT_BYTES = 10;

// ---- Execution (node/exec/): WebAssembly validation, metering and invocation ----

/** Largest operation module accepted for validation, in bytes (before instrumentation). */
export const MAX_MODULE_BYTES = 256 * 1024;
/** Most types in a module's type section. */
export const MAX_WASM_TYPES = 1024;
/** Most parameters or results of one function type. */
export const MAX_WASM_TYPE_ARITY = 32;
/** Most imported functions. */
export const MAX_WASM_IMPORTS = 32;
/** Most functions defined in a module. */
export const MAX_WASM_FUNCTIONS = 4096;
/** Most globals defined in a module. */
export const MAX_WASM_GLOBALS = 256;
/** Most exports of a module. */
export const MAX_WASM_EXPORTS = 64;
/** Largest initial size of the (single) function table, in elements. */
export const MAX_WASM_TABLE_ELEMENTS = 4096;
/** Most element segments. */
export const MAX_WASM_ELEMENT_SEGMENTS = 64;
/** Most data segments. */
export const MAX_WASM_DATA_SEGMENTS = 1024;
/** Largest linear memory, in 64 KiB pages (initial size and growth are both capped here; 16 MiB). */
export const MAX_WASM_MEMORY_PAGES = 256;
/** Largest declared initial memory, in pages: every call restores it from a snapshot (1 MiB). */
export const MAX_WASM_INITIAL_PAGES = 16;
/** Largest single function body, in bytes. */
export const MAX_WASM_BODY_BYTES = 64 * 1024;
/** Most locals (parameters included) of one function. */
export const MAX_WASM_LOCALS = 512;
/** Deepest nesting of block/loop/if inside one function. */
export const MAX_WASM_NESTING = 256;
/** Longest import/export name, in bytes. */
export const MAX_WASM_NAME_BYTES = 64;
/**
 * Call-stack budget, in frame units: each function entry costs 4 + locals + its largest operand stack
 * height. Sized so that the deepest legal wasm stack stays far inside V8's default native stack.
 */
export const MAX_WASM_STACK_UNITS = 16 * 1024;
/** Gas available to a module's start function (run once, when the module is first instantiated). */
export const MAX_START_GAS = 1_000_000n;
/** Largest gas limit a request may carry. */
export const MAX_GAS_LIMIT = 1_000_000_000n;
/**
 * Most weight a block's requests may count together (each its gas limit, or its module's size at
 * BLOCK_GAS_PER_MODULE_BYTE if more; node/ledger/request-weight.ts), counted as each is about to
 * run: a request past it is decided `block-gas-full` without running. It bounds the work a faulty
 * leader can put in one block; a correct leader packs by the same count, so it never meets it.
 */
export const BLOCK_GAS_BUDGET = 4_000_000_000n;
/**
 * A request counts against BLOCK_GAS_BUDGET at least this much per byte of the module it runs
 * (compiling is not metered; about 75 ns a byte for the worst module shapes measured).
 */
export const BLOCK_GAS_PER_MODULE_BYTE = 80n;
/**
 * A correct leader proposes requests that weigh at most this much (the SDK's default gas limit)
 * before heavier ones, oldest first in each class: a flood of heavy requests cannot push light
 * ones out of a block.
 */
export const LIGHT_REQUEST_GAS = 10_000_000n;
/** A leader holds back calls of an operation that recently used this much or more per call (node/gas-weigher.ts). */
export const LIGHT_USED_GAS = 1_000_000n;
/**
 * What a correct leader counts per byte of a request, when that is more than the request's weight
 * (node/gas-weigher.ts; policy only, the block's rule does not count it): every node receives,
 * verifies, stores and applies every byte, about a microsecond of the 2-core machines per byte
 * with four nodes on them (bench:burst). So a request over 10 KB is heavy, and the heavy share
 * lets about one 1 MB request wait ahead of execution at a time: a burst of large requests goes
 * after the small ones, not in front of them.
 */
export const PACKING_GAS_PER_REQUEST_BYTE = 1000n;
/** Operations whose recent gas use a node remembers for packing (the least recently called go first). */
export const MAX_GAS_HISTORY_OPERATIONS = 4096;
/**
 * Most weight a correct leader lets wait in blocks ordered but not yet applied, its proposal's
 * included: ordering runs ahead of execution, and what waits there delays every request
 * proposed behind it.
 */
export const MAX_GAS_AHEAD = 2n * BLOCK_GAS_BUDGET;
/** The weight of heavy requests a correct leader lets wait ahead of execution, its proposal's included (one largest always fits). */
export const HEAVY_GAS_PER_PROPOSAL = MAX_GAS_LIMIT;
/**
 * Room in an argument blob beside one largest value and its key: counts, lengths, flags and a few
 * small arguments more (see MAX_ARGS_BYTES).
 */
export const ARGS_FRAMING_BYTES = 4 * 1024;
/**
 * Largest argument blob passed to an operation, in bytes. Values and modules reach the tree through
 * an operation's arguments (`.base_rule` writes what its arguments carry), so the blob must carry
 * the largest value (MAX_VALUE_BYTES ≥ MAX_MODULE_BYTES) with its key and framing.
 */
export const MAX_ARGS_BYTES = MAX_VALUE_BYTES + MAX_KEY_BYTES + ARGS_FRAMING_BYTES;
/**
 * How far past the block that applies it a request's signed `validUntil` may lie, in blocks: the
 * longest a node must remember an applied request's id to refuse its replay (exactly-once). Its
 * memory is then the ids of the requests accepted in the last this-many blocks.
 */
export const MAX_REQUEST_LIFETIME_BLOCKS = 1024;
/** The lifetime the SDK gives a request by default: its read height plus this many blocks. */
export const DEFAULT_REQUEST_LIFETIME_BLOCKS = 512;
/** Longest abort message kept in a rejection, in UTF-16 code units (longer ones are cut). */
export const MAX_ABORT_MESSAGE_CHARS = 256;
/**
 * Longest message of a rejected receipt, in UTF-8 bytes: an operation's abort text (at most 768
 * bytes) with room for a key. A longer one (a message quoting a long key with every character
 * escaped) is cut to it when the receipt is made, ending in "…", so every receipt a node makes is
 * one its decoder (and every client's) takes back.
 */
export const MAX_RECEIPT_MESSAGE_BYTES = MAX_ABORT_MESSAGE_CHARS * 4 + MAX_KEY_BYTES;
/** Compiled modules kept in the executor's LRU cache. */
export const MAX_MODULE_CACHE_ENTRIES = 64;
/**
 * Most bytes of operation modules every node holds in its code book (node/ledger/code-book.ts):
 * every module ever written, whatever the node's partition. A write that would pass it is refused
 * (`code-book-full`), the same verdict on every node.
 */
export const MAX_CODE_BOOK_BYTES = 256 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Consensus (node/tob/). Heights, rounds and epochs are plain numbers inside the core (bounded by
// TOB_MAX_ROUND) and varints on the wire.
// ---------------------------------------------------------------------------------------------

/** Largest round, height or epoch the consensus accepts (fits a JS number exactly). */
export const TOB_MAX_ROUND = Number.MAX_SAFE_INTEGER;
/** Most validators in one set. */
export const TOB_MAX_VALIDATORS = 256;
/**
 * Largest body of a signed request: its proof and arguments at their bounds, every touched key at
 * its bound (with its length prefix), and room for the fixed fields (version, op key, gas limit,
 * caller, nonce and the like).
 */
export const MAX_REQUEST_BODY_BYTES =
  MAX_PROOF_BYTES + MAX_ARGS_BYTES + (MAX_TOUCHED_KEYS + 1) * (MAX_KEY_BYTES + 8) + 4096;
/** Largest single request: the largest body with its length prefix and its 64-byte signature. */
export const TOB_MAX_REQUEST_BYTES = MAX_REQUEST_BODY_BYTES + MAX_VARINT_BYTES + 64;
/** Most requests one block carries. */
export const TOB_MAX_BLOCK_REQUESTS = 4096;
/** Largest total payload of one block, in bytes. */
export const TOB_MAX_BLOCK_BYTES = 16 * 1024 * 1024;
/** Largest encoded consensus message accepted from the network. */
export const TOB_MAX_MESSAGE_BYTES = TOB_MAX_BLOCK_BYTES + 1024 * 1024;
/** Most requests one gossip message carries. */
export const TOB_MAX_GOSSIP_REQUESTS = 1024;
/**
 * Bytes of requests a node packs into one gossip message before starting the next (a larger request
 * travels alone). Gossip is bulk on the peer streams (node/net/peer-net.ts): a control frame waits
 * for the bulk frame being written, so bulk frames are kept small.
 */
export const TOB_GOSSIP_MESSAGE_BYTES = 1024 * 1024;
/**
 * Most gossiped requests a node checks (a signature verification each) per event-loop turn before
 * they enter its pool (node/gossip-gate.ts): about 7 ms of verification, so votes and reads are not
 * held behind a large gossip.
 */
export const GOSSIP_CHECK_SLICE = 128;
/** Most gossiped requests waiting to be checked; a gossip past it is dropped (and gossiped again). */
export const GOSSIP_CHECK_QUEUE = 16 * TOB_MAX_GOSSIP_REQUESTS;
/**
 * Most of them from one peer: a member flooding gossip fills its own share, not the queue, so the
 * others' gossip (and re-gossip of pending requests) still gets through.
 */
export const GOSSIP_PEER_QUEUE = 4 * TOB_MAX_GOSSIP_REQUESTS;
/**
 * The same queues bounded in bytes (requests may be megabytes each: a count alone let a burst of
 * large requests hold gigabytes): one peer's, at least one largest consensus message, and all.
 */
export const GOSSIP_PEER_QUEUE_BYTES = 32 * 1024 * 1024;
export const GOSSIP_CHECK_QUEUE_BYTES = 96 * 1024 * 1024;
/**
 * Gossiped requests from one peer that may fail their check (a signature verification each, spent
 * for nothing) per second, after a first GOSSIP_PEER_JUNK_BURST: past it the peer's gossip waits,
 * and new gossip from it is dropped (`gossip/peer-junk`), until its allowance refills. A member
 * flooding junk then costs each node at most about this many verifications a second (~10 ms of
 * CPU) instead of as many as the check slice allows, which slowed honest work several times over.
 * Honest peers gossip junk only when they adopted it from a faulty leader's proposal, a block's
 * worth at most, and it leaves their pools with the next correct leader's block.
 */
export const GOSSIP_PEER_JUNK_PER_SECOND = 64;
export const GOSSIP_PEER_JUNK_BURST = 1024;
/** Most requests a node holds pending (submitted or gossiped, not yet delivered). */
export const TOB_MAX_PENDING_REQUESTS = 200_000;
/** Most bytes of requests a node holds pending. */
export const TOB_MAX_PENDING_BYTES = 256 * 1024 * 1024;
/**
 * Bytes of heavy requests (packing.ts: large, or of an operation that loops) a node's pool holds;
 * past it a heavy request is refused `tob/pool-full` while light ones still find room.
 */
export const TOB_MAX_PENDING_HEAVY_BYTES = 64 * 1024 * 1024;
/** And the most heavy requests it holds (a flood of small looping ones must not take every place). */
export const TOB_MAX_PENDING_HEAVY_REQUESTS = TOB_MAX_PENDING_REQUESTS / 4;
/** Most uncommitted blocks in the block tree (certified chain plus this round's proposals). */
export const TOB_MAX_TREE_BLOCKS = 1024;
/** Most committed blocks waiting for delivery (the application applies slower than we commit). */
export const TOB_MAX_UNDELIVERED = 256;
/** Most delivered blocks the application may leave unacknowledged (the reconfiguration delay). */
export const TOB_DELIVER_WINDOW = 8;
/** Most delivered blocks kept in memory to serve catch-up (older ones are read from storage). */
export const TOB_RETAINED_BLOCKS = 1024;
/**
 * Most request bytes of the delivered blocks kept in memory: past it the oldest are dropped (they
 * stay in storage), down to TOB_MIN_RETAINED_BLOCKS. A thousand blocks of full batches would
 * otherwise hold hundreds of megabytes for catch-up answers that storage can give.
 */
export const TOB_RETAINED_BYTES = 8 * 1024 * 1024;
/**
 * LevelDB block cache of the consensus database (classic-level's default is 8 MiB): it is written
 * far more than read (blocks are read back for peers catching up from storage and at a restart), so
 * a large cache holds little worth holding. The node metadata database is small and read rarely.
 */
export const TOB_DB_CACHE_BYTES = 2 * 1024 * 1024;
export const META_DB_CACHE_BYTES = 1024 * 1024;
export const META_DB_WRITE_BUFFER_BYTES = 1024 * 1024;
/** A request delivered at height h is dropped as a duplicate up to height h + this window. */
export const TOB_DEDUP_WINDOW = 256;
/** Largest node id (ids are 0..2^30 − 1: genesis nodes and members added later alike). */
export const MAX_NODE_ID = 2 ** 30 - 1;
/** Most blocks in one catch-up response. */
export const TOB_MAX_SYNC_BLOCKS = 64;
/**
 * Most bytes of blocks (by their encoded-size bound) in one catch-up response past its first block:
 * with its QC the response fits TOB_MAX_MESSAGE_BYTES, as a lone full block does. Counted in blocks
 * alone, a response of a few large blocks outgrew any peer frame and was dropped, and a node
 * catching up asked for it again forever.
 */
export const TOB_MAX_SYNC_BYTES = TOB_MAX_BLOCK_BYTES;
/**
 * Fewest delivered blocks kept in memory whatever their size: a restarted core re-emits from them
 * what its store lost (up to STORE_SYNC_EVERY_BLOCKS plus the deliver window), the leader choice
 * reads the last TOB_LEADER_FAILURE_WINDOW, and one catch-up answer comes from memory.
 */
export const TOB_MIN_RETAINED_BLOCKS = TOB_MAX_SYNC_BLOCKS;
/** Catch-up answers read from storage at once (node/tob/disk-catch-up.ts). */
export const DISK_CATCH_UP_IN_FLIGHT = 2;
/** Consensus-evidence warnings a node logs per minute; more are counted (metrics) and summed up. */
export const EVIDENCE_LOG_LINES_PER_MINUTE = 20;
/** At most one catch-up answer from storage per peer per this many milliseconds. */
export const DISK_CATCH_UP_PEER_INTERVAL_MS = 100;
/**
 * At most one catch-up request per peer per this many milliseconds reaches the core (answered from
 * memory: up to TOB_MAX_SYNC_BLOCKS blocks for a few bytes asked); one that comes sooner waits for
 * the interval (the newest waiting one of a peer; older ones are dropped). A correct node asks
 * again after each answer it has applied, about as slowly when it replays blocks.
 */
export const SYNC_REQUEST_PEER_INTERVAL_MS = 50;
/** Most future rounds ahead of the current one for which votes are buffered. */
export const TOB_MAX_VOTE_ROUNDS_AHEAD = 64;
/**
 * Blocks of the certified chain a round's leader is chosen from (leader reputation): a validator
 * that neither proposed nor signed a certificate in them does not lead. Small, so a crashed node
 * stops costing round timeouts a few blocks after it fell silent; every certificate still has a
 * quorum of signers, so a quorum stays eligible.
 */
export const TOB_LEADER_WINDOW = 4;
/**
 * Blocks of that chain in which a validator that failed to lead (a round skipped between two of its
 * consecutive blocks, charged to that round's leader) is not chosen again. Long enough that a faulty
 * validator which votes but never proposes a usable block costs about one timeout per this many
 * blocks instead of one every n rounds; at most what a snapshot carries, so a synced node chooses
 * as its peers do.
 */
export const TOB_LEADER_FAILURE_WINDOW = 16;
/** Most blocks whose eligible leaders are remembered (each a small list, recomputed on a miss). */
export const TOB_LEADER_CACHE = 256;
/** Most validator-set changes scheduled ahead of time. */
export const TOB_MAX_SCHEDULED_EPOCHS = 4;
/** Past epochs whose closing blocks are kept to help laggards cross the boundary. */
export const TOB_RETAINED_EPOCH_TAILS = 4;
/**
 * Bytes of peer messages the consensus shell holds while its core is busy (a step and its fsync);
 * beyond this a peer's message is dropped, as a lossy network would (timeouts and catch-up recover
 * it), instead of piling up in memory while the node is slower than its peers.
 */
export const TOB_MAX_QUEUED_MESSAGE_BYTES = 64 * 1024 * 1024;
/**
 * The fill wait (docs/consensus.md §4): a leader in a burst whose proposal would carry fewer than
 * TOB_FILL_REQUESTS requests holds it for at most TOB_FILL_WAIT_MS (and never past its next
 * tick), so blocks fill under load; an idle cluster's first request never waits.
 */
export const TOB_FILL_REQUESTS = 64;
export const TOB_FILL_WAIT_MS = 2;
/** Most self-addressed events one step() processes (solo mode pipelines through these). */
export const TOB_MAX_LOCAL_EVENTS_PER_STEP = 4096;
/** Most inputs the shell hands the consensus core in one step (one persist batch, one fsync). */
export const TOB_MAX_INPUTS_PER_STEP = 1024;
/** Most pieces of equivocation evidence reported per step. */
export const TOB_MAX_EVIDENCE_PER_STEP = 16;
/** Most rejected-input reports returned per step (diagnostics only). */
export const TOB_MAX_REJECTS_PER_STEP = 64;
/** Most verified certificates cached (a QC is verified once, then recognised). */
export const TOB_MAX_CERT_CACHE = 4096;

// ---------------------------------------------------------------------------------------------
// Node (node/): transport and client API.
// ---------------------------------------------------------------------------------------------

/**
 * HTTP/2 flow-control window of every gRPC connection and stream, in bytes (each direction): how
 * much a sender may have in flight before the receiver acknowledges it. The protocol default
 * (64 KiB) makes a multi-megabyte proposal wait for dozens of round trips through both nodes'
 * event loops.
 */
export const HTTP2_WINDOW_BYTES = 16 * 1024 * 1024;
/**
 * Largest HTTP/2 DATA frame a node's server accepts, in bytes (protocol default 16 KiB): blocks and
 * gossip arrive in a few large frames instead of hundreds of small ones.
 */
export const HTTP2_MAX_FRAME_BYTES = 1024 * 1024;
/**
 * Connections a node's gRPC port keeps open (clients and peers); past it a new one is closed at
 * once. Each is a file descriptor, and a node whose descriptors run out stops (LevelDB cannot open
 * its files): a slowloris must not take them all.
 */
export const GRPC_MAX_CONNECTIONS = 4096;
/**
 * Frames queued for one peer while its stream is down or slow, in each of the two classes (control
 * and bulk, node/net/peer-net.ts); beyond this new frames of that class are dropped.
 */
export const MAX_PEER_QUEUE_FRAMES = 8192;
/** Bytes of control frames (proposals, votes, timeouts, header signatures) queued for one peer. */
export const MAX_PEER_QUEUE_BYTES = 64 * 1024 * 1024;
/** Bytes of bulk frames (gossip, catch-up answers, certificate replies) queued for one peer. */
export const MAX_PEER_BULK_QUEUE_BYTES = 32 * 1024 * 1024;
/**
 * Bytes of batches handed to a peer's stream and not yet taken by it; the next batch waits. What a
 * control frame may wait behind, besides one larger frame.
 */
export const MAX_PEER_INFLIGHT_BYTES = 4 * 1024 * 1024;
/** Most frames one peer batch (one gRPC message on a peer stream) carries. */
export const MAX_PEER_BATCH_FRAMES = 1024;
/**
 * Bytes a sender packs into one peer batch before starting the next (a single larger frame still
 * travels alone): big enough for a turn's messages, small enough not to delay the next ones.
 */
export const MAX_PEER_BATCH_BYTES = 4 * 1024 * 1024;
/** Largest frame (channel byte and payload) a batch may carry: the largest consensus message. */
export const MAX_PEER_FRAME_BYTES = TOB_MAX_MESSAGE_BYTES + 1;
/** Requests a node holds admitted but not yet seen in a delivered block, per node. */
export const MAX_ADMITTED_REQUESTS = 100_000;
/**
 * Ids of requests a node admitted (signature verified) and has not applied yet, remembered so that
 * applying them does not verify the signature a second time; the oldest are forgotten first.
 */
export const MAX_VERIFIED_REQUESTS = 65_536;
/**
 * Longest a node applies a block without yielding to the event loop, in milliseconds: a large
 * block is applied in slices so that consensus messages and the network are not starved.
 */
export const APPLY_SLICE_MS = 10;
/**
 * The store's block batch is fsync'd only every this many heights: the consensus log (fsync'd
 * before a block is delivered) is the durable record, and after a machine crash the node replays
 * the blocks its store lost from it. A process crash (kill -9) loses no written batch at all. Far
 * below TOB_RETAINED_BLOCKS, the blocks a restarted consensus core can hand back.
 */
export const STORE_SYNC_EVERY_BLOCKS = 32;
/**
 * A node started with `--join` serves once it has applied the chain to within this many blocks of
 * what its consensus committed (node/join-gate.ts).
 */
export const JOIN_READY_LAG_BLOCKS = 2;
/** How often a joining node looks whether it has caught up. */
export const JOIN_CHECK_MS = 200;
/**
 * How often a node that applied no block since its last look asks its peers whether they still keep
 * its next block (node/resync-watch.ts): behind every peer's retention, it re-syncs from a snapshot.
 */
export const RESYNC_CHECK_MS = 10_000;
/** Deadline of each peer's Status call in that look. */
export const RESYNC_STATUS_TIMEOUT_MS = 3_000;
/** A re-syncing node that found no snapshot to install looks again after this long. */
export const RESYNC_RETRY_MS = 10_000;
/**
 * Keys whose older history a node reads from other holders at once (node/history-backfill.ts),
 * one page per key at a time: a background task, kept small beside the peers' client load.
 */
export const HISTORY_BACKFILL_KEYS_IN_FLIGHT = 4;
/** Held keys a back-fill pass looks at, and keeps gaps of, at once. */
export const HISTORY_BACKFILL_SCAN_KEYS = 512;
/** Changes asked per page while back-filling a key's history (at most MAX_HISTORY_PAGE). */
export const HISTORY_BACKFILL_PAGE = 256;
/** Deadline of each History call while back-filling. */
export const HISTORY_BACKFILL_TIMEOUT_MS = 5_000;
/** How often a node looks whether its partition changed since its last whole back-fill pass. */
export const HISTORY_BACKFILL_CHECK_MS = 5_000;
/** After a back-fill pass that left keys without their history, the next pass (doubling). */
export const HISTORY_BACKFILL_RETRY_MS = 60_000;
/** The longest wait between passes that each left keys without their history (doubling up to it). */
export const HISTORY_BACKFILL_MAX_RETRY_MS = 3_600_000;
/** Requests applied between two looks at the clock inside a slice. */
export const APPLY_STEP_REQUESTS = 16;
/**
 * Most admitted requests a node hands to its consensus in one submission. Requests admitted in
 * one event-loop turn are submitted together (one consensus step, one gossip message per peer).
 */
export const ADMISSION_BATCH_REQUESTS = 1024;
/** GETs held while a block is being applied (answered at its end); beyond this they are refused. */
export const MAX_DEFERRED_GETS = 4096;
/**
 * Receipts a node keeps in memory for WaitReceipt and subscriptions, about half a KiB each (with
 * an inclusion path of at most 12 hashes, and a signature once one was asked for). Every
 * receipt is on disk with its block (node/receipt-store.ts), so this cache only spares a disk read
 * for the receipts clients ask for right after their block: sized so that it is full, and a node's
 * memory flat, within minutes of steady load (200,000 took hours at tens of transfers/s, ~100 MiB).
 */
export const MAX_RECENT_RECEIPTS = 4_096;
/** Longest a WaitReceipt call may wait, in milliseconds. */
export const MAX_RECEIPT_WAIT_MS = 60_000;
/** Most headers one GetHeaders reply carries. */
export const MAX_HEADERS_PER_REPLY = 1024;
/** Longest a GET with min_height may wait for the node to reach that height, in milliseconds. */
export const MAX_GET_WAIT_MS = 2_000;
/**
 * Most GETs waiting for a height at once (they also count against MAX_DEFERRED_GETS); beyond this a
 * GET's min_height is ignored and it is answered at the node's height, so reads waiting for a
 * height can never fill the queue that every read may need while a block is applied.
 */
export const MAX_GET_HEIGHT_WAITERS = 1024;
/**
 * Shortest time between two counts of the tree for `Status` (its storage census walks every tree
 * node): within it a Status reports the last count. Keeps Status cheap for pollers (a syncing node
 * is polled at every height) and for a client calling it in a loop.
 */
export const STATUS_CENSUS_INTERVAL_MS = 1_000;
/** Reads in flight on one GetStream; beyond this a read is refused (RESOURCE_EXHAUSTED). */
export const MAX_STREAM_GETS = 1024;
/**
 * Requests a client keeps in flight (sent, ack not yet received) on one ExecuteStream; beyond
 * this it submits by unary Execute. The node acks each request as it reads it, so what is in
 * flight is what travels; a client that does not read its acks is held by HTTP/2 flow control
 * (the node stops reading while its acks are not taken).
 */
export const MAX_STREAM_EXECUTES = 256;
/**
 * Receipt queries waiting on one WaitReceipts stream; beyond this a query is answered at once
 * with RESOURCE_EXHAUSTED. A client keeps at most this many unanswered on a stream (then asks by
 * unary WaitReceipt), so a correct client is never refused.
 */
export const MAX_STREAM_RECEIPT_WAITS = 1024;
/**
 * Receipt waits one node holds at once, over every stream and unary call (each costs a few KiB):
 * past it a query is refused at once with RESOURCE_EXHAUSTED `receipts/too-many-waits`.
 */
export const MAX_RECEIPT_WAITS = 16_384;
/** Header requests in flight on one GetHeadersStream; beyond this one is refused (RESOURCE_EXHAUSTED). */
export const MAX_STREAM_HEADER_REQUESTS = 256;
/** Longest a GetHeaders call may wait for a header to be certified, in milliseconds. */
export const MAX_HEADER_WAIT_MS = 5_000;
/** Most GetHeaders calls waiting for a certificate at once; beyond this they are answered at once. */
export const MAX_HEADER_WAITERS = 4096;
/**
 * Health `Watch` calls one node serves at once, and from one address; beyond, RESOURCE_EXHAUSTED
 * `health/too-many-watches` — but at the total a newcomer from a less busy address ends the busiest
 * address's oldest watch (`health/evicted`) and takes its place (node/net/fair-slots.ts).
 */
export const MAX_HEALTH_WATCHES = 1024;
export const MAX_HEALTH_WATCHES_PER_HOST = 64;
/** Most concurrent receipt subscriptions per node. */
export const MAX_RECEIPT_SUBSCRIPTIONS = 1024;
/**
 * Most receipt subscriptions one client address holds on a node at once (`stream/too-many`): a
 * subscription costs its client nothing while it waits, so one host opening them must not take
 * every slot from the others.
 */
export const MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST = 256;
/**
 * Receipt bytes one subscription may leave unsent (its client not reading) before it is cut off
 * with `stream/slow-reader`: room for the receipts of a full block and more.
 */
export const MAX_SUBSCRIPTION_BACKLOG_BYTES = 4 * 1024 * 1024;
/** Receipt bytes all subscriptions together may leave unsent (node/subscription-backlog.ts). */
export const MAX_SUBSCRIPTIONS_BACKLOG_BYTES = 64 * 1024 * 1024;
/** Most request ids one receipt subscription may name (none: every receipt). */
export const MAX_SUBSCRIPTION_IDS = 1024;
/**
 * On shutdown, how long in-flight client calls may take to finish once the listener is closed and
 * the streams that never end on their own (peer streams, receipt waits) are closed; the
 * connections still open after it are cut. Applied blocks are committed either way.
 */
export const NODE_SHUTDOWN_GRACE_MS = 250;
/** Most pieces of consensus evidence a node keeps for clients to fetch and submit (newest kept). */
export const MAX_WITNESSED_EVIDENCE = 32;

// ---------------------------------------------------------------------------------------------
// Certification and receipts (node/certifier.ts, node/receipt-store.ts).
// ---------------------------------------------------------------------------------------------

/**
 * Receipts (and the node's own block headers) a node keeps on disk: those of the last this many
 * blocks. A receipt takes about 160 bytes on disk (id key, height index, encoded receipt; a
 * rejection also keeps its message), so 100,000 blocks of 100 requests are about 1.6 GB; the hard
 * ceiling is this times TOB_MAX_BLOCK_REQUESTS receipts. Older ones are pruned in the background.
 */
export const RECEIPT_RETENTION_BLOCKS = 100_000;
/**
 * Most receipts under one receipt root (one per request of a block): bounds the count a client
 * accepts with an inclusion path, and so the path's length (at most 12 hashes).
 */
export const MAX_RECEIPT_LEAVES = TOB_MAX_BLOCK_REQUESTS;
/** Most receipt (and header) records deleted by one background prune pass (one per block). */
export const RECEIPT_PRUNE_BATCH = 8192;
/**
 * Heights below its newest own header for which a node keeps collecting signatures (a height is
 * not lost just because blocks moved on while its signatures travelled); older pending heights
 * are left to certificate sync.
 */
export const CERT_PENDING_HEIGHTS = 1024;
/** Heights ahead of the node's own for which peers' header signatures are buffered. */
export const CERT_EARLY_HEIGHTS = 256;
/** How often a node re-sends its signatures of uncertified heights and asks a peer for missing certificates. */
export const CERT_SYNC_INTERVAL_MS = 500;
/** Most own signatures re-sent per sync interval (lowest uncertified heights first). */
export const CERT_RESEND_HEIGHTS = 16;
/** Most certified headers asked for, and answered, in one certificate-sync exchange. */
export const CERT_SYNC_HEADERS = 64;
/** Certificate-sync answers read from storage at once (node/certification.ts). */
export const CERT_SYNC_IN_FLIGHT = 2;
/** At most one certificate-sync answer per peer per this many milliseconds. */
export const CERT_SYNC_PEER_INTERVAL_MS = 100;
/** Largest ledger-channel frame a node decodes (a certificate-sync reply is the largest). */
export const MAX_LEDGER_FRAME_BYTES = 4 * 1024 * 1024;
/**
 * glibc malloc arenas a node process may use (`MALLOC_ARENA_MAX`). Each thread that allocates
 * (LevelDB's compaction and I/O threads, libuv's pool, V8's helpers) otherwise gets an arena of its
 * own that keeps freed memory: a node's resident set then grows for as long as it runs while its
 * V8 heap stays flat (docs/memory.md). Two arenas keep the resident set flat at no measurable cost.
 */
export const NODE_MALLOC_ARENAS = 2;

// Queries: listings and key histories (docs/protocol.md §15).

/** Most index entries one listing page returns (a client asks for 1..this many). */
export const MAX_LIST_PAGE = 1_000;
/** History requests in flight on one HistoryStream; beyond, a request is refused. */
export const MAX_STREAM_HISTORY_REQUESTS = 256;
/** Most changes one history page returns (a client asks for 1..this many). */
export const MAX_HISTORY_PAGE = 1_000;
/**
 * Most bytes of values in one History page, well inside GRPC_MAX_MESSAGE_BYTES: 1,000 changes of
 * 1 MiB values do not fit one reply, so past this a page gives changes without their values
 * (newest values first; each change still carries its value's hash).
 */
export const MAX_HISTORY_PAGE_BYTES = 16 * 1024 * 1024;
/**
 * Deepest ordered-index node a proof may reveal. The index is a treap whose priorities are key
 * hashes: its depth is about 3·ln(n) (40 at a million keys), and making it deeper takes work
 * exponential in the depth added, so a proof past this bound is refused as malformed.
 */
export const MAX_INDEX_DEPTH = 256;
/**
 * Largest proof one Get reply carries: a megabyte under the gRPC message bound (32 MiB,
 * proto/grpc.ts) leaves room for the statement and framing. 64 keys of 1 MiB values do not fit
 * one message; such a read is refused `get/too-large` rather than failing to send.
 */
export const MAX_GET_PROOF_BYTES = 31 * 1024 * 1024;
/** Most blocks one GetChanges reply covers. */
export const MAX_CHANGE_FEED_BLOCKS = 256;
/** Most key changes one GetChanges reply holds (a single larger block is still given whole). */
export const MAX_CHANGE_FEED_CHANGES = 4_096;
/**
 * Most bytes of changes and values in one change-feed reply, well inside GRPC_MAX_MESSAGE_BYTES:
 * a block's values may add up to more than one gRPC message carries (an operation writes up to
 * MAX_TOUCHED_KEYS values of MAX_VALUE_BYTES), so past this a reply leaves values out, and ends
 * before the next block.
 */
export const MAX_CHANGE_FEED_BYTES = 16 * 1024 * 1024;

// Snapshot state sync (docs/state-sync.md).

/**
 * A node writes a snapshot of its store at the first block with a header in every run of this many
 * heights (the same heights on every node, so their statements about it can agree). Overridden by
 * the environment variable ARBOR_SNAPSHOT_INTERVAL (tests use small values). A joining node applies
 * the blocks since the newest snapshot, on average half of this; a snapshot costs a node a
 * background read of its store (at 100,000 records, ~35 MB written in 4–10 s under load).
 */
export const SNAPSHOT_INTERVAL_BLOCKS = 512;
/** Snapshots a node keeps on disk (the newest); older files are deleted when a new one is complete. */
export const SNAPSHOT_KEEP = 2;
/** Largest piece of a snapshot file one GetSnapshot reply carries. */
export const SNAPSHOT_PAGE_BYTES = 1024 * 1024;
/** GetSnapshot page reads one node serves at once; more are refused (RESOURCE_EXHAUSTED). */
export const SNAPSHOT_SERVE_CONCURRENCY = 2;
/** Snapshot pages a joining node asks for at once (spread over the nodes offering the snapshot). */
export const SNAPSHOT_FETCH_IN_FLIGHT = 4;
/** How long a joining node waits for one peer's snapshot reply before asking another. */
export const SNAPSHOT_FETCH_TIMEOUT_MS = 10_000;
/** How long a joining node keeps asking for agreeing snapshot offers before it replays blocks instead. */
export const SNAPSHOT_OFFER_WAIT_MS = 15_000;
/**
 * Largest common part, and largest tree part, a joining node accepts (each is held in memory to be
 * checked): an offer naming more is passed over, so a lying server cannot make it download without end.
 */
export const SNAPSHOT_MAX_PART_BYTES = 1024 * 1024 * 1024;
/**
 * How long a joining node waits for a snapshot a peer is writing when it is newer than the newest
 * vouched one (or there is none yet): writing one takes tens of seconds at 100,000 records, applying
 * the blocks since the older one minutes.
 */
export const SNAPSHOT_WRITE_WAIT_MS = 90_000;
/**
 * Largest record (key or value) a snapshot may carry: a carried block of the consensus position
 * can be a full block, whose encoding is up to a consensus message (a full block's 16 MiB of
 * payload and its header would not fit 16 MiB, and such a snapshot could not be installed).
 */
export const SNAPSHOT_MAX_RECORD_BYTES = TOB_MAX_MESSAGE_BYTES;
/**
 * Whole delivered blocks a snapshot carries up to its height, for a consensus started there to
 * choose leaders as every other node does (from the last TOB_LEADER_FAILURE_WINDOW blocks). The duplicate
 * filter's state, the digests each of the last TOB_DEDUP_WINDOW blocks delivered, is carried as
 * those digests alone (node/tob/core/restore.ts).
 */
export const SNAPSHOT_CONSENSUS_BLOCKS = TOB_LEADER_FAILURE_WINDOW;
/**
 * Delivered blocks a node keeps in its consensus database behind its applied height: a peer behind
 * by fewer catches up block by block from it; one further behind (or one that lost its disk) is
 * started with --join on an empty data directory and syncs from a snapshot. Older blocks are
 * deleted once the node has a snapshot below the cut, TOB_PRUNE_BATCH at a time.
 */
export const TOB_BLOCK_RETENTION_BLOCKS = 100_000;
/**
 * The same retention counted in bytes: the delivered blocks kept are at most the newest ones whose
 * encoded sizes reach this (whichever of the two bounds keeps fewer). A peer further behind
 * re-syncs from a snapshot, which moves about a partition's records instead of this many bytes of
 * requests to re-execute (at 100,000 records a snapshot is ~22 MB). Overridden by the environment
 * variable ARBOR_BLOCK_RETENTION_BYTES (tests prune sooner). The blocks after the oldest kept
 * snapshot (a node installing it catches up from there) and the newest PRUNE_KEEP_BLOCKS always stay.
 */
export const TOB_BLOCK_RETENTION_BYTES = 64 * 1024 * 1024;
/** Delivered blocks one pruning pass deletes. */
export const TOB_PRUNE_BATCH = 4096;
