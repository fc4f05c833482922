// The client's own bounds: every cache and queue the SDK keeps, by name (the protocol's bounds are
// in node/common/limits.ts). Each is small enough that a long-lived process stays flat.

/** Verified node statements remembered per process (a node signs one per height; replies and clients share it). */
export const MAX_VERIFIED_STATEMENTS = 1024;
/** Signed statements a client keeps as potential evidence (the newest). */
export const MAX_KEPT_STATEMENTS = 256;
/** Unused or sampled read replies waiting for a background check; more are dropped. */
export const MAX_CROSS_CHECKS = 64;
/** Certified headers a process keeps verified, across every client of every chain. */
export const MAX_VERIFIED_HEADERS = 4096;
/** One group of keys in this many read by a client is also asked of a second holder, and checked. */
export const CROSS_CHECK_EVERY = 8;
/** Reads in flight on one connection's GetStream; beyond this they go as unary calls. */
export const MAX_STREAM_READS = 512;
/** Header requests in flight on one connection's GetHeadersStream; beyond this, unary calls. */
export const MAX_STREAM_HEADER_CALLS = 128;
/** History requests in flight on one node's HistoryStream (the node takes up to 256). */
export const MAX_STREAM_HISTORY_CALLS = 128;
/**
 * The least time one node gets to answer a listing or history page before the next is asked (its
 * share of the call's time left, split among the nodes still to ask, is used when longer). Above
 * a node's own wait for `min_height` (MAX_GET_WAIT_MS, 2 s), so a correct lagging node is not cut off.
 */
export const QUERY_ATTEMPT_MIN_MS = 3_000;
/**
 * How long an audit waits for each node's probe answer and witnessed evidence: a node silent past
 * it is reported `no-answer`, and the audit goes on with the others (the call's deadline is left
 * for the certificates it checks statements against).
 */
export const AUDIT_ANSWER_MS = 5_000;

/** catchUp (freshness.ts): how long each node's Status is waited for. */
export const CATCH_UP_STATUS_MS = 2_000;
/** catchUp: once n − f nodes have answered, how much longer the others are waited for. */
export const CATCH_UP_GRACE_MS = 300;
/** catchUp: how long one node is given to show the certificate of the height it claims. */
export const CATCH_UP_HEADER_MS = 2_000;
