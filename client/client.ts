// ArborClient: the SDK. A thin front over layers that import one way — the session (nodes and
// their connections), certified headers, verified reads, membership, request preparation, writes
// and receipts, audit and complaints. Reads are routed to the holders of each key, verified (node
// signature, proof, and — by default — the root against a certified header), joined into one
// proof against the newest root; writes are signed requests whose receipt is trusted once f+1
// nodes signed the same receipt.

import { sortKeys } from "../node/ledger/request.js";
import { Queries, type HistoryPage, type KeyVersion, type ListedKey, type ListPage } from "./queries.js";
import type { HistoryCursor } from "../node/store/core/key-history.js";
import { MAX_HISTORY_PAGE, MAX_LIST_PAGE } from "../node/common/limits.js";
import { ArborError } from "../node/common/errors.js";
import { RequestRejected } from "./errors.js";
import { checkModuleSize, checkValueSize } from "../node/common/bounds.js";
import { genesisFromJson, type Genesis, type GenesisNode } from "../node/ledger/genesis.js";
import type { CertifiedHeader } from "../node/ledger/header.js";
import type { ProofNode } from "../node/store/core/proof.js";
import type { ClientKey } from "./crypto.js";
import { callTimeout, Deadline, type CallOptions } from "./deadline.js";
import type { NodeConnection } from "./transport.js";
import { Session } from "./session.js";
import { Headers } from "./headers.js";
import { Reads } from "./reads.js";
import { EvictionRecords } from "./membership.js";
import { Members } from "./members.js";
import type { Approval, MemberChange } from "../node/ledger/member-request.js";
import { Prepare } from "./prepare.js";
import { Submit } from "./submit.js";
import { Audit } from "./audit.js";
import { Complaints } from "./complaints.js";
import { learnGenesis } from "./genesis-fetch.js";
import { catchUp } from "./freshness.js";
import { searchVerified, type SearchOptions, type SearchResult } from "./search.js";
import {
  DEFAULT_CALL_TIMEOUT_MS,
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
  type ConnectOptions,
  type ExecuteOptions,
  type LightStats,
  type ReadResult,
  type SignedStatement,
  type TrustedReceipt,
} from "./types.js";
import type { StatusReply } from "../proto/gen/arbor/v1/client_pb.js";
import { baseRuleCall, createDomainCall } from "../node/common/system-calls.js";

export { describeEvidence } from "./audit.js";
export {
  DEFAULT_CALL_TIMEOUT_MS,
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
  type ConnectOptions,
  type ExecuteOptions,
  type LightStats,
  type NodeAudit,
  type ReadResult,
  type SignedStatement,
  type TrustedReceipt,
} from "./types.js";

/** Options of `list`. */
export interface ListOptions extends CallOptions {
  /** keys after this one only (the previous page's `next`) */
  readonly after?: string | undefined;
  /** 1..1,000 keys per page (default 1,000) */
  readonly limit?: number;
  /** ask this node only */
  readonly node?: number;
  /** a node answers at this height or later */
  readonly minHeight?: bigint;
}

/** Options of `history`. */
export interface HistoryOptions extends CallOptions {
  /** where the page starts (the previous page's `next`); default: the newest change */
  readonly cursor?: HistoryCursor | undefined;
  /** 1..1,000 changes per page (default 1,000) */
  readonly limit?: number;
  /** ask this node only */
  readonly node?: number;
  /** a node answers at this height or later */
  readonly minHeight?: bigint;
}

export class ArborClient {
  private readonly s: Session;
  private readonly headers: Headers;
  private readonly reads: Reads;
  private readonly membership: EvictionRecords;
  private readonly preparer: Prepare;
  private readonly writes: Submit;
  private readonly auditor: Audit;
  private readonly complaints: Complaints;
  private readonly queries: Queries;
  private readonly members: Members;
  /** The connections, by node id (tests reach them to wrap calls). */
  protected readonly conns: Map<number, NodeConnection>;

