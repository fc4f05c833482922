// ArborClient: the SDK. Reads are routed to the holders of each key, verified (node signature,
// proof, and — by default — the root against a certified header), joined into one proof against
// the newest root; writes are signed requests whose receipt is trusted from one node through the
// certified header of its height (its inclusion path under the header's receipt root), or from f+1
// equal signed receipts.

import { Writer } from "../node/common/codec.js";
import { bytesEqual, toHex } from "../node/common/bytes.js";
import { ArborError } from "../node/common/errors.js";
import { checkModuleSize, checkValueSize } from "../node/common/bounds.js";
import {
  chainId,
  genesisFromJson,
  validatorsOf,
  type Genesis,
  type GenesisNode,
} from "../node/ledger/genesis.js";
import {
  decodeCertifiedHeader,
  encodeCertifiedHeader,
  verifyCertificate,
  type CertifiedHeader,
  validatorsHash,
} from "../node/ledger/header.js";
import { decodeEvidence, encodeEvidence, verifyEvidence, type Evidence } from "../node/ledger/evidence.js";
import { decodeMessage } from "../node/tob/core/wire.js";
import { evictedKey } from "../node/common/system-keys.js";
import {
  decodeStatement,
  proofDigest,
  ROOT_STATEMENT_DIGEST,
  statementSigningMessage,
  type GetStatement,
} from "../node/ledger/statement.js";
import { decodeReceipt, receiptSigningMessage, type Receipt } from "../node/ledger/receipt.js";
import {
  assembleSignedRequest,
  decodeAnyRequest,
  encodeComplainBody,
  encodeRequestBody,
  requestSigningMessage,
  sortKeys,
} from "../node/ledger/request.js";
import { Partition } from "../node/store/core/partition.js";
import { keyPath } from "../node/store/core/path.js";
import { provenState, type ProofNode } from "../node/store/core/proof.js";
import { decodeProof, encodeProof } from "../node/store/core/proof-codec.js";
import {
  DEFAULT_REQUEST_LIFETIME_BLOCKS,
  MAX_TOUCHED_KEYS,
  MAX_WITNESSED_EVIDENCE,
} from "../node/common/limits.js";
import { clientVerifier, generateKey, sign, verify, type ClientKey } from "./crypto.js";
import { RequestRejected, UnavailableError, VerificationError } from "./errors.js";
import { callTimeout, Deadline, type CallOptions } from "./deadline.js";
import { PenaltyBox } from "./penalty-box.js";
import { admitRequest, SUBMIT_FALLBACK_MS } from "./admission.js";
import { joinAnswers, pruneProof, type ProofAnswer } from "./proofs.js";
import { NodeConnection } from "./transport.js";
import { LightClient, nodeHeaderSource, type HeaderSource } from "./light.js";
import { ValidatorHistory } from "./validator-history.js";
import { rememberVerifiedHeader, verifiedHeader } from "./header-cache.js";
import { checkAgainstHeader, openReceipt, outcomeByPath, type OpenedReceipt } from "./receipt-check.js";
import type { GetReply, StatusReply } from "../proto/gen/arbor/v1/client_pb.js";

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

/** Rejections a fresh read and a new request (new proof, new lifetime) can overcome. */
const RETRYABLE = new Set(["record-changed", "stale-root", "expired"]);
/** Verified node statements remembered (a node signs one per height; replies share it). */
const MAX_VERIFIED_STATEMENTS = 1024;
/** Unused read replies waiting for a background check; more are dropped. */
const MAX_CROSS_CHECKS = 64;
/** Pause between two background checks of unused read replies. */
const CROSS_CHECK_INTERVAL_MS = 10;
/** Times a read asks again the partitions whose answers could not be joined to the newest one. */
const JOIN_ROUNDS = 3;
/** How long a node is asked to wait for a header's certificate before the next node is asked. */
const CERTIFICATE_WAIT_MS = 1_000;
/**
 * How long after the first valid signed receipt the client waits for the other f of the first f+1
 * nodes before asking every node (correct nodes apply a block within milliseconds of each other).
 */
const RECEIPT_HEDGE_MS = 250;
/**
 * How long a receipt is waited for from the nodes asked so far before one more is asked: what a
 * node that admits a request and never answers for it can delay a write (as SUBMIT_FALLBACK_MS).
 */
const RECEIPT_FALLBACK_MS = SUBMIT_FALLBACK_MS;
/** How long one fetch of a certified header looks before it gives up (client/no-certificate). */
const CERTIFICATE_DEADLINE_MS = 5_000;
/** How long one endpoint may take to send the genesis before the next is asked. */
const GENESIS_CALL_MS = 5_000;
/** A call's deadline when neither the client nor the call names one. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** Pause between two attempts of a read, growing with each attempt up to READ_RETRY_MAX_MS. */
const READ_RETRY_STEP_MS = 20;
const READ_RETRY_MAX_MS = 200;
/** How long the first write may spend learning evictions before it is handed to the nodes. */
const MEMBERSHIP_REFRESH_MS = 2_000;

/** One holder's verified answer to a read. */
interface Answer {
  readonly answer: ProofAnswer;
  readonly statement: SignedStatement;
}

export class ArborClient {
  readonly chain: Uint8Array;
  readonly key: ClientKey;
  readonly f: number;
  private readonly conns = new Map<number, NodeConnection>();
  /** Certified headers being fetched, by height. */
  private readonly certifying = new Map<bigint, Promise<CertifiedHeader>>();
  private readonly partitions: Map<number, Partition>;
  private nonce = BigInt(Date.now()) * 1000n;
  /** Highest height this client has seen in a receipt: reads are at least this fresh. */
  seenHeight = 0n;
  /** Highest height of a read this client verified. */
  private readHeight = 0n;
  readonly verifyReads: boolean;
  /** Whether f+1 equal signed receipts are asked for too (ConnectOptions.earlyReceipts). */
  readonly earlyReceipts: boolean;
  /** Signed statements kept as potential evidence (bounded, newest last). */
  readonly evidence: SignedStatement[] = [];
  /** Proofs of misbehaviour found so far (by reads or audits), ready for `complain`. */
  readonly suspects: Array<{ readonly accused: number; readonly evidence: Uint8Array }> = [];
  /** Nodes caught lying: not asked again. */
  readonly excluded = new Set<number>();
  /** Nodes asked last for a while: answers that covered less than asked, calls left hanging. */
  private readonly penalties = new PenaltyBox();
  /** Every call's deadline unless the call names its own. */
  readonly timeoutMs: number;
  /** Light mode only: the light client, the node it fetches from, how often it switched. */
  private readonly light: LightClient | null = null;
  private lightNode = 0;
  private lightFailovers = 0;
  private lightQueue: Promise<unknown> = Promise.resolve();
  private membershipKnown = false;
  /** Replies not used by a read, waiting to be checked (crossCheck). */
  private readonly crossChecks: Array<() => Promise<void>> = [];
  private crossCheckTimer: NodeJS.Timeout | null = null;
  /** Statements whose signature verified, by node and signature (checkStatement). */
  private readonly verifiedStatements = new Map<string, Uint8Array>();
  /** Validator sets over heights (certificates are checked against the set of their height). */
  private readonly history: ValidatorHistory;

