// The bounds in limits.ts depend on each other: a request must fit in a block, a block in a
// consensus message, a message in a peer's queue, the largest record value in a request's
// arguments. Each relation is stated here once and checked when a node, the CLI or a test loads
// it, so that changing one bound alone cannot leave another unreachable (issue: documented sizes
// that the public API could not use).

import * as L from "./limits.js";

type Limits = typeof L;

interface Relation {
  readonly why: string;
  readonly holds: (l: Limits) => boolean;
}

const RELATIONS: readonly Relation[] = [
  {
    why: "the leader choice's chain (failures charged over it) is carried by a snapshot and kept in memory",
    holds: (l) =>
      l.TOB_LEADER_FAILURE_WINDOW >= l.TOB_LEADER_WINDOW &&
      l.SNAPSHOT_CONSENSUS_BLOCKS >= l.TOB_LEADER_FAILURE_WINDOW &&
      l.TOB_MIN_RETAINED_BLOCKS >= l.TOB_LEADER_FAILURE_WINDOW,
  },
  {
    why: "a chunk of a prefix being taken on holds at least one largest record with its key",
    holds: (l) => l.MAX_GRAFT_CHUNK_BYTES >= l.MAX_VALUE_BYTES + l.MAX_KEY_BYTES + 1024,
  },
  {
    why: "a record value and its key fit in an operation's arguments",
    holds: (l) => l.MAX_ARGS_BYTES >= l.MAX_VALUE_BYTES + l.MAX_KEY_BYTES,
  },
  { why: "a module fits in a record value", holds: (l) => l.MAX_MODULE_BYTES <= l.MAX_VALUE_BYTES },
  {
    why: "a module fits in an operation's arguments (deploy)",
    holds: (l) => l.MAX_MODULE_BYTES <= l.MAX_ARGS_BYTES,
  },
  {
    why: "the largest arguments and proof fit in a request body",
    holds: (l) => l.MAX_REQUEST_BODY_BYTES >= l.MAX_ARGS_BYTES + l.MAX_PROOF_BYTES,
  },
  {
    why: "a request body fits in a signed request",
    holds: (l) => l.TOB_MAX_REQUEST_BYTES > l.MAX_REQUEST_BODY_BYTES,
  },
  {
    why: "the largest request fits in a block",
    holds: (l) => l.TOB_MAX_BLOCK_BYTES >= l.TOB_MAX_REQUEST_BYTES,
  },
  {
    why: "a block fits in a consensus message",
    holds: (l) => l.TOB_MAX_MESSAGE_BYTES > l.TOB_MAX_BLOCK_BYTES,
  },
  {
    why: "one consensus message fits in the input queue",
    holds: (l) => l.TOB_MAX_QUEUED_MESSAGE_BYTES >= l.TOB_MAX_MESSAGE_BYTES,
  },
  {
    why: "one consensus message fits in a peer's send queue, of either class",
    holds: (l) =>
      l.MAX_PEER_QUEUE_BYTES >= l.TOB_MAX_MESSAGE_BYTES &&
      l.MAX_PEER_BULK_QUEUE_BYTES >= l.TOB_MAX_MESSAGE_BYTES,
  },
  {
    why: "the largest request fits the pool's share for heavy requests, a share of the pool",
    holds: (l) =>
      l.TOB_MAX_PENDING_HEAVY_BYTES >= l.TOB_MAX_REQUEST_BYTES &&
      l.TOB_MAX_PENDING_HEAVY_BYTES <= l.TOB_MAX_PENDING_BYTES,
  },
  {
    why: "a full block fits in the request pool",
    holds: (l) =>
      l.TOB_MAX_PENDING_BYTES >= l.TOB_MAX_BLOCK_BYTES &&
      l.TOB_MAX_PENDING_REQUESTS >= l.TOB_MAX_BLOCK_REQUESTS,
  },
  {
    why: "a gossip batch is no larger than a block",
    holds: (l) => l.TOB_MAX_GOSSIP_REQUESTS <= l.TOB_MAX_BLOCK_REQUESTS,
  },
  {
    why: "an operation's touched keys fit in one proof",
    holds: (l) => l.MAX_TOUCHED_KEYS <= l.MAX_PROOF_KEYS,
  },
  {
    why: "a partition prefix is shorter than a tree path",
    holds: (l) => l.MAX_PREFIX_BITS <= l.MAX_TREE_DEPTH,
  },
  {
    why: "a module's initial memory is within its maximum",
    holds: (l) => l.MAX_WASM_INITIAL_PAGES <= l.MAX_WASM_MEMORY_PAGES,
  },
  { why: "a start function's gas is within the gas limit", holds: (l) => l.MAX_START_GAS <= l.MAX_GAS_LIMIT },
  {
    why: "a request of the largest gas limit fits in a block's gas (alone)",
    holds: (l) =>
      l.MAX_GAS_LIMIT <= l.HEAVY_GAS_PER_PROPOSAL &&
      l.HEAVY_GAS_PER_PROPOSAL <= l.BLOCK_GAS_BUDGET &&
      l.BLOCK_GAS_BUDGET <= l.MAX_GAS_AHEAD,
  },
  {
    why: "one peer's gossip queue holds a largest consensus message, and the whole queue holds one peer's",
    holds: (l) =>
      l.GOSSIP_PEER_QUEUE_BYTES >= l.TOB_MAX_MESSAGE_BYTES &&
      l.GOSSIP_CHECK_QUEUE_BYTES >= l.GOSSIP_PEER_QUEUE_BYTES,
  },
  { why: "light requests are lighter than heavy ones", holds: (l) => l.LIGHT_REQUEST_GAS < l.MAX_GAS_LIMIT },
  {
    why: "the SDK's request lifetime is allowed",
    holds: (l) => l.DEFAULT_REQUEST_LIFETIME_BLOCKS < l.MAX_REQUEST_LIFETIME_BLOCKS,
  },
  {
    why: "a request's outcome can be asked for as long as it may apply",
    holds: (l) => l.RECEIPT_RETENTION_BLOCKS >= l.MAX_REQUEST_LIFETIME_BLOCKS,
  },
  {
    why: "blocks delivered per turn are within the undelivered bound",
    holds: (l) => l.TOB_DELIVER_WINDOW <= l.TOB_MAX_UNDELIVERED,
  },
  {
    why: "a sync reply is served from retained blocks",
    holds: (l) => l.TOB_MAX_SYNC_BLOCKS <= l.TOB_RETAINED_BLOCKS,
  },
  {
    why: "a certificate-sync reply is within a headers reply",
    holds: (l) => l.CERT_SYNC_HEADERS <= l.MAX_HEADERS_PER_REPLY,
  },
  {
    why: "a certificate-sync reply fits in a ledger frame",
    holds: (l) =>
      l.MAX_LEDGER_FRAME_BYTES >=
      l.CERT_SYNC_HEADERS * (400 + l.TOB_MAX_VALIDATORS * (l.MAX_VARINT_BYTES + 64)),
  },
  {
    why: "signatures re-sent per interval are pending heights",
    holds: (l) => l.CERT_RESEND_HEIGHTS <= l.CERT_PENDING_HEIGHTS,
  },
  {
    why: "an HTTP/2 frame fits in the flow-control window",
    holds: (l) => l.HTTP2_MAX_FRAME_BYTES <= l.HTTP2_WINDOW_BYTES,
  },
  {
    why: "logical timestamps are exact JavaScript numbers",
    holds: (l) => l.MAX_TIMESTAMP <= Number.MAX_SAFE_INTEGER,
  },
  {
    why: "the receipt cache is no larger than the admitted-request bound",
    holds: (l) => l.MAX_RECENT_RECEIPTS <= l.MAX_ADMITTED_REQUESTS,
  },
];

/** The relations `l` breaks, each said in words; empty when the bounds are consistent. */
export function limitViolations(l: Limits = L): string[] {
  return RELATIONS.filter((r) => !r.holds(l)).map((r) => r.why);
}

/** Throws at load when the compiled bounds contradict each other. */
export function assertLimitsConsistent(l: Limits = L): void {
  const broken = limitViolations(l);
  if (broken.length > 0) throw new Error(`inconsistent bounds in limits.ts: ${broken.join("; ")}`);
}

assertLimitsConsistent();
