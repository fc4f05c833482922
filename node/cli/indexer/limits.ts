// The indexer's bounds, in one place: how much it asks the nodes for at once, how long it waits,
// how much text it indexes per value, and what one search may ask for and return.

/** Blocks asked of a node per change-feed call (the node caps it at MAX_CHANGE_FEED_BLOCKS). */
export const FEED_BATCH_BLOCKS = 64;
/** How long a change-feed call waits for a new block once the indexer has caught up. */
export const FEED_WAIT_MS = 2_000;
/** Pause after a round in which no node gave a usable block, so a down cluster is not hammered. */
export const RETRY_PAUSE_MS = 500;
/** Keys read at once when a value came from no node and is fetched with a verified read (a read's bound). */
export { MAX_TOUCHED_KEYS as MISSING_VALUE_READ_KEYS } from "../../common/limits.js";
/** Characters of a value's text that are indexed: tsvector holds at most 1 MiB, and words past this are rare. */
export const MAX_INDEXED_TEXT_CHARS = 100_000;
/** Entries read per SQL page when a restarted indexer rebuilds its follower. */
export const RESUME_PAGE_ROWS = 10_000;

/** Hits one search returns by default, and at most. */
export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 100;
/** Characters a search query may have. */
export const MAX_QUERY_CHARS = 512;
/** Characters of a domain filter (a key's first segment; keys are at most 1,024 bytes). */
export const MAX_DOMAIN_CHARS = 1_024;
/** Characters of the snippet a hit carries. */
export const MAX_SNIPPET_CHARS = 200;
/** Bytes of a search request's URL; a search has no body. */
export const MAX_URL_BYTES = 4_096;
/** Connections the search server keeps open; past it a new one is closed at once. */
export const MAX_HTTP_CONNECTIONS = 64;
/**
 * Searches run at once; past it a search is answered 503 `search/busy` at once. A search over large
 * records costs the database seconds, and the one that ingests blocks waits behind them.
 */
export const MAX_CONCURRENT_SEARCHES = 2;
/** How long a client may take to send its request before it is cut off. */
export const SEARCH_TIMEOUT_MS = 10_000;
/**
 * Longest one search's SQL may run (PostgreSQL's statement_timeout; past it 503 `search/timeout`).
 * PGlite has no timer to cancel a statement with, so there MAX_CONCURRENT_SEARCHES is the only bound.
 */
export const SEARCH_STATEMENT_TIMEOUT_MS = 5_000;