  private constructor(
    readonly genesis: Genesis,
    opts: ConnectOptions,
  ) {
    this.chain = chainId(genesis);
    this.history = new ValidatorHistory(genesis, this.chain);
    this.key = opts.key ?? generateKey();
    this.verifyReads = opts.light === true || (opts.verify ?? true);
    this.earlyReceipts = opts.earlyReceipts === true;
    this.timeoutMs = callTimeout(opts.timeoutMs, DEFAULT_CALL_TIMEOUT_MS);
    this.f = Math.floor((genesis.nodes.length - 1) / 3);
    this.partitions = new Map(genesis.nodes.map((n) => [n.id, new Partition(n.prefixes)]));
    for (const n of genesis.nodes) this.conns.set(n.id, new NodeConnection(n.address, opts.timeoutMs));
    if (opts.light) {
      const make = opts.headerSource ?? ((conn: NodeConnection) => nodeHeaderSource(conn));
      const sources = new Map(genesis.nodes.map((n) => [n.id, make(this.conns.get(n.id)!, n.id)]));
      this.lightNode = genesis.nodes[0]!.id;
      // The light client reads through whichever node is current; lightHeader() switches it.
      this.light = new LightClient(genesis, {
        transitions: (after, until) => sources.get(this.lightNode)!.transitions(after, until),
        header: (height) => sources.get(this.lightNode)!.header(height),
      });
    }
  }

  /** Whether this client runs in light mode. */
  get isLight(): boolean {
    return this.light !== null;
  }

  /** What light mode has downloaded so far (throws when the client is not in light mode). */
  lightStats(): LightStats {
    if (!this.light) throw new ArborError("client/not-light", "lightStats() needs a client in light mode");
    return {
      headers: this.light.headersDownloaded,
      bytes: this.light.bytesDownloaded,
      transitions: this.light.transitionsDownloaded,
      trustedHeight: this.light.height,
      source: this.lightNode,
      failovers: this.lightFailovers,
    };
  }

  static async connect(opts: ConnectOptions): Promise<ArborClient> {
    let g: Genesis;
    if (opts.genesis !== undefined)
      g = typeof opts.genesis === "string" ? genesisFromJson(opts.genesis) : opts.genesis;
    else {
      if (!opts.endpoints || opts.endpoints.length === 0)
        throw new ArborError("client/no-endpoints", "give a genesis or endpoints");
      const dl = new Deadline(callTimeout(opts.timeoutMs, DEFAULT_CALL_TIMEOUT_MS), "connect");
      dl.waitingFor("client/no-genesis", () => `no endpoint of ${opts.endpoints!.join(", ")} gave a genesis`);
      g = await dl.run(ArborClient.learnGenesis(opts.endpoints, dl, opts.chainId));
    }
    return new ArborClient(g, opts);
  }

