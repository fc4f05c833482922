// The SDK's public shapes: connection options, read results, receipts, audit reports. Type-only
// (and the default deadline), so every layer of the client can name them without importing another.

import type { Genesis } from "../node/ledger/genesis.js";
import type { Evidence } from "../node/ledger/evidence.js";
import type { GetStatement } from "../node/ledger/statement.js";
import type { Receipt } from "../node/ledger/receipt.js";
import type { CallOptions } from "./deadline.js";
import type { ClientKey } from "./crypto.js";
import type { NodeConnection } from "./transport.js";
import type { HeaderSource } from "./light.js";

/** A call's deadline when neither the client nor the call names one. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export interface ConnectOptions {
  /** The genesis document (object or JSON text); otherwise it is fetched from `endpoints`. */
  readonly genesis?: Genesis | string;
  /** Node addresses to learn the genesis from (host:port). */
  readonly endpoints?: readonly string[];
  /** The chain id to pin when learning the genesis from a node (hex or bytes). */
  readonly chainId?: Uint8Array | string;
  /** The signing key for requests (generated when absent). */
  readonly key?: ClientKey;
  /** Verify every read against a certified root (default true). */
  readonly verify?: boolean;
  /**
   * Every SDK call's deadline, milliseconds (default 30 s; each call takes `{ timeoutMs }` to
   * override it): by then it has returned or failed with a typed error naming what was missing.
   */
  readonly timeoutMs?: number;
  /**
   * Light mode: keep only the genesis and the newest trusted header and validator set (a
   * LightClient), and check every read against the certified header at its proof's height, got
   * through the light client from one node at a time — another when that one fails or serves
   * something that does not verify. Reads are always verified in light mode.
   */
  readonly light?: boolean;
  /** Light mode: how headers are fetched from a node (default `nodeHeaderSource`; tests wrap it). */
  readonly headerSource?: (conn: NodeConnection, node: number) => HeaderSource;
}

/** What a light-mode client has downloaded to trust the roots it checked reads against. */
export interface LightStats {
  /** certified headers downloaded, transition headers included */
  readonly headers: number;
  /** their bytes, with the validator lists of the transitions (proofs not included) */
  readonly bytes: number;
  /** validator-set transitions stepped through */
  readonly transitions: number;
  /** the newest height the client trusts a header at (0: only the genesis) */
  readonly trustedHeight: bigint;
  /** the node headers come from now, and how often the client switched to another */
  readonly source: number;
  readonly failovers: number;
}

/** One node's answer to an audit. */
export interface NodeAudit {
  readonly node: number;
  /**
   * consistent: its signed root is the certified root at its height; caught: evidence proves it
   * lied; unchecked: it answered, but its statement could not be checked (see detail);
   * no-answer: unreachable, or an answer that proves nothing (unsigned, another node's).
   */
  readonly verdict: "consistent" | "caught" | "unchecked" | "no-answer" | "evicted";
  readonly height?: bigint;
  readonly timestamp?: bigint;
  readonly root?: Uint8Array;
  readonly detail?: string;
}

/** Misbehaviour proven by an audit: the encoded evidence (docs/protocol.md §7), ready for `complain`. */
export interface AuditFinding {
  readonly accused: number;
  readonly kind: Evidence["kind"];
  readonly height: bigint;
  readonly evidence: Uint8Array;
}

export interface AuditReport {
  /** the sampled nodes, ascending by id */
  readonly nodes: readonly NodeAudit[];
  readonly found: readonly AuditFinding[];
}

export interface ExecuteOptions extends CallOptions {
  readonly op: string;
  readonly touched: readonly string[];
  readonly args?: Uint8Array;
  readonly gasLimit?: bigint;
  /** Execute against a proof fetched earlier (encoded); by default a fresh one is read. */
  readonly proof?: Uint8Array;
  /**
   * The last block height at which the request may apply (signed; docs/protocol.md §5). Default:
   * the height of the read its proof comes from (or the newest height this client knows) plus
   * DEFAULT_REQUEST_LIFETIME_BLOCKS. Past it the request is refused as `expired`, for good.
   */
  readonly validUntil?: bigint;
}

export interface ReadResult {
  /** key → value (null: absent) */
  readonly values: Map<string, Uint8Array | null>;
  /** the joined proof, encoded, against `root` */
  readonly proof: Uint8Array;
  readonly root: Uint8Array;
  readonly height: bigint;
  readonly timestamp: bigint;
  /** the signed statements the answers came with (evidence for audits) */
  readonly statements: readonly SignedStatement[];
}

export interface SignedStatement {
  readonly node: number;
  readonly statement: GetStatement;
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
}

export interface TrustedReceipt {
  readonly receipt: Receipt;
  readonly bytes: Uint8Array;
  /** nodes whose equal signed receipts back it */
  readonly signers: readonly number[];
}

export interface AuditOptions extends CallOptions {
  /** how many nodes to ask (the first N by id; default all) */
  readonly sample?: number;
  /** the key each node is asked for (default `.root_rule`) */
  readonly key?: string;
  /** ask for values, not only hashes (default false) */
  readonly values?: boolean;
}
