// The SDK's public shapes: connection options, read results, receipts, audit reports. Type-only
// (and the default deadline), so every layer of the client can name them without importing another.

import type { Genesis } from "../node/ledger/genesis.js";
import type { Evidence } from "../node/ledger/evidence.js";
import type { GetStatement } from "../node/ledger/statement.js";
import type { Receipt } from "../node/ledger/receipt.js";
import type { CertifiedHeader } from "../node/ledger/header.js";
import type { CallOptions } from "./deadline.js";
import type { ClientKey } from "./crypto.js";
import type { ClientTls, NodeConnection } from "./transport.js";
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
  /**
   * Connect with TLS: the CA PEM the nodes' certificates are checked against (and optionally the
   * name to check them for). Needed when the nodes have `tls` in their configs; plaintext without.
   */
  readonly tls?: ClientTls;
  /** The signing key for requests (generated when absent). */
  readonly key?: ClientKey;
  /** Verify every read against a certified root (default true). */
  readonly verify?: boolean;
  /**
   * Also accept f+1 equal signed receipts (default false): nodes then sign each receipt they
   * serve this client and f+1 are asked at once, which can answer before the header of the
   * receipt's height is certified. Without it a receipt is trusted from one node through the
   * certified header.
   */
  readonly earlyReceipts?: boolean;
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
  /** set when the node did not give the evidence its consensus witnessed: why (timeout, error) */
  readonly evidenceMissing?: string;
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
   * Pin the operation's module: the proof shows the operation's record (by its value hash), so the
   * request is refused (as for any touched record that changed) if the record is written before
   * it applies. By default the request runs the module the record holds when it applies.
   */
  readonly pinOperation?: boolean;
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

/** A receipt the client trusts, and what it trusts it on (docs/protocol.md §6). */
export interface TrustedReceipt {
  readonly receipt: Receipt;
  readonly bytes: Uint8Array;
  /**
   * header: its inclusion path leads to the receipt root of `header`, whose certificate (2f+1
   * signatures of that height's validator set) the client verified; signatures: f+1 nodes signed
   * these very bytes (the early answer, or a refusal that needs them).
   */
  readonly backing: "header" | "signatures";
  /** backing "header": the certified header of the receipt's height */
  readonly header?: CertifiedHeader;
  /** the nodes whose signatures back it: the header's certificate, or the equal signed receipts */
  readonly signers: readonly number[];
  /** the nodes whose answers were used: the one that served it, or the f+1 signers */
  readonly servedBy: readonly number[];
}

export interface AuditOptions extends CallOptions {
  /** how many nodes to ask (the first N by id; default all) */
  readonly sample?: number;
  /** the key each node is asked for (default `.root_rule`) */
  readonly key?: string;
  /** ask for values, not only hashes (default false) */
  readonly values?: boolean;
}
