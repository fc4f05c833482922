// The nodes of one chain as a client sees them: a connection to each, who holds which key, who
// has been caught lying or is avoided for now, and the statements and evidence collected so far.
// Every layer of the SDK (headers, reads, writes, audit) shares one session per ArborClient.

import { bytesEqual } from "../node/common/bytes.js";
import { chainId, type Genesis, type GenesisNode } from "../node/ledger/genesis.js";
import { Partition } from "../node/store/core/partition.js";
import { keyPath } from "../node/store/core/path.js";
import { generateKey, type ClientKey } from "./crypto.js";
import { callTimeout, Closer, Deadline, type CallOptions } from "./deadline.js";
import { PenaltyBox } from "./penalty-box.js";
import { NodeConnection } from "./transport.js";
import { StatementChecker } from "./verify.js";
import { MAX_KEPT_STATEMENTS } from "./limits.js";
import { HolderChoice } from "./holder-choice.js";
import { DEFAULT_CALL_TIMEOUT_MS, type ConnectOptions, type SignedStatement } from "./types.js";

export class Session {
  readonly chain: Uint8Array;
  readonly key: ClientKey;
  readonly f: number;
  readonly conns = new Map<number, NodeConnection>();
  private readonly partitions: Map<number, Partition>;
  nonce = BigInt(Date.now()) * 1000n;
  /**
   * Where this client's rotation over the nodes starts: random, so that short-lived clients (one
   * CLI command each) do not all ask the same node first — the nonce alone starts at a multiple of
   * 1,000, hence at node 0 of 4 (load spreading only: nothing depends on it).
   */
  private readonly spread = BigInt(Math.floor(Math.random() * 1_000_000));
  /** Highest height this client has seen in a receipt: reads are at least this fresh. */
  seenHeight = 0n;
  /** Highest height of a read this client verified against a certified root. */
  readHeight = 0n;
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
  readonly penalties = new PenaltyBox();
  /** How fast each node has answered reads: a read asks the fastest holder first. */
  readonly speed = new HolderChoice();
  /** Node statements, each signature verified once. */
  readonly statements: StatementChecker;
  /** Every call's deadline unless the call names its own. */
  readonly timeoutMs: number;
  /** Whether evictions have been read since the last complaint (writes read them first). */
  membershipKnown = false;
  /** The members known: the genesis nodes, then as verified member records say (adoptMembers). */
  nodes: GenesisNode[];
  private readonly connTimeoutMs: number | undefined;
  /** Closed by close(): every call's deadline ends with it. */
  private readonly closing = new Closer();

  private readonly tls: ConnectOptions["tls"];

  constructor(
    readonly genesis: Genesis,
    opts: ConnectOptions,
  ) {
    this.chain = chainId(genesis);
    this.key = opts.key ?? generateKey();
    this.verifyReads = opts.light === true || (opts.verify ?? true);
    this.earlyReceipts = opts.earlyReceipts === true;
    this.timeoutMs = callTimeout(opts.timeoutMs, DEFAULT_CALL_TIMEOUT_MS);
    this.f = Math.floor((genesis.nodes.length - 1) / 3);
    this.statements = new StatementChecker(this.chain);
    this.partitions = new Map(genesis.nodes.map((n) => [n.id, new Partition(n.prefixes)]));
    this.nodes = [...genesis.nodes];
    this.connTimeoutMs = opts.timeoutMs;
    this.tls = opts.tls;
    for (const n of genesis.nodes)
      this.conns.set(n.id, new NodeConnection(n.address, opts.timeoutMs, opts.tls));
  }

  /**
   * Takes the member records read and verified at a certified height as the membership: added
   * nodes get a connection, changed prefixes move the holders, and a node without a record (it
   * was removed) is not asked again.
   */
  adoptMembers(records: readonly GenesisNode[]): void {
    const ids = new Set(records.map((r) => r.id));
    for (const r of records) {
      this.partitions.set(r.id, new Partition(r.prefixes));
      if (!this.conns.has(r.id))
        this.conns.set(r.id, new NodeConnection(r.address, this.connTimeoutMs, this.tls));
    }
    for (const n of this.nodes) if (!ids.has(n.id)) this.excluded.add(n.id);
    const known = new Map(this.nodes.map((n) => [n.id, n]));
    for (const r of records) known.set(r.id, r);
    this.nodes = [...known.values()].sort((a, b) => a.id - b.id);
  }

  node(id: number): NodeConnection {
    return this.conns.get(id)!;
  }

  /** The genesis entry of node `id`. */
  member(id: number): GenesisNode | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  /** Nodes that store the key in full (nodes caught lying are left out). */
  holders(key: string): number[] {
    const p = keyPath(key);
    return this.nodes
      .filter((n) => !this.excluded.has(n.id) && this.partitions.get(n.id)!.holdsKey(p))
      .map((n) => n.id);
  }

  /**
   * The lowest height an answer this client uses may be at: no read, listing or history older than
   * a receipt it trusts or a certified read it made (monotonic reads, docs/protocol.md §8). A read
   * taken uncertified (unverified mode) does not count: a lying node could push it out of reach.
   */
  get floorHeight(): bigint {
    const read = this.verifyReads ? this.readHeight : 0n;
    return read > this.seenHeight ? read : this.seenHeight;
  }

  /** Notes the height of an answer just verified against a certified root. */
  sawCertified(height: bigint): void {
    if (height > this.readHeight) this.readHeight = height;
  }

  /** Nodes not caught lying, starting at a different one for each request (load spreading). */
  liveOrder(): number[] {
    const ids = this.nodes.map((n) => n.id).filter((id) => !this.excluded.has(id));
    if (ids.length === 0) return ids;
    const start = Number((this.nonce + this.spread) % BigInt(ids.length));
    return [...ids.slice(start), ...ids.slice(0, start)];
  }

  /** A deadline for one public call: `o` names it, or the client's `timeoutMs`; `close` ends it. */
  deadline(o: number | CallOptions | undefined, call: string): Deadline {
    return new Deadline(callTimeout(o, this.timeoutMs), call, this.closing);
  }

  addSuspect(accused: number, evidence: Uint8Array): void {
    if (this.suspects.some((s) => s.accused === accused)) return;
    this.suspects.push({ accused, evidence });
  }

  /** Keeps a statement as potential evidence; returns the kept one (the same statement kept earlier). */
  keepEvidence(s: SignedStatement): SignedStatement {
    // Replies at one height share their node's statement: keep it once.
    for (let i = this.evidence.length - 1; i >= Math.max(0, this.evidence.length - 16); i--) {
      const e = this.evidence[i]!;
      if (e.node === s.node && bytesEqual(e.signature, s.signature) && bytesEqual(e.bytes, s.bytes)) return e;
    }
    this.evidence.push(s);
    if (this.evidence.length > MAX_KEPT_STATEMENTS) this.evidence.shift();
    return s;
  }

  /** Whether close() was called: loops of their own (not under a call's deadline) stop. */
  get closed(): boolean {
    return this.closing.closed;
  }

  close(): void {
    this.closing.close();
    for (const c of this.conns.values()) c.close();
  }
}