  private static async learnGenesis(
    endpoints: readonly string[],
    dl: Deadline,
    pin?: Uint8Array | string,
  ): Promise<Genesis> {
    const want = typeof pin === "string" ? pin.toLowerCase() : pin ? toHex(pin) : undefined;
    const errors: string[] = [];
    const mismatches: string[] = [];
    for (const e of endpoints) {
      if (dl.expired) break;
      const c = new NodeConnection(e, dl.cap(GENESIS_CALL_MS));
      try {
        const r = await c.genesis();
        const g = genesisFromJson(r.genesisJson);
        const id = toHex(chainId(g));
        if (want !== undefined && id !== want) {
          mismatches.push(`${e} serves chain ${id}`);
          continue;
        }
        return g;
      } catch (err) {
        errors.push(`${e}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        c.close();
      }
    }
    // A node that answered with another chain is not "unavailable": the pin (or the endpoint) is wrong.
    if (mismatches.length > 0)
      throw new VerificationError(
        "client/chain-mismatch",
        `${mismatches.join("; ")}, not the pinned chain ${want}${errors.length ? ` (${errors.join("; ")})` : ""}`,
      );
    throw new UnavailableError("client/no-genesis", `no endpoint gave a genesis: ${errors.join("; ")}`);
  }

  get nodes(): readonly GenesisNode[] {
    return this.genesis.nodes;
  }

  node(id: number): NodeConnection {
    return this.conns.get(id)!;
  }

  /** Nodes that store the key in full (nodes caught lying are left out). */
  holders(key: string): number[] {
    const p = keyPath(key);
    return this.genesis.nodes
      .filter((n) => !this.excluded.has(n.id) && this.partitions.get(n.id)!.holdsKey(p))
      .map((n) => n.id);
  }

  /** Nodes this client avoids now (asked last), ascending. */
  avoided(): number[] {
    return this.penalties.avoided();
  }

  /** A deadline for one public call: `o` names it, or the client's `timeoutMs`. */
  private deadline(o: number | CallOptions | undefined, call: string): Deadline {
    return new Deadline(callTimeout(o, this.timeoutMs), call);
  }

  private addSuspect(accused: number, evidence: Uint8Array): void {
    if (this.suspects.some((s) => s.accused === accused)) return;
    this.suspects.push({ accused, evidence });
  }

  // --- lazy auditing ----------------------------------------------------------------------

  /**
   * Lazy auditing: asks `sample` nodes (default all) for a signed statement, and checks every
   * statement this client holds against the certified headers and against each other. Returns the
   * misbehaviour proven (also kept in `suspects`).
   */
  async audit(opts: AuditOptions = {}): Promise<AuditFinding[]> {
    return [...(await this.auditReport(opts)).found];
  }

  /**
   * The audit, with a verdict for each sampled node. The probe is one GET of `key` (default
   * `.root_rule`), hashes only unless `values` (a node may lie only where it sends values).
   */
  async auditReport(opts: AuditOptions = {}): Promise<AuditReport> {
    const dl = this.deadline(opts, "audit");
    return dl.run(this.auditWithin(opts, dl));
  }

  private async auditWithin(opts: AuditOptions, dl: Deadline): Promise<AuditReport> {
    const probe = opts.key ?? ".root_rule";
    const ids = this.genesis.nodes.map((n) => n.id).slice(0, opts.sample ?? this.genesis.nodes.length);
    // Nodes already evicted are not audited again: a new complaint would be `already-evicted`.
    const evicted = new Set(await this.refreshWithin(dl).catch(() => [] as number[]));
    dl.waitingFor("client/unavailable", () => `no answer to the audit's probe from ${ids.length} nodes`);
    const probes = new Map<number, SignedStatement | string>();
    await Promise.all(
      ids
        .filter((id) => !evicted.has(id))
        .map(async (id) => {
          const node = this.genesis.nodes.find((n) => n.id === id)!;
          try {
            const r = await this.node(id).get([probe], {
              hashesOnly: !opts.values,
              timeoutMs: dl.cap(Infinity),
            });
            const st = this.checkStatement(node, r.statement, r.signature);
            const signed = { node: id, statement: st, bytes: r.statement, signature: r.signature };
            probes.set(id, this.keepEvidence(signed));
          } catch (e) {
            /* unreachable or unsigned answers prove nothing */
            probes.set(id, errorText(e));
          }
        }),
    );
    // What the nodes' consensus witnessed (double votes), checked here before it counts.
    const found: AuditFinding[] = (await this.witnessedWithin({ sample: opts.sample }, dl)).filter(
      (f) => !evicted.has(f.accused),
    );
    /** each checked statement: "consistent", or why it is not (forged: proven false) */
    const checked = new Map<SignedStatement, { forged: boolean; why: string }>();
    // Ascending heights: a light client steps forward through validator-set changes.
    const held = [...this.evidence].sort((x, y) =>
      x.statement.height < y.statement.height ? -1 : x.statement.height > y.statement.height ? 1 : 0,
    );
    for (const s of held) {
      if (evicted.has(s.node) || found.some((f) => f.accused === s.node)) continue;
      if (s.statement.height === 0n) {
        const { genesisRoot } = await import("./genesis-root.js");
        checked.set(s, {
          forged: false,
          why: bytesEqual(genesisRoot(this.genesis), s.statement.root)
            ? "consistent"
            : "signed a wrong genesis root (height 0 has no certificate to prove it with)",
        });
        continue;
      }
      let cert: CertifiedHeader;
      try {
        cert = await this.certifiedWithin(s.statement.height, undefined, dl);
      } catch (e) {
        checked.set(s, {
          forged: false,
          why: `no verifiable certified header at height ${s.statement.height}: ${errorText(e)}`,
        });
        continue;
      }
      if (!bytesEqual(cert.header.root, s.statement.root)) {
        const evidence = encodeEvidence({
          kind: "forged-statement",
          signed: wire(s),
          certificate: encodeCertifiedHeader(cert),
        });
        found.push({ accused: s.node, kind: "forged-statement", height: s.statement.height, evidence });
        this.addSuspect(s.node, evidence);
        this.excluded.add(s.node);
        checked.set(s, {
          forged: true,
          why: `signed root ${toHex(s.statement.root).slice(0, 12)} at height ${s.statement.height}; the certified root is ${toHex(cert.header.root).slice(0, 12)}`,
        });
      } else checked.set(s, { forged: false, why: "consistent" });
    }
    for (let i = 0; i < this.evidence.length; i++)
      for (let j = i + 1; j < this.evidence.length; j++) {
        const a = this.evidence[i]!;
        const b = this.evidence[j]!;
        if (
          a.node !== b.node ||
          a.statement.height !== b.statement.height ||
          bytesEqual(a.statement.root, b.statement.root)
        )
          continue;
        if (evicted.has(a.node) || found.some((f) => f.accused === a.node)) continue;
        const evidence = encodeEvidence({ kind: "conflicting-statements", a: wire(a), b: wire(b) });
        found.push({ accused: a.node, kind: "conflicting-statements", height: a.statement.height, evidence });
        this.addSuspect(a.node, evidence);
      }
    const nodes = ids.map((id): NodeAudit => {
      if (evicted.has(id))
        return { node: id, verdict: "evicted", detail: "evicted by a complaint: not asked" };
      const p = probes.get(id)!;
      const f = found.find((x) => x.accused === id);
      const c = typeof p === "string" ? undefined : checked.get(p);
      const at =
        typeof p === "string"
          ? {}
          : { height: p.statement.height, timestamp: p.statement.timestamp, root: p.statement.root };
      if (f)
        return {
          node: id,
          verdict: "caught",
          ...at,
          detail: c?.forged
            ? c.why
            : f.kind === "double-vote"
              ? "signed two votes in one consensus round"
              : `${f.kind} at height ${f.height} (a statement held from before)`,
        };
      if (typeof p === "string") return { node: id, verdict: "no-answer", detail: p };
      if (c?.why === "consistent") return { node: id, verdict: "consistent", ...at };
      return { node: id, verdict: "unchecked", ...at, detail: c?.why ?? "not checked" };
    });
    return { nodes, found };
  }

  /**
   * Misbehaviour the nodes' consensus witnessed (a validator's two conflicting votes), fetched
   * from `sample` nodes and checked here as every node will check it: only proven offences of
   * the genesis validator set are returned (and kept in `suspects`). A lying node can hand out
   * garbage, never evidence against an honest node: that needs the accused's own signatures.
   */
  async witnessedEvidence(opts: { sample?: number } & CallOptions = {}): Promise<AuditFinding[]> {
    const dl = this.deadline(opts, "witnessedEvidence");
    return dl.run(this.witnessedWithin(opts, dl));
  }

  private async witnessedWithin(opts: { sample?: number }, dl: Deadline): Promise<AuditFinding[]> {
    dl.waitingFor("client/unavailable", () => "no node answered for the evidence its consensus witnessed");
    const ids = this.genesis.nodes
      .map((n) => n.id)
      .filter((id) => !this.excluded.has(id))
      .slice(0, opts.sample ?? this.genesis.nodes.length);
    const ctx = {
      chain: this.chain,
      members: new Map(this.genesis.nodes.map((n) => [n.id, n.publicKey])),
      validatorsAt: () => validatorsOf(this.genesis),
      epochValidators: (e: number) => this.history.epochKeys(e),
      verifier: clientVerifier,
    };
    const found: AuditFinding[] = [];
    const replies = await Promise.all(
      ids.map((id) =>
        this.node(id)
          .evidence(dl.cap(Infinity))
          .catch(() => null),
      ),
    );
    for (const r of replies)
      for (const item of r?.items.slice(0, MAX_WITNESSED_EVIDENCE) ?? []) {
        const v = verifyEvidence(item.evidence, ctx);
        if (!v.ok || found.some((f) => f.accused === v.accused)) continue;
        // A vote names a consensus round, not a block height: height 0 says "not a height".
        found.push({
          accused: v.accused,
          kind: decodeEvidence(item.evidence).kind,
          height: 0n,
          evidence: item.evidence,
        });
        this.addSuspect(v.accused, item.evidence);
      }
    return found;
  }

  /**
   * A signed COMPLAIN with `evidence` (encoded), carrying a fresh proof that the accused is not yet
   * evicted. `accused` defaults to the node the evidence names (see `describeEvidence`).
   */
  async prepareComplaint(evidence: Uint8Array, accused?: number, opts?: CallOptions): Promise<Uint8Array> {
    const dl = this.deadline(opts, "prepareComplaint");
    return dl.run(this.complaintWithin(evidence, accused, dl));
  }

  private async complaintWithin(
    evidence: Uint8Array,
    accused: number | undefined,
    dl: Deadline,
  ): Promise<Uint8Array> {
    const who = accused ?? describeEvidence(evidence, this.genesis).accused;
    if (who === undefined)
      throw new ArborError("client/accused-unknown", "the evidence does not name the accused: give it");
    const key = evictedKey(who);
    const read = await this.readWithin([key], true, dl);
    const body = encodeComplainBody({
      evidence,
      proof: encodeProof(pruneProof(decodeProof(read.proof).root, [keyPath(key)])),
      caller: this.key.publicKey,
      nonce: this.nonce++,
      validUntil: read.height + BigInt(DEFAULT_REQUEST_LIFETIME_BLOCKS),
    });
    return assembleSignedRequest(body, sign(this.key, requestSigningMessage(body)));
  }

  /** Files a COMPLAIN with evidence against `accused` (default: whom it names); resolves with the trusted receipt. */
  async complain(evidence: Uint8Array, accused?: number, opts?: CallOptions): Promise<TrustedReceipt> {
    const dl = this.deadline(opts, "complain");
    const r = await dl.run(
      this.complaintWithin(evidence, accused, dl).then((bytes) => this.submitWithin(bytes, dl)),
    );
    if (r.receipt.status === "rejected")
      throw new RequestRejected(r.receipt.reason, r.receipt.message || r.receipt.reason, r.receipt.requestId);
    this.membershipKnown = false; // learn the eviction before the next write
    return r;
  }

  /**
   * Reads the eviction records of the system domain (verified like any read) and stops asking
   * the nodes they name. Returns the evicted node ids.
   */
  async refreshMembership(opts?: CallOptions): Promise<number[]> {
    const dl = this.deadline(opts, "refreshMembership");
    return dl.run(this.refreshWithin(dl));
  }

  private async refreshWithin(dl: Deadline): Promise<number[]> {
    const evicted: number[] = [];
    const ids = this.genesis.nodes.map((n) => n.id);
    for (let i = 0; i < ids.length; i += MAX_TOUCHED_KEYS) {
      const chunk = ids.slice(i, i + MAX_TOUCHED_KEYS);
      const values = (await this.readWithin(chunk.map(evictedKey), false, dl)).values;
      for (const id of chunk) if (values.get(evictedKey(id)) != null) evicted.push(id);
    }
    for (const id of evicted) this.excluded.add(id);
    this.membershipKnown = true;
    return evicted;
  }

  // --- reads ------------------------------------------------------------------------------

  /**
   * Reads keys with a proof, verified, joined against the newest root. Ends by the call's
   * deadline: client/no-valid-answer when no holder of some keys answered usably, client/stale or
   * client/no-certificate when the answers could not be brought to a certified, fresh root.
   */
  async read(
    keys: readonly string[],
    opts: { forExecute?: boolean } & CallOptions = {},
  ): Promise<ReadResult> {
    const dl = this.deadline(opts, "read");
    return dl.run(this.readWithin(keys, opts.forExecute ?? false, dl));
  }

  async get(keys: readonly string[], opts?: CallOptions): Promise<Map<string, Uint8Array | null>> {
    return (await this.read(keys, opts)).values;
  }

  /** A read, retried (stale answers, unjoinable heights, nodes unreachable) while time is left. */
  /** `hashKeys`: keys (among `keys`) read with their value hash only. */
  private async readWithin(
    keys: readonly string[],
    forExecute: boolean,
    dl: Deadline,
    hashKeys: readonly string[] = [],
  ): Promise<ReadResult> {
    const ks = sortKeys(keys);
    if (ks.length === 0 || ks.length > MAX_TOUCHED_KEYS)
      throw new ArborError("client/bad-keys", `read 1..${MAX_TOUCHED_KEYS} keys`);
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.readOnce(ks, forExecute, dl, hashKeys);
        if (r.height > this.readHeight) this.readHeight = r.height;
        return r;
      } catch (e) {
        if (e instanceof VerificationError && e.code !== "client/stale" && e.code !== "client/join-failed")
          throw e;
        const pause = Math.min(READ_RETRY_STEP_MS * attempt, READ_RETRY_MAX_MS);
        if (dl.left <= pause) throw e;
        await dl.sleep(pause);
      }
    }
  }

  private async readOnce(
    keys: string[],
    forExecute: boolean,
    dl: Deadline,
    hashKeys: readonly string[],
  ): Promise<ReadResult> {
    // Group keys by a holder set; ask every holder of a group, keep the first valid answer; no
    // answer older than a receipt this client has seen.
    const byHolders = new Map<string, { holders: number[]; keys: string[]; hashKeys: string[] }>();
    for (const k of keys) {
      const h = this.holders(k);
      const id = h.join(",");
      const g = byHolders.get(id) ?? { holders: h, keys: [], hashKeys: [] };
      g.keys.push(k);
      if (hashKeys.includes(k)) g.hashKeys.push(k);
      byHolders.set(id, g);
    }
    const groups = [...byHolders.values()];
    const answers = await Promise.all(
      groups.map((g) =>
        this.firstValid(g.holders, g.keys, forExecute, this.seenHeight, dl, false, g.hashKeys),
      ),
    );
    for (let round = 0; ; round++) {
      const joined = joinAnswers(answers.map((a) => a.answer));
      if (joined !== null)
        return readResult(
          keys,
          joined,
          answers.map((a) => a.statement),
        );
      if (round >= JOIN_ROUNDS)
        throw new VerificationError(
          "client/join-failed",
          "answers from different heights could not be joined",
        );
      // A record beside an older answer's keys changed before the newest answer's height (likely
      // when blocks are busy): only answers at one height join. Ask the other groups for an answer
      // at exactly the newest height; if nodes keep moving past it, the last round asks every
      // group for the next height, which each holder answers as soon as it has applied it (only
      // then: on an idle cluster the next block may be long in coming).
      const top = answers.reduce(
        (h, a) => (a.statement.statement.height > h ? a.statement.statement.height : h),
        0n,
      );
      const target = round < JOIN_ROUNDS - 1 ? top : top + 1n;
      await Promise.all(
        answers.map(async (a, i) => {
          if (a.statement.statement.height !== target)
            answers[i] = await this.firstValid(
              groups[i]!.holders,
              groups[i]!.keys,
              forExecute,
              target,
              dl,
              true,
              groups[i]!.hashKeys,
            );
        }),
      );
    }
  }

  /**
   * Asks every holder of `keys` at once and takes the first valid answer at `minHeight` or later.
   * Replies are checked one at a time in arrival order, a later one only when those before it
   * failed: each check costs a signature verification (and maybe a certificate), and the first
   * reply is nearly always good. With `exact`, a reply from a node already past `minHeight` is
   * checked only when no holder's reply at exactly `minHeight` verifies: a holder that reaches
   * `minHeight` answers exactly there, and only answers at one height join. Holders this client
   * avoids are asked only when none of the others gives a valid answer.
   */
  private async firstValid(
    holders: number[],
    keys: string[],
    forExecute: boolean,
    minHeight: bigint,
    dl: Deadline,
    exact = false,
    hashKeys: readonly string[] = [],
  ): Promise<Answer> {
    const errors: string[] = [];
    const failures: unknown[] = [];
    // Without this, a key whose every holder was caught lying (and excluded) would wait forever.
    if (holders.length === 0)
      throw new VerificationError(
        "client/all-holders-excluded",
        `every node holding ${keys[0]}${keys.length > 1 ? " (and more)" : ""} was caught lying`,
      );
    const what = `${keys[0]}${keys.length > 1 ? ` (and ${keys.length - 1} more)` : ""} (nodes ${holders.join(", ")})`;
    dl.waitingFor(
      "client/no-valid-answer",
      () => `no holder of ${what} answered${errors.length ? `: ${errors.join("; ")}` : ""}`,
    );
    const ordered = this.penalties.order(holders);
    const first = ordered.filter((id) => !this.penalties.isAvoided(id));
    /** Avoided holders, asked once the others have all failed. */
    const backup = first.length === 0 ? [] : ordered.slice(first.length);
    return new Promise((resolve, reject) => {
      let waiting = 0;
      let checking = false;
      let done = false;
      const replies: Array<{ id: number; reply: GetReply }> = [];
      /** With `exact`: replies from past `minHeight`, checked only if no holder answers exactly there. */
      const later: Array<{ id: number; reply: GetReply }> = [];
      const failed = (id: number, e: unknown) => {
        errors.push(`node ${id}: ${e instanceof Error ? e.message : String(e)}`);
        failures.push(e);
      };
      const next = (): void => {
        if (done || checking) return;
        const item = replies.shift() ?? (waiting === 0 ? later.shift() : undefined);
        if (item) {
          checking = true;
          this.checkAnswer(item.id, item.reply, keys, minHeight, dl, hashKeys).then(
            (a) => {
              checking = false;
              done = true;
              resolve(a);
              for (const r of [...replies.splice(0), ...later.splice(0)])
                this.crossCheck(r.id, r.reply, keys, minHeight, hashKeys);
            },
            (e) => {
              checking = false;
              failed(item.id, e);
              next();
            },
          );
          return;
        }
        if (waiting > 0) return;
        if (backup.length > 0) return ask(backup.splice(0));
        done = true;
        const stale = errors.every((m) => m.includes("client/stale"));
        // Every holder answered and no answer verified: asking again would not change that.
        const refuted = failures.every((f) => f instanceof VerificationError && f.code !== "client/stale");
        reject(
          stale
            ? new VerificationError("client/stale", errors.join("; "))
            : refuted
              ? new VerificationError(
                  "client/no-valid-answer",
                  `no holder of ${what} answered with a usable proof: ${errors.join("; ")}`,
                )
              : new UnavailableError(
                  "client/no-valid-answer",
                  `no holder of ${what} answered: ${errors.join("; ")}`,
                ),
        );
      };
      const ask = (ids: number[]) => {
        waiting += ids.length;
        for (const id of ids)
          this.node(id)
            .get(keys, { forExecute, hashKeys, minHeight, timeoutMs: dl.cap(Infinity) })
            .then(
              (reply) =>
                done
                  ? this.crossCheck(id, reply, keys, minHeight, hashKeys)
                  : (exact && statementHeight(reply) > minHeight ? later : replies).push({ id, reply }),
              (e) => failed(id, e),
            )
            .finally(() => {
              waiting--;
              next();
            });
      };
      ask(first.length > 0 ? first : ordered);
    });
  }

  /**
   * Checks, in the background, a reply that came after the one a read used: a node whose signed
   * root contradicts a certified one is caught (kept as evidence, no longer asked) even when its
   * answers are never the first. At most MAX_CROSS_CHECKS wait and one runs every
   * CROSS_CHECK_INTERVAL_MS, so under load most are dropped rather than compete with the reads;
   * a liar's answer still gets checked whenever it is the first to arrive.
   */
  private crossCheck(
    id: number,
    reply: GetReply,
    keys: string[],
    minHeight: bigint,
    hashKeys: readonly string[],
  ): void {
    if (this.excluded.has(id) || this.crossChecks.length >= MAX_CROSS_CHECKS) return;
    this.crossChecks.push(() =>
      this.checkAnswer(id, reply, keys, minHeight, undefined, hashKeys).then(() => undefined),
    );
    if (this.crossCheckTimer) return;
    const run = () => {
      const check = this.crossChecks.shift();
      if (!check) return void (this.crossCheckTimer = null);
      void check()
        .catch(() => undefined)
        .finally(() => {
          this.crossCheckTimer = setTimeout(run, CROSS_CHECK_INTERVAL_MS);
          this.crossCheckTimer.unref();
        });
    };
    this.crossCheckTimer = setTimeout(run, 0);
    this.crossCheckTimer.unref();
  }

  /** Verifies one holder's reply: signature, freshness, proof, and (by default) the certified root. */
  private async checkAnswer(
    id: number,
    r: GetReply,
    keys: string[],
    minHeight: bigint,
    dl?: Deadline,
    hashKeys: readonly string[] = [],
  ): Promise<Answer> {
    const node = this.genesis.nodes.find((n) => n.id === id)!;
    const st = this.checkStatement(node, r.statement, r.signature);
    const floor = minHeight > this.seenHeight ? minHeight : this.seenHeight;
    if (st.height < floor)
      throw new VerificationError("client/stale", `node ${id} is at height ${st.height}, behind ${floor}`);
    // A root statement covers any proof against its root (checked below); another names its proof.
    if (
      !bytesEqual(st.proofDigest, ROOT_STATEMENT_DIGEST) &&
      !bytesEqual(proofDigest(r.proof), st.proofDigest)
    )
      throw new VerificationError("client/proof-mismatch", "the proof is not the one the node signed", id);
    let d;
    try {
      d = decodeProof(r.proof);
    } catch (e) {
      throw new VerificationError(
        "client/bad-proof",
        `node ${id}: ${e instanceof Error ? e.message : String(e)}`,
        id,
      );
    }
    if (!bytesEqual(d.rootLabel, st.root))
      throw new VerificationError(
        "client/root-mismatch",
        `node ${id}'s proof is not against the root it signed`,
        id,
      );
    // Signed and valid, yet useless if a stub (or a leaf without its value) stands where an asked
    // record's path ends: the node is avoided for a while, and another holder's answer is used.
    const uncovered = keys.find((k) => {
      const p = provenState(d.root, keyPath(k));
      return !p.covered || (p.present && p.value === null && !hashKeys.includes(k));
    });
    if (uncovered !== undefined) {
      this.penalties.avoid(id);
      throw new VerificationError("client/not-covered", `node ${id}'s proof does not cover ${uncovered}`, id);
    }
    const signed = this.keepEvidence({ node: id, statement: st, bytes: r.statement, signature: r.signature });
    if (this.verifyReads) await this.checkCertified(st, id, dl);
    return { answer: { timestamp: st.timestamp, root: d.root, paths: keys.map(keyPath) }, statement: signed };
  }

  /**
   * A node's status, its reported height, timestamp and root checked against the statement it
   * signed (kept, like every signed statement, as potential evidence).
   */
  async nodeStatus(id: number, timeoutMs = 3000): Promise<StatusReply> {
    const node = this.genesis.nodes.find((n) => n.id === id);
    if (!node) throw new ArborError("client/unknown-node", `no node ${id} in the genesis`);
    const r = await this.node(id).status(timeoutMs);
    const st = this.checkStatement(node, r.statement, r.signature);
    if (
      st.height !== r.height ||
      st.timestamp !== r.timestamp ||
      !bytesEqual(st.root, r.root) ||
      !bytesEqual(st.proofDigest, ROOT_STATEMENT_DIGEST)
    )
      throw new VerificationError("client/bad-statement", `node ${id} reports what it did not sign`, id);
    this.keepEvidence({ node: id, statement: st, bytes: r.statement, signature: r.signature });
    return r;
  }

  private checkStatement(node: GenesisNode, bytes: Uint8Array, signature: Uint8Array): GetStatement {
    let st: GetStatement;
    try {
      st = decodeStatement(bytes);
    } catch {
      throw new VerificationError(
        "client/bad-statement",
        `node ${node.id} sent an undecodable statement`,
        node.id,
      );
    }
    if (st.node !== node.id || !bytesEqual(st.chain, this.chain))
      throw new VerificationError(
        "client/bad-statement",
        `node ${node.id}'s statement names another node or chain`,
        node.id,
      );
    // A node signs one root statement per height and attaches it to every reply at that height:
    // each is verified once.
    const id = `${node.id}:${toHex(signature)}`;
    const known = this.verifiedStatements.get(id);
    if (known && bytesEqual(known, bytes)) return st;
    if (!verify(node.publicKey, statementSigningMessage(bytes), signature))
      throw new VerificationError(
        "client/bad-signature",
        `node ${node.id}'s statement signature is invalid`,
        node.id,
      );
    if (this.verifiedStatements.size >= MAX_VERIFIED_STATEMENTS)
      this.verifiedStatements.delete(this.verifiedStatements.keys().next().value!);
    this.verifiedStatements.set(id, bytes);
    return st;
  }

  /** Keeps a statement as potential evidence; returns the kept one (the same statement kept earlier). */
  private keepEvidence(s: SignedStatement): SignedStatement {
    // Replies at one height share their node's statement: keep it once.
    for (let i = this.evidence.length - 1; i >= Math.max(0, this.evidence.length - 16); i--) {
      const e = this.evidence[i]!;
      if (e.node === s.node && bytesEqual(e.signature, s.signature) && bytesEqual(e.bytes, s.bytes)) return e;
    }
    this.evidence.push(s);
    if (this.evidence.length > 256) this.evidence.shift();
    return s;
  }

  /** The statement's root must be the certified root at its height (a forged root is caught here). */
  private async checkCertified(st: GetStatement, from: number, dl?: Deadline): Promise<void> {
    if (st.height === 0n) return this.checkGenesisRoot(st, from);
    let cert: CertifiedHeader;
    try {
      cert = await this.certifiedWithin(st.height, from, dl ?? this.deadline(undefined, "certifiedHeader"));
    } catch (e) {
      // Light mode keeps only the newest validator set: an answer from before it is too old to check.
      if (e instanceof VerificationError && e.code === "light/before-trusted-set")
        throw new VerificationError("client/stale", `node ${from}: ${e.message}`, from);
      throw e;
    }
    if (!bytesEqual(cert.header.root, st.root)) {
      // Caught lying: keep the proof of it for a complaint, and stop asking this node.
      const signed = this.evidence.find(
        (e) => e.node === from && e.statement.height === st.height && bytesEqual(e.statement.root, st.root),
      );
      if (signed)
        this.addSuspect(
          from,
          encodeEvidence({
            kind: "forged-statement",
            signed: wire(signed),
            certificate: encodeCertifiedHeader(cert),
          }),
        );
      this.excluded.add(from);
      throw new VerificationError(
        "client/forged-root",
        `node ${from} signed root ${toHex(st.root)} at height ${st.height}, certified root is ${toHex(cert.header.root)}`,
        from,
      );
    }
  }

  private async checkGenesisRoot(st: GetStatement, from: number): Promise<void> {
    // Height 0 has no certificate; its root is a function of the genesis document we hold.
    const { genesisRoot } = await import("./genesis-root.js");
    if (!bytesEqual(genesisRoot(this.genesis), st.root))
      throw new VerificationError("client/forged-root", `node ${from} signed a wrong genesis root`, from);
  }

  /**
   * A certified header at `height`, verified against the validator set: in light mode through the
   * light client (stepping through validator-set changes); otherwise from any node, checked
   * against the genesis set and cached. Fails with client/no-certificate by the call's deadline.
   */
  async certifiedHeader(height: bigint, prefer?: number, opts?: CallOptions): Promise<CertifiedHeader> {
    const dl = this.deadline(opts, "certifiedHeader");
    return dl.run(this.certifiedWithin(height, prefer, dl));
  }

  private async certifiedWithin(
    height: bigint,
    prefer: number | undefined,
    dl: Deadline,
  ): Promise<CertifiedHeader> {
    dl.waitingFor("client/no-certificate", () => `no certified header for height ${height} from any node`);
    if (this.light) return this.lightHeader(height, dl);
    const have = verifiedHeader(this.chain, height, this.history.setAt(height));
    if (have) return have;
    // Reads answered at one height share one fetch and one certificate check.
    let pending = this.certifying.get(height);
    if (!pending) {
      pending = this.fetchCertified(height, prefer).finally(() => this.certifying.delete(height));
      this.certifying.set(height, pending);
    }
    return pending;
  }

  /**
   * Asks one node at a time — first `prefer` (the node that answered a read at this height has
   * applied it, so its certificate forms there first) — waiting at the node up to
   * CERTIFICATE_WAIT_MS for the header to be certified rather than polling every node.
   */
  private async fetchCertified(height: bigint, prefer?: number): Promise<CertifiedHeader> {
    const ids = this.penalties.order(this.genesis.nodes.map((n) => n.id));
    const order = prefer === undefined ? ids : [prefer, ...ids.filter((id) => id !== prefer)];
    const deadline = Date.now() + CERTIFICATE_DEADLINE_MS;
    while (Date.now() < deadline) {
      for (const id of order) {
        const left = deadline - Date.now();
        if (this.excluded.has(id) || left <= 0) continue;
        try {
          // The call ends soon after the wait: a node that hangs must not hold the search.
          const wait = Math.min(CERTIFICATE_WAIT_MS, left);
          const r = await this.node(id).headers(height, 1, wait, Math.min(left, wait + CERTIFICATE_WAIT_MS));
          const b = r.headers[0];
          if (!b) continue;
          const c = decodeCertifiedHeader(b);
          if (c.header.height !== height || !bytesEqual(c.header.chain, this.chain)) continue;
          let set = this.history.setAt(height);
          if (!bytesEqual(c.header.validatorsHash, validatorsHash(set))) {
            // Another set signs here: learn the changes decided up to this height from this node
            // (each certified by the set before it), then check again.
            const t = await nodeHeaderSource(this.node(id)).transitions(this.history.learnedUpTo, height);
            this.history.learn(t);
            set = this.history.setAt(height);
          }
          const known = verifiedHeader(this.chain, height, set);
          if (known) return known;
          if (!verifyCertificate(c, set, clientVerifier).ok) continue;
          rememberVerifiedHeader(c);
          return c;
        } catch {
          /* try the next node */
        }
      }
      await sleep(25);
    }
    throw new UnavailableError(
      "client/no-certificate",
      `no certified header for height ${height} from any node within ${CERTIFICATE_DEADLINE_MS} ms`,
    );
  }

  /** Light mode: one header fetch at a time (the light client's state moves forward in order). */
  private lightHeader(height: bigint, dl: Deadline): Promise<CertifiedHeader> {
    const run = this.lightQueue.then(() => this.lightHeaderNow(height, dl));
    this.lightQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Asks the current header node first, then the others (nodes caught lying last); a node that is
   * unreachable or has no certificate yet is retried for a while, one that serves something that
   * does not verify is passed over. Fails with client/unverifiable-header when every node served
   * something unverifiable.
   */
  private async lightHeaderNow(height: bigint, dl: Deadline): Promise<CertifiedHeader> {
    const light = this.light!;
    let errors: string[] = [];
    for (let round = 0; round < 40 && !dl.expired; round++) {
      const others = this.genesis.nodes.map((n) => n.id).filter((id) => id !== this.lightNode);
      const order = [
        this.lightNode,
        ...others.filter((id) => !this.excluded.has(id)),
        ...others.filter((id) => this.excluded.has(id)),
      ];
      errors = [];
      let unverifiable = 0;
      for (const id of order) {
        if (id !== this.lightNode) {
          this.lightNode = id;
          this.lightFailovers++;
        }
        try {
          return await light.header(height);
        } catch (e) {
          if (e instanceof VerificationError && e.code === "light/before-trusted-set") throw e;
          errors.push(`node ${id}: ${errorText(e)}`);
          const transient =
            typeof (e as { code?: unknown }).code === "number" ||
            (e instanceof VerificationError && e.code === "light/no-header");
          if (!transient) unverifiable++;
        }
      }
      if (unverifiable === order.length)
        throw new VerificationError(
          "client/unverifiable-header",
          `no node served a verifiable header at height ${height}: ${errors.join("; ")}`,
        );
      await dl.sleep(25);
    }
    throw new UnavailableError(
      "client/no-certificate",
      `no certified header for height ${height} from any node: ${errors.join("; ")}`,
    );
  }

  // --- writes -----------------------------------------------------------------------------

  /** Signs a request (reading a fresh proof unless one is given). Returns the signed bytes. */
  async prepare(o: ExecuteOptions): Promise<Uint8Array> {
    const dl = this.deadline(o, "prepare");
    return dl.run(this.prepareWithin(o, dl));
  }

  private async prepareWithin(o: ExecuteOptions, dl: Deadline): Promise<Uint8Array> {
    const touched = sortKeys(o.touched);
    let proof = o.proof;
    let from: bigint;
    if (proof === undefined) {
      // The operation's record is read and sent with its value hash only: nodes take the module
      // from their code book (docs/protocol.md §5). A touched operation key needs its value.
      const hashKeys = touched.includes(o.op) ? [] : [o.op];
      const read = await this.readWithin([o.op, ...touched], true, dl, hashKeys);
      proof = encodeProof(
        pruneProof(
          decodeProof(read.proof).root,
          sortKeys([o.op, ...touched]).map(keyPath),
          0,
          hashKeys.map(keyPath),
        ),
      );
      from = read.height;
    } else from = o.validUntil === undefined ? await this.knownHeight() : 0n;
    const body = encodeRequestBody({
      op: o.op,
      touched,
      proof,
      args: o.args ?? new Uint8Array(0),
      gasLimit: o.gasLimit ?? 10_000_000n,
      caller: this.key.publicKey,
      nonce: this.nonce++,
      validUntil: o.validUntil ?? from + BigInt(DEFAULT_REQUEST_LIFETIME_BLOCKS),
    });
    return assembleSignedRequest(body, sign(this.key, requestSigningMessage(body)));
  }

  /**
   * The newest height this client knows of: from receipts and reads, or else the highest any node
   * reports (a lifetime from it only needs to be roughly right: too far ahead is refused at the
   * door as `bad-lifetime`, too far behind as `expired`; neither can apply anything).
   */
  private async knownHeight(): Promise<bigint> {
    let h = this.seenHeight > this.readHeight ? this.seenHeight : this.readHeight;
    if (h > 0n) return h;
    const replies = await Promise.all(
      this.genesis.nodes.map((n) =>
        this.nodeStatus(n.id).then(
          (s) => s.height,
          () => 0n,
        ),
      ),
    );
    for (const x of replies) if (x > h) h = x;
    return h;
  }

  /**
   * Submits signed request bytes to one node (the next in a rotating order; nodes avoided for now
   * last; a node that does not answer within SUBMIT_ANSWER_MS is replaced at once) and waits for a
   * receipt signed alike by f+1 nodes. While no receipt has come, the same bytes go to one more
   * node every SUBMIT_FALLBACK_MS: a faulty node that admits a request and drops it delays it by
   * one interval and cannot censor it (at most f nodes are faulty). The same bytes reaching several
   * nodes are ordered once: the pool and the ledger key them by id. `opts` is the deadline (a
   * number: milliseconds, the older form).
   */
  async submit(request: Uint8Array, opts?: number | CallOptions): Promise<TrustedReceipt> {
    const dl = this.deadline(opts, "submit");
    return dl.run(this.submitWithin(request, dl));
  }

  private async submitWithin(request: Uint8Array, dl: Deadline): Promise<TrustedReceipt> {
    const id = decodeAnyRequest(request).id;
    // Learn evictions once before the first write, so the request is not handed to a node the
    // cluster no longer listens to (best effort, and briefly: f+1 submission covers one such node).
    if (!this.membershipKnown) {
      this.membershipKnown = true;
      const brief = new Deadline(Math.min(dl.left / 2, MEMBERSHIP_REFRESH_MS), "refreshMembership");
      await brief.run(this.refreshWithin(brief)).catch(() => undefined);
    }
    const order = this.penalties.order(this.liveOrder());
    dl.waitingFor(
      "client/unavailable",
      () => `no node admitted the request (asked nodes ${order.join(", ")})`,
    );
    const first = await admitRequest({
      id,
      order,
      want: 1,
      dl,
      execute: (node, ms) => this.node(node).execute(request, ms),
      slow: (node) => this.penalties.avoid(node),
    });
    const others = order.filter((n) => n !== first);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const handOn = (): void => {
      const node = others.shift();
      if (node === undefined || dl.expired) return;
      this.node(node)
        .execute(request, dl.cap(Infinity))
        .catch(() => undefined);
      timer = setTimeout(handOn, SUBMIT_FALLBACK_MS);
      timer.unref?.();
    };
    timer = setTimeout(handOn, SUBMIT_FALLBACK_MS);
    timer.unref?.();
    try {
      return await this.receiptWithin(id, dl, [first]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A trusted receipt for a request id (docs/protocol.md §6). The nodes that admitted the request
   * (`first`) are asked first, then the others (nodes avoided for now last), one more every
   * RECEIPT_FALLBACK_MS while none has given a receipt that verifies: a receipt whose inclusion
   * path leads to the receipt root of the certified header of its height is trusted from that one
   * node (the certificate is checked once per height per process). A node that fails, or sends a
   * receipt for another request or with a wrong path, is avoided for a while and the next is asked
   * at once. f+1 equal signed receipts are the other way: asked for when the client wants the
   * early answer (`earlyReceipts`), and needed for a refusal that does not settle a request by
   * itself (receipt-check.ts `outcomeByPath`). Fails with client/no-receipt by the deadline
   * (`opts`; a number: milliseconds, the older form).
   */
  async receipt(
    id: Uint8Array,
    opts?: number | CallOptions,
    first: readonly number[] = [],
  ): Promise<TrustedReceipt> {
    const dl = this.deadline(opts, "receipt");
    return dl.run(this.receiptWithin(id, dl, first));
  }

  private receiptWithin(id: Uint8Array, dl: Deadline, first: readonly number[]): Promise<TrustedReceipt> {
    const need = this.f + 1;
    const live = this.penalties.order(
      this.genesis.nodes.filter((n) => !this.excluded.has(n.id)).map((n) => n.id),
    );
    const order = [...new Set([...first.filter((x) => live.includes(x)), ...live])];
    let signed = this.earlyReceipts;
    const byBytes = new Map<string, { bytes: Uint8Array; signers: number[] }>();
    const failed: string[] = [];
    const asked: number[] = [];
    const waiting = () => {
      const best = Math.max(0, ...[...byBytes.values()].map((e) => e.signers.length));
      return (
        `no receipt for request ${toHex(id).slice(0, 16)} verified: asked nodes ${asked.join(", ")}` +
        (signed ? `, at most ${best} of f+1 = ${need} signed the same receipt` : "") +
        (failed.length ? `; ${failed.join("; ")}` : "")
      );
    };
    dl.waitingFor("client/no-receipt", waiting);
    return new Promise((resolve, reject) => {
      if (order.length === 0)
        return reject(new UnavailableError("client/no-receipt", "no receipt: every node is excluded"));
      let next = 0;
      let pending = 0;
      let done = false;
      let hedge: NodeJS.Timeout | undefined;
      const fallback = setInterval(() => askNext(), RECEIPT_FALLBACK_MS);
      fallback.unref?.();
      const finish = (f: () => void) => {
        done = true;
        clearTimeout(hedge);
        clearInterval(fallback);
        f();
      };
      const settle = (t: TrustedReceipt) => {
        if (t.receipt.height > this.seenHeight) this.seenHeight = t.receipt.height;
        finish(() => resolve(t));
      };
      const askNext = () => {
        if (done || dl.expired) return;
        const nodeId = order[next++];
        if (nodeId !== undefined) ask(nodeId);
      };
      const widen = () => {
        while (!done && !dl.expired && next < order.length) askNext();
      };
      const bad = (nodeId: number, why: string) => {
        failed.push(why);
        this.penalties.avoid(nodeId);
        askNext();
      };
      /** Switches to f+1 signed receipts: the first f+1 nodes are asked again, signed this time. */
      const needSignatures = () => {
        if (signed) return;
        signed = true;
        for (const nodeId of order.slice(0, need)) ask(nodeId);
        next = Math.max(next, need);
      };
      const countSigned = (nodeId: number, bytes: Uint8Array, signature: Uint8Array): boolean => {
        const n = this.genesis.nodes.find((x) => x.id === nodeId)!;
        if (!verify(n.publicKey, receiptSigningMessage(bytes), signature)) {
          bad(nodeId, `node ${nodeId} sent a receipt signature that does not verify`);
          return false;
        }
        const k = toHex(bytes);
        const e = byBytes.get(k) ?? { bytes, signers: [] };
        if (!e.signers.includes(nodeId)) e.signers.push(nodeId);
        byBytes.set(k, e);
        if (e.signers.length >= need) {
          settle({
            receipt: decodeReceipt(e.bytes),
            bytes: e.bytes,
            backing: "signatures",
            signers: e.signers,
            servedBy: e.signers,
          });
          return false;
        }
        if (byBytes.size > 1) widen();
        else hedge ??= setTimeout(widen, RECEIPT_HEDGE_MS);
        return true;
      };
      const ask = (nodeId: number) => {
        pending++;
        asked.push(nodeId);
        this.node(nodeId)
          .waitReceipt(id, dl.cap(Infinity), dl.cap(Infinity), signed)
          .then(async (r) => {
            if (done) return;
            if (r.node !== nodeId) return bad(nodeId, `node ${nodeId} sent a receipt that is not its own`);
            let o: OpenedReceipt;
            try {
              o = openReceipt(id, { ...r, node: nodeId });
            } catch (e) {
              return bad(nodeId, errorText(e));
            }
            if (r.signature.length > 0 && !countSigned(nodeId, r.receipt, r.signature)) return;
            // A refusal of one copy of the request is in its block's receipt root, but only the
            // receipt nodes keep (f+1 signed alike) says how the request ended.
            if (!outcomeByPath(o.receipt)) return needSignatures();
            const cert = await this.receiptHeader(o.receipt.height, nodeId, dl);
            dl.waitingFor("client/no-receipt", waiting);
            if (done) return;
            try {
              checkAgainstHeader(o, cert.header, nodeId);
            } catch (e) {
              return bad(nodeId, errorText(e));
            }
            settle({
              receipt: o.receipt,
              bytes: o.bytes,
              backing: "header",
              header: cert,
              signers: cert.signatures.map((x) => x.signer),
              servedBy: [nodeId],
            });
          })
          .catch((e: unknown) => {
            dl.waitingFor("client/no-receipt", waiting);
            failed.push(`node ${nodeId}: ${errorText(e)}`);
            askNext();
          })
          .finally(() => {
            if (--pending > 0 || done) return;
            widen();
            if (pending === 0) finish(() => reject(dl.error()));
          });
      };
      const initial = signed ? need : 1;
      for (let i = 0; i < initial; i++) askNext();
    });
  }

  /**
   * The certified header of a receipt's height, waited for until the deadline: a block's receipts
   * are served as soon as it is applied, its header is certified one signature exchange later.
   */
  private async receiptHeader(height: bigint, from: number, dl: Deadline): Promise<CertifiedHeader> {
    for (;;) {
      try {
        return await this.certifiedWithin(height, from, dl);
      } catch (e) {
        if (!(e instanceof UnavailableError) || dl.expired) throw e;
        await dl.sleep(25);
      }
    }
  }

  /** Prepare + submit. Throws RequestRejected when the receipt says rejected. */
  async execute(o: ExecuteOptions): Promise<TrustedReceipt> {
    const dl = this.deadline(o, "execute");
    return dl.run(this.executeWithin(o, dl));
  }

  private async executeWithin(o: ExecuteOptions, dl: Deadline): Promise<TrustedReceipt> {
    // Through the public prepare (with the time left): a caller may wrap it, e.g. to sign with a
    // proof of its own on the first attempt.
    const r = await this.submitWithin(await this.prepare({ ...o, timeoutMs: dl.cap(Infinity) }), dl);
    if (r.receipt.status === "rejected")
      throw new RequestRejected(r.receipt.reason, r.receipt.message || r.receipt.reason, r.receipt.requestId);
    return r;
  }

  /**
   * Like execute, but re-reads and retries (up to `attempts` times, while the deadline allows)
   * when the proof went stale or a record changed.
   */
  async transact(o: Omit<ExecuteOptions, "proof">, attempts = 5): Promise<TrustedReceipt> {
    const dl = this.deadline(o, "transact");
    return dl.run(
      (async () => {
        for (let i = 1; ; i++) {
          try {
            return await this.executeWithin(o, dl);
          } catch (e) {
            if (i >= attempts || dl.expired || !(e instanceof RequestRejected) || !RETRYABLE.has(e.code))
              throw e;
          }
        }
      })(),
    );
  }

  createDomain(name: string, opts?: CallOptions): Promise<TrustedReceipt> {
    return this.execute({
      op: ".root_rule",
      touched: [".base_rule_template", `${name}/.base_rule`, `${name}/.owner`],
      args: new Writer().string(name).bytes(this.key.publicKey).finish(),
      ...(opts?.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  }

  /** Writes (or removes, with null) records of a domain this client owns, through its .base_rule. */
  async writeRecords(
    domain: string,
    writes: ReadonlyArray<readonly [string, Uint8Array | null]>,
    opts?: CallOptions,
  ): Promise<TrustedReceipt> {
    for (const [, v] of writes) if (v !== null) checkValueSize(v.length);
    const w = new Writer().varint(writes.length);
    for (const [k, v] of writes) {
      w.string(k);
      if (v === null) w.u8(0);
      else w.u8(1).bytes(v);
    }
    return this.transact({
      op: `${domain}/.base_rule`,
      touched: [`${domain}/.owner`, ...writes.map(([k]) => k)],
      args: w.finish(),
      ...(opts?.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  }

  async deployOp(key: string, wasm: Uint8Array, opts?: CallOptions): Promise<TrustedReceipt> {
    const slash = key.lastIndexOf("/");
    if (slash <= 0) throw new ArborError("client/bad-op-key", "an operation key is DOMAIN/NAME");
    checkModuleSize(wasm.length);
    return this.writeRecords(key.slice(0, slash), [[key, wasm]], opts);
  }

  /** Nodes not caught lying, starting at a different one for each request (load spreading). */
  private liveOrder(): number[] {
    const ids = this.genesis.nodes.map((n) => n.id).filter((id) => !this.excluded.has(id));
    if (ids.length === 0) return ids;
    const start = Number(this.nonce % BigInt(ids.length));
    return [...ids.slice(start), ...ids.slice(0, start)];
  }

  close(): void {
    this.crossChecks.length = 0;
    if (this.crossCheckTimer) clearTimeout(this.crossCheckTimer);
    for (const c of this.conns.values()) c.close();
  }
}

export interface AuditOptions extends CallOptions {
  /** how many nodes to ask (the first N by id; default all) */
  readonly sample?: number;
  /** the key each node is asked for (default `.root_rule`) */
  readonly key?: string;
  /** ask for values, not only hashes (default false) */
  readonly values?: boolean;
}

/**
 * What an encoded piece of evidence claims, without judging it: its kind, the node it accuses and
 * the height (for statements), or — for a double vote — the consensus epoch and round (the accused
 * is known for epoch 0, the genesis set, only). Throws the codec's error when it does not decode.
 */
export function describeEvidence(
  bytes: Uint8Array,
  genesis: Genesis,
): { kind: Evidence["kind"]; accused?: number; height?: bigint; epoch?: number; round?: number } {
  const e = decodeEvidence(bytes);
  const st = (b: Uint8Array) => decodeStatement(b);
  if (e.kind === "forged-statement") {
    const s = st(e.signed.statement);
    return { kind: e.kind, accused: s.node, height: s.height };
  }
  if (e.kind === "conflicting-statements") {
    const s = st(e.a.statement);
    return { kind: e.kind, accused: s.node, height: s.height };
  }
  const m = decodeMessage(e.first);
  if (m.kind !== "vote") return { kind: e.kind };
  const ids = genesis.nodes.map((n) => n.id).sort((x, y) => x - y);
  return {
    kind: e.kind,
    epoch: m.vote.epoch,
    round: m.vote.round,
    ...(m.vote.epoch === 0 && ids[m.vote.signer] !== undefined ? { accused: ids[m.vote.signer] } : {}),
  };
}

function errorText(e: unknown): string {
  const d = (e as { details?: unknown } | null)?.details;
  if (typeof d === "string" && d !== "") return d.replace(/\s*Resolution note:\s*$/, "");
  return e instanceof Error ? e.message : String(e);
}

/** The values `keys` have in a joined proof, with the proof and the newest statement's root. */
function readResult(keys: readonly string[], joined: ProofNode, statements: SignedStatement[]): ReadResult {
  const newest = statements.reduce((a, b) => (a.statement.timestamp >= b.statement.timestamp ? a : b));
  const values = new Map<string, Uint8Array | null>();
  for (const k of keys) {
    const s = provenState(joined, keyPath(k));
    if (!s.covered) throw new VerificationError("client/not-covered", `no proof covers ${k}`);
    values.set(k, s.present ? s.value : null);
  }
  return {
    values,
    proof: encodeProof(joined),
    root: newest.statement.root,
    height: newest.statement.height,
    timestamp: newest.statement.timestamp,
    statements,
  };
}

/** The height a reply's statement claims, unverified (-1 when it does not decode). */
function statementHeight(r: GetReply): bigint {
  try {
    return decodeStatement(r.statement).height;
  } catch {
    return -1n;
  }
}

/** A kept statement as evidence carries it: the signed bytes. */
function wire(s: SignedStatement): { statement: Uint8Array; signature: Uint8Array } {
  return { statement: s.bytes, signature: s.signature };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export type { ProofNode };
