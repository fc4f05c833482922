// The Arbor SDK, the `@arbor/client` package: `import { ArborClient } from "@arbor/client"`.
export {
  ArborClient,
  DEFAULT_CALL_TIMEOUT_MS,
  type ConnectOptions,
  type ExecuteOptions,
  type ReadResult,
  type SignedStatement,
  type TrustedReceipt,
  type ListOptions,
  type HistoryOptions,
} from "./client.js";
export type { ListPage, ListedKey, HistoryPage, KeyVersion } from "./queries.js";
export {
  matchesQuery,
  DEFAULT_SEARCH_LIMIT,
  MAX_SEARCH_LIMIT,
  type SearchOptions,
  type SearchResult,
  type VerifiedHit,
} from "./search.js";
export type { HistoryCursor } from "../node/store/core/key-history.js";
export { RequestRejected, VerificationError, UnavailableError } from "./errors.js";
export type { CallOptions } from "./deadline.js";
export { SUBMIT_ANSWER_MS, SUBMIT_FALLBACK_MS } from "./admission.js";
export { AVOID_BASE_MS, AVOID_MAX_MS } from "./penalty-box.js";
export { generateKey, keyFromSeed, sign, verify, type ClientKey } from "./crypto.js";
export { joinAnswers, pruneProof } from "./proofs.js";
export { NodeConnection, type ClientTls } from "./transport.js";
export type { Receipt } from "../node/ledger/receipt.js";
export { LightClient, nodeHeaderSource, type HeaderSource } from "./light.js";
export type { Transition } from "./transition.js";
export { approve, memberIdOf } from "./members.js";
export type { Approval, MemberChange } from "../node/ledger/member-request.js";