  private constructor(
    readonly genesis: Genesis,
    opts: ConnectOptions,
  ) {
    this.s = new Session(genesis, opts);
    this.conns = this.s.conns;
    this.headers = new Headers(this.s, opts);
    this.reads = new Reads(this.s, this.headers);
    this.membership = new EvictionRecords(this.s, this.reads);
    this.preparer = new Prepare(this.s, this.reads);
    // Writes sign through the public prepare: a caller may wrap it.
    this.writes = new Submit(this.s, this.membership, this.headers, (o) => this.prepare(o));
    this.auditor = new Audit(this.s, this.headers, this.membership);
    this.complaints = new Complaints(this.s, this.reads, this.writes);
    this.queries = new Queries(this.s, this.headers);
    this.members = new Members(this.s, this.reads, this.queries);
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
      g = await dl.run(learnGenesis(opts.endpoints, dl, opts.chainId, opts.tls));
    }
    return new ArborClient(g, opts);
  }

  get chain(): Uint8Array {
    return this.s.chain;
  }
  get key(): ClientKey {
    return this.s.key;
  }
  get f(): number {
    return this.s.f;
  }
  /** Highest height this client has seen in a receipt: reads are at least this fresh. */
  get seenHeight(): bigint {
    return this.s.seenHeight;
  }
  set seenHeight(h: bigint) {
    this.s.seenHeight = h;
  }
  get verifyReads(): boolean {
    return this.s.verifyReads;
  }
  /** Signed statements kept as potential evidence (bounded, newest last). */
  get evidence(): SignedStatement[] {
    return this.s.evidence;
  }
  /** Proofs of misbehaviour found so far (by reads or audits), ready for `complain`. */
  get suspects(): Array<{ readonly accused: number; readonly evidence: Uint8Array }> {
    return this.s.suspects;
  }
  /** Nodes caught lying: not asked again. */
  get excluded(): Set<number> {
    return this.s.excluded;
  }
  /** Every call's deadline unless the call names its own. */
  get timeoutMs(): number {
    return this.s.timeoutMs;
  }

  /** Whether this client runs in light mode. */
  get isLight(): boolean {
    return this.headers.isLight;
  }

  /** What light mode has downloaded so far (throws when the client is not in light mode). */
  lightStats(): LightStats {
    return this.headers.lightStats();
  }

  /** The members this client knows: the genesis nodes, then as member records read say (memberRecords). */
  get nodes(): readonly GenesisNode[] {
    return this.s.nodes;
  }

  node(id: number): NodeConnection {
    return this.s.node(id);
  }

  /** Nodes that store the key in full (nodes caught lying are left out). */
  holders(key: string): number[] {
    return this.s.holders(key);
  }

  /** Nodes this client avoids now (asked last), ascending. */
  avoided(): number[] {
    return this.s.penalties.avoided();
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
    const dl = this.s.deadline(opts, "read");
    return dl.run(this.reads.readWithin(keys, opts.forExecute ?? false, dl));
  }

  /**
   * Verified values of `keys`. With `height`: the values they had at that block (within the
   * chain's retention window), read through their histories (docs/protocol.md §15).
   */
  async get(
    keys: readonly string[],
    opts?: CallOptions & { readonly height?: bigint },
  ): Promise<Map<string, Uint8Array | null>> {
    if (opts?.height === undefined) return (await this.read(keys, opts)).values;
    const dl = this.s.deadline(opts, "get");
    return dl.run(this.queries.valuesAt(sortKeys(keys), opts.height, dl));
  }

  /**
   * Raises this client's freshness floor to the newest height whose certificate a node shows
   * (docs/protocol.md §8, "Fresh enough") and returns the floor: later reads, listings and
   * histories are no older than any write whose receipt was trusted before. For a client with no
   * past of its own, such as one CLI command (a long-lived client keeps its floor from its own
   * receipts and reads). Best effort: when no node proves a newer height in time, the floor stays
   * as it was. Light mode keeps its own (the light client's trusted header).
   */
  async catchUp(opts?: CallOptions): Promise<bigint> {
    if (this.isLight) return this.s.floorHeight;
    const dl = this.s.deadline(opts, "catchUp");
    return dl.run(catchUp(this.s, this.headers, dl));
  }

  /**
   * A node's status, its reported height, timestamp and root checked against the statement it
   * signed (kept, like every signed statement, as potential evidence).
   */
  nodeStatus(id: number, timeoutMs = 3000): Promise<StatusReply> {
    return this.reads.nodeStatus(id, timeoutMs);
  }

  /**
   * A certified header at `height`, verified against the validator set: in light mode through the
   * light client (stepping through validator-set changes); otherwise from any node, checked
   * against the genesis set and cached. Fails with client/no-certificate by the call's deadline.
   */
  async certifiedHeader(height: bigint, prefer?: number, opts?: CallOptions): Promise<CertifiedHeader> {
    const dl = this.s.deadline(opts, "certifiedHeader");
    return dl.run(this.headers.certifiedWithin(height, prefer, dl));
  }

  /**
   * Searches an off-chain index (`arbor index`, docs/index.md) and re-reads every hit with a
   * verified GET: only keys whose proven current value contains the query's words come back. The
   * index is not trusted — it can hide results, but it cannot forge one.
   */
  search(text: string, opts: SearchOptions): Promise<SearchResult> {
    return searchVerified((keys, o) => this.get(keys, o), text, opts);
  }

  // --- listings and histories -------------------------------------------------------------

  /**
   * A page of the keys under `prefix` in UTF-8 byte order (at most `limit`, default 1,000), proven
   * complete against a certified index root: pass the page's `next` as `after` for the next page.
   * Removed keys are listed with a null value hash (their history stays). `node`: ask that node
   * only (its failure is the call's); otherwise a node whose page fails verification is left out
   * and the next is asked.
   */
  async list(prefix: string, opts: ListOptions = {}): Promise<ListPage> {
    const dl = this.s.deadline(opts, "list");
    return dl.run(this.queries.list(prefix, { ...opts, limit: opts.limit ?? MAX_LIST_PAGE }, dl));
  }

  /** Every key under `prefix` (removed ones too when `removed`), page by page, each page verified. */
  async *listAll(prefix: string, opts: ListOptions & { removed?: boolean } = {}): AsyncGenerator<ListedKey> {
    let after = opts.after;
    let minHeight = opts.minHeight ?? 0n;
    for (;;) {
      const page = await this.list(prefix, { ...opts, after, minHeight });
      for (const e of page.entries) if (e.valueHash !== null || opts.removed) yield e;
      if (page.done) return;
      // Pages never go back in height: each is complete at its height, and heights only rise.
      after = page.next!;
      minHeight = page.height;
    }
  }

  /**
   * A page of the changes of `key`, newest first (at most `limit`, default 1,000), each chained to
   * the key's history head in a certified index root: pass the page's `next` as `cursor` for the
   * older changes. A key never written has an empty history (proven absent).
   */
  async history(key: string, opts: HistoryOptions = {}): Promise<HistoryPage> {
    const dl = this.s.deadline(opts, "history");
    return dl.run(this.queries.history(key, { ...opts, limit: opts.limit ?? MAX_HISTORY_PAGE }, dl));
  }

  /** The changes of `key` made in blocks fromHeight..toHeight (inclusive; default: all), newest first. */
  async *historyAll(
    key: string,
    opts: HistoryOptions & { fromHeight?: bigint; toHeight?: bigint } = {},
  ): AsyncGenerator<KeyVersion> {
    let cursor = opts.cursor;
    for (;;) {
      const page = await this.history(key, { ...opts, cursor });
      for (const c of page.changes) {
        if (opts.fromHeight !== undefined && c.height < opts.fromHeight) return;
        if (opts.toHeight === undefined || c.height <= opts.toHeight) yield c;
      }
      if (!page.next) return;
      cursor = page.next;
    }
  }

  // --- writes -----------------------------------------------------------------------------

  /** Signs a request (reading a fresh proof unless one is given). Returns the signed bytes. */
  async prepare(o: ExecuteOptions): Promise<Uint8Array> {
    const dl = this.s.deadline(o, "prepare");
    return dl.run(this.preparer.prepareWithin(o, dl));
  }

  /**
   * Submits signed request bytes to one node and waits for a receipt signed alike by f+1 nodes;
   * the same bytes go to one more node every SUBMIT_FALLBACK_MS while none has come (see
   * client/submit.ts). `opts` is the deadline (a number: milliseconds, the older form).
   */
  submit(request: Uint8Array, opts?: number | CallOptions): Promise<TrustedReceipt> {
    return this.writes.submit(request, opts);
  }

  /**
   * Waits for f+1 equal, validly signed receipts for a request id, asking `first` (then others)
   * first. Fails with client/no-receipt by the deadline (`opts`; a number: milliseconds).
   */
  receipt(
    id: Uint8Array,
    opts?: number | CallOptions,
    first: readonly number[] = [],
  ): Promise<TrustedReceipt> {
    return this.writes.receipt(id, opts, first);
  }

  /** Prepare + submit. Throws RequestRejected when the receipt says rejected. */
  execute(o: ExecuteOptions): Promise<TrustedReceipt> {
    return this.writes.execute(o);
  }

  /**
   * Like execute, but re-reads and retries (up to `attempts` times, while the deadline allows)
   * when the proof went stale or a record changed.
   */
  transact(o: Omit<ExecuteOptions, "proof">, attempts = 5): Promise<TrustedReceipt> {
    return this.writes.transact(o, attempts);
  }

  createDomain(name: string, opts?: CallOptions): Promise<TrustedReceipt> {
    return this.execute({
      ...createDomainCall(name, this.key.publicKey),
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
    return this.transact({
      ...baseRuleCall(domain, writes),
      ...(opts?.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  }

  async deployOp(key: string, wasm: Uint8Array, opts?: CallOptions): Promise<TrustedReceipt> {
    const slash = key.lastIndexOf("/");
    if (slash <= 0) throw new ArborError("client/bad-op-key", "an operation key is DOMAIN/NAME");
    checkModuleSize(wasm.length);
    return this.writeRecords(key.slice(0, slash), [[key, wasm]], opts);
  }

  // --- membership, audit, complaints ------------------------------------------------------

  /**
   * Reads the member records and the eviction records of the system domain (verified like any
   * read): added members are asked from now on, removed and evicted ones no longer. Returns the
   * evicted node ids.
   */
  async refreshMembership(opts?: CallOptions): Promise<number[]> {
    const dl = this.s.deadline(opts, "refreshMembership");
    return dl.run(
      (async () => {
        // Added and removed members first (a chain before membership changes lists the genesis).
        await this.members.recordsWithin(dl);
        return this.membership.refreshWithin(dl);
      })(),
    );
  }

  /** The member records (id, key, address, prefixes) at a certified height, verified. */
  async memberRecords(opts?: CallOptions): Promise<{ height: bigint; records: GenesisNode[] }> {
    const dl = this.s.deadline(opts, "memberRecords");
    return dl.run(this.members.recordsWithin(dl));
  }

  /**
   * Files a MEMBER request: add a node, remove one, or repair the replication after an eviction.
   * `approvers` sign the change (the genesis governance keys, or 2f+1 validator keys when the
   * genesis names none); `approvals` adds signatures gathered elsewhere for the same `at`
   * (nonce, validUntil). Resolves with the trusted receipt; a rejected change throws
   * RequestRejected with its reason (member-unauthorised, member-exists, …).
   */
  async changeMembership(
    change: MemberChange,
    o: CallOptions & {
      approvers?: readonly ClientKey[];
      approvals?: readonly Approval[];
      at?: { nonce: bigint; validUntil: bigint };
    } = {},
  ): Promise<TrustedReceipt> {
    const dl = this.s.deadline(o, "changeMembership");
    const r = await dl.run(
      this.members
        .requestWithin(change, o.approvers ?? [], o.approvals ?? [], dl, o.at)
        .then((bytes) => this.writes.submitWithin(bytes, dl)),
    );
    if (r.receipt.status === "rejected")
      throw new RequestRejected(r.receipt.reason, r.receipt.message || r.receipt.reason, r.receipt.requestId);
    this.s.membershipKnown = false;
    return r;
  }

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
    const dl = this.s.deadline(opts, "audit");
    return dl.run(this.auditor.auditWithin(opts, dl));
  }

  /**
   * Misbehaviour the nodes' consensus witnessed (a validator's two conflicting votes), fetched
   * from `sample` nodes and checked here as every node will check it: only proven offences of
   * the genesis validator set are returned (and kept in `suspects`). A lying node can hand out
   * garbage, never evidence against an honest node: that needs the accused's own signatures.
   */
  async witnessedEvidence(opts: { sample?: number } & CallOptions = {}): Promise<AuditFinding[]> {
    const dl = this.s.deadline(opts, "witnessedEvidence");
    return dl.run(this.auditor.witnessedWithin(opts, dl));
  }

  /**
   * A signed COMPLAIN with `evidence` (encoded), carrying a fresh proof that the accused is not yet
   * evicted. `accused` defaults to the node the evidence names (see `describeEvidence`).
   */
  async prepareComplaint(evidence: Uint8Array, accused?: number, opts?: CallOptions): Promise<Uint8Array> {
    const dl = this.s.deadline(opts, "prepareComplaint");
    return dl.run(this.complaints.complaintWithin(evidence, accused, dl));
  }

  /** Files a COMPLAIN with evidence against `accused` (default: whom it names); resolves with the trusted receipt. */
  complain(evidence: Uint8Array, accused?: number, opts?: CallOptions): Promise<TrustedReceipt> {
    return this.complaints.complain(evidence, accused, opts);
  }

  close(): void {
    this.reads.close();
    this.s.close();
  }
}

export type { ProofNode };
