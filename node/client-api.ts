// The client API a node serves (proto/arbor/v1/client.proto): verified reads with the node's signed
// root statement, admission of signed requests (handed to the consensus once per event-loop turn),
// receipts with their inclusion paths, certified headers and validator-set transitions, evidence,
// the genesis and the node's status. The streamed forms of reads, admission, receipt waits and
// header requests are served through client-streams.ts.

import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  ExecuteAckSchema,
  GetReplySchema,
  GetRequestSchema,
  TaggedGetReplySchema,
  TaggedHeadersReplySchema,
  HeadersReplySchema,
  HeadersRequestSchema,
  SignedReceiptSchema,
  StatusReplySchema,
  GenesisReplySchema,
  EvidenceReplySchema,
  type GetReply,
  type TaggedGetRequest,
  type TaggedGetReply,
  type TaggedHeadersRequest,
  type TaggedHeadersReply,
  type HeadersReply,
  type ReceiptStreamReply,
  type ExecuteAck,
  type ExecuteRequest,
  type GetRequest,
  type ChunkRequest,
  type HeadersRequest,
  type ReceiptQuery,
  type ReceiptSubscription,
  type SignedReceipt,
  type ListRequest,
  type SnapshotRequest,
  type HistoryRequest,
  type HistoryReply,
  type TaggedHistoryRequest,
  type TaggedHistoryReply,
  HistoryRequestSchema,
  TaggedHistoryReplySchema,
  type ChangesRequest,
  type BlockReceiptsRequest,
} from "../proto/gen/arbor/v1/client_pb.js";
import type { QueryApi } from "./query-api.js";
import { grpcError, nodeFault } from "../proto/grpc.js";
import { bytesEqual, fromHex } from "./common/bytes.js";
import { ArborError } from "./common/errors.js";
import { hostOf } from "./net/unfinished-calls.js";
import {
  ADMISSION_BATCH_REQUESTS,
  MAX_STREAM_GETS,
  STATUS_CENSUS_INTERVAL_MS,
  MAX_STREAM_HEADER_REQUESTS,
  MAX_SUBSCRIPTION_IDS,
  MAX_STREAM_HISTORY_REQUESTS,
  MAX_STREAM_RECEIPT_WAITS,
  MAX_RECEIPT_WAITS,
  MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST,
  MAX_HEADER_WAIT_MS,
  MAX_GET_PROOF_BYTES,
  MAX_TOUCHED_KEYS,
} from "./common/limits.js";
import { keyPath } from "./store/core/path.js";
import { prove, ProveError } from "./store/core/proof.js";
import { encodeProof } from "./store/core/proof-codec.js";
import type { LevelStore } from "./store/level-store.js";
import type { Ledger } from "./ledger/ledger.js";
import { encodeCertifiedHeader } from "./ledger/header.js";
import { encodeValidators } from "./ledger/validators-codec.js";
import { ROOT_STATEMENT_DIGEST, encodeStatement, statementSigningMessage } from "./ledger/statement.js";
import { genesisToJson, type Genesis, type GenesisNode } from "./ledger/genesis.js";
import type { Membership } from "./membership.js";
import { signWith, type KeyPair } from "./keys.js";
import { receiptSigningMessage } from "./ledger/receipt.js";
import type { ReceiptBook, ServedReceipt } from "./receipts.js";
import { SubscriptionBacklog } from "./subscription-backlog.js";
import type { HeaderCertifier } from "./certifier.js";
import type { EvidenceBook } from "./evidence-book.js";
import type { ServedView } from "./block-pipeline.js";
import type { ReadGate } from "./read-gate.js";
import type { TobShell } from "./tob/shell.js";
import type { PeerNet } from "./net/peer-net.js";
import { forgeChunk, forgePage, forgeProof, forgeReceipt, stubRecords, type Byzantine } from "./byzantine.js";
import type { PartitionSync } from "./partition-sync.js";
import type { SnapshotMaker } from "./snapshot/snapshot-maker.js";
import { Kind } from "./store/core/node.js";
import type { MerkleTree } from "./store/core/tree.js";
import { failpoint } from "./failpoints.js";
import type { MetricsHooks } from "./metrics.js";
import type { ReceiptStore } from "./receipt-store.js";
import { serveBlockReceipts } from "./block-receipts-api.js";
import {
  receiptWaitMs,
  serveExecuteStream,
  serveReceiptStream,
  serveTagged,
  TOO_MANY_WAITS,
} from "./client-streams.js";

export const NODE_VERSION = "0.1.0";

export interface ClientApiDeps {
  readonly genesis: Genesis;
  readonly chain: Uint8Array;
  /** this node's member record (its prefixes change with a repair) */
  me(): GenesisNode;
  readonly key: KeyPair;
  readonly store: LevelStore;
  readonly ledger: Ledger;
  readonly tob: TobShell;
  readonly net: PeerNet;
  readonly certifier: HeaderCertifier;
  readonly receipts: ReceiptBook;
  /** every receipt of a block (GetBlockReceipts) */
  readonly receiptStore: ReceiptStore;
  readonly evidence: EvidenceBook;
  readonly membership: Membership;
  readonly reads: ReadGate;
  readonly view: () => ServedView;
  readonly closing: () => boolean;
  /** started with --join and not caught up yet (node/join-gate.ts) */
  readonly joining: () => boolean;
  /** the node left the membership (removed or evicted) and serves no client */
  readonly left: () => boolean;
  readonly byzantine?: Byzantine;
  /** counts admissions and GET replies (node/metrics.ts) */
  readonly metrics: MetricsHooks;
  /** listings and key histories */
  readonly queries: QueryApi;
  /** chunks of prefixes this node holds, for nodes taking them on (GetChunk) */
  readonly chunks: PartitionSync;
  /** snapshots this node serves to joining nodes (GetSnapshot) */
  readonly snapshots: SnapshotMaker;
  /**
   * Why a call from `host` whose reply may be large (Get, List, History, GetBlockReceipts,
   * GetSnapshot) is refused now (`rpc/busy`: too many bytes of replies not taken by their askers),
   * or null (node/net/unfinished-calls.ts)
   */
  readonly replyRoom?: (host: string) => string | null;
}

/** A subscription reply's bytes besides its receipt, signature and path (fields and framing). */
const SUBSCRIPTION_REPLY_OVERHEAD = 32;

/** What Status reports of the tree's storage. */
type Census = ReturnType<MerkleTree["census"]>;

export class ClientApi {
  /** The signed root statement of the current height (signedStatement). */
  private rootStatement: { height: bigint; statement: Uint8Array; signature: Uint8Array } | null = null;
  /** Requests admitted in this event-loop turn, submitted to the consensus together at its end. */
  private admitted: Uint8Array[] = [];
  private admittedFlush: NodeJS.Immediate | null = null;
  /** The last storage census Status reported, and what it was taken at (STATUS_CENSUS_INTERVAL_MS). */
  private census: { at: number; counts: Census } | null = null;
  /** What receipt subscriptions hold unsent (subscribe). */
  private readonly subscriptionBacklog = new SubscriptionBacklog();

  constructor(private readonly d: ClientApiDeps) {}

  private get height(): bigint {
    return this.d.view().height;
  }

  private get root(): Uint8Array {
    return this.d.view().root;
  }

  /**
   * SubscribeReceipts: every receipt (or those of the ids named) as blocks are applied, while the
   * subscriber keeps up (SubscriptionBacklog: one that leaves too much unsent is cut off with
   * `stream/slow-reader`; its slot and what it holds count until its stream is gone).
   */
  private subscribe(call: grpc.ServerWritableStream<ReceiptSubscription, SignedReceipt>): void {
    const account = this.subscriptionBacklog.open();
    let cut = false;
    const host = hostOf(call.getPeer());
    const unsubscribe = this.d.receipts.subscribe(
      call.request.requestIds,
      call.request.signed,
      (r) => {
        if (cut) return;
        const bytes =
          SUBSCRIPTION_REPLY_OVERHEAD + r.receipt.length + r.signature.length + 32 * r.path.length;
        if (!account.take(bytes)) {
          cut = true;
          // An "error" event ends a server stream with this status (destroy would send none).
          return void call.emit(
            "error",
            grpcError(
              grpc.status.RESOURCE_EXHAUSTED,
              "stream/slow-reader: the subscriber leaves too many receipts unread; wait for them with WaitReceipts",
            ),
          );
        }
        call.write(this.receiptReply(r), () => account.sent(bytes));
      },
      host,
      () => {
        cut = true;
        call.emit(
          "error",
          grpcError(
            grpc.status.RESOURCE_EXHAUSTED,
            "stream/evicted: every subscription slot is taken and this address holds the most; its oldest subscription gave its place to a less busy caller (subscribe again later, or wait with WaitReceipts)",
          ),
        );
      },
    );
    if (typeof unsubscribe === "string") {
      account.close();
      const why =
        unsubscribe === "too-many"
          ? "too many subscriptions"
          : `too many subscriptions from ${host} (at most ${MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST} per address)`;
      return void call.emit("error", grpcError(grpc.status.RESOURCE_EXHAUSTED, `stream/too-many: ${why}`));
    }
    const gone = () => {
      unsubscribe();
      account.close();
    };
    call.on("cancelled", gone);
    call.on("close", gone);
  }

  /** The handlers of the Arbor service. */
  service(): grpc.UntypedServiceImplementation {
    return {
      get: (call: grpc.ServerUnaryCall<GetRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        // Looked at again when the read is answered: it may have waited for its height meanwhile.
        const room = this.roomFor(call);
        this.roomy(room, cb, () => this.serveGet(call.request, cb, room));
      },
      getStream: (call: grpc.ServerDuplexStream<TaggedGetRequest, TaggedGetReply>) =>
        serveTagged<TaggedGetRequest, GetRequest, GetReply, TaggedGetReply>(call, {
          bound: MAX_STREAM_GETS,
          what: "reads",
          inner: (t) => t.request ?? create(GetRequestSchema, {}),
          serve: (r, cb) => this.serveGet(r, cb),
          frame: (tag, e, reply) =>
            create(TaggedGetReplySchema, e ? { tag, code: e.code, message: e.details } : { tag, reply }),
        }),
      execute: (call: grpc.ServerUnaryCall<ExecuteRequest, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, this.admit(call.request.request)),
      executeStream: (call: grpc.ServerDuplexStream<ExecuteRequest, ExecuteAck>) =>
        serveExecuteStream(call, (request) => this.admit(request)),
      waitReceipt: (call: grpc.ServerUnaryCall<ReceiptQuery, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        this.waitReceipt(call.request, cb),
      getBlockReceipts: (
        call: grpc.ServerUnaryCall<BlockReceiptsRequest, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) =>
        this.roomy(this.roomFor(call), cb, () =>
          serveBlockReceipts(
            { receiptStore: this.d.receiptStore, height: () => this.height, byzantine: this.d.byzantine },
            call.request,
            cb,
          ),
        ),
      waitReceipts: (call: grpc.ServerDuplexStream<ReceiptQuery, ReceiptStreamReply>) =>
        serveReceiptStream(call, {
          book: this.d.receipts,
          bound: MAX_STREAM_RECEIPT_WAITS,
          reply: (r) => this.receiptReply(r),
        }),
      subscribeReceipts: (call: grpc.ServerWritableStream<ReceiptSubscription, SignedReceipt>) => {
        const ids = call.request.requestIds;
        const bad =
          ids.length > MAX_SUBSCRIPTION_IDS
            ? `receipts/too-many-ids: at most ${MAX_SUBSCRIPTION_IDS} request ids`
            : ids.some((id) => id.length !== 32)
              ? "receipts/bad-id: request id must be 32 bytes"
              : null;
        if (bad !== null) return void call.emit("error", grpcError(grpc.status.INVALID_ARGUMENT, bad));
        this.subscribe(call);
      },
      getHeaders: (call: grpc.ServerUnaryCall<HeadersRequest, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        this.getHeaders(call.request, cb),
      getHeadersStream: (call: grpc.ServerDuplexStream<TaggedHeadersRequest, TaggedHeadersReply>) =>
        serveTagged<TaggedHeadersRequest, HeadersRequest, HeadersReply, TaggedHeadersReply>(call, {
          bound: MAX_STREAM_HEADER_REQUESTS,
          what: "header requests",
          inner: (t) => t.request ?? create(HeadersRequestSchema, {}),
          serve: (r, cb) => this.getHeaders(r, cb),
          frame: (tag, e, reply) =>
            create(TaggedHeadersReplySchema, e ? { tag, code: e.code, message: e.details } : { tag, reply }),
        }),
      getEvidence: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        cb(null, create(EvidenceReplySchema, { items: this.d.evidence.list() }));
      },
      genesis: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        cb(
          null,
          create(GenesisReplySchema, { genesisJson: genesisToJson(this.d.genesis), chainId: this.d.chain }),
        );
      },
      status: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, this.status()),
      getChunk: (call: grpc.ServerUnaryCall<ChunkRequest, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        this.d.chunks.serve(
          call.request,
          cb,
          this.d.byzantine === "forge-chunk" ? forgeChunk : undefined,
          hostOf(call.getPeer()),
        ),
      getSnapshot: (call: grpc.ServerUnaryCall<SnapshotRequest, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        this.roomy(this.roomFor(call), cb, () =>
          this.d.snapshots.serve(
            call.request,
            cb,
            this.d.byzantine === "forge-snapshot" ? forgePage : undefined,
          ),
        ),
      list: (call: grpc.ServerUnaryCall<ListRequest, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        this.roomy(this.roomFor(call), cb, () => this.d.queries.list(call.request, cb)),
      history: (call: grpc.ServerUnaryCall<HistoryRequest, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        this.roomy(this.roomFor(call), cb, () => this.d.queries.history(call.request, cb)),
      historyStream: (call: grpc.ServerDuplexStream<TaggedHistoryRequest, TaggedHistoryReply>) =>
        serveTagged<TaggedHistoryRequest, HistoryRequest, HistoryReply, TaggedHistoryReply>(call, {
          bound: MAX_STREAM_HISTORY_REQUESTS,
          what: "history requests",
          inner: (t) => t.request ?? create(HistoryRequestSchema, {}),
          serve: (r, cb) => this.d.queries.history(r, cb),
          frame: (tag, e, reply) =>
            create(TaggedHistoryReplySchema, e ? { tag, code: e.code, message: e.details } : { tag, reply }),
        }),
      getChanges: (call: grpc.ServerUnaryCall<ChangesRequest, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        this.d.queries.feed(call.request, cb),
    };
  }

  private waitReceipt(q: ReceiptQuery, cb: grpc.sendUnaryData<unknown>): void {
    const id = q.requestId;
    if (id.length !== 32)
      return cb(grpcError(grpc.status.INVALID_ARGUMENT, "receipts/bad-id: request id must be 32 bytes"));
    if (this.d.receipts.waiting >= MAX_RECEIPT_WAITS)
      return cb(grpcError(grpc.status.RESOURCE_EXHAUSTED, TOO_MANY_WAITS));
    void this.d.receipts.wait(id, receiptWaitMs(q), q.signed).then(
      (r) =>
        r
          ? cb(null, this.receiptReply(r))
          : cb(grpcError(grpc.status.DEADLINE_EXCEEDED, "receipts/timeout: no receipt yet")),
      (e) => cb(nodeFault(e)),
    );
  }

  private receiptReply(r: ServedReceipt): SignedReceipt {
    if (this.d.byzantine === "forge-receipt") r = this.forgedReceipt(r);
    return create(SignedReceiptSchema, {
      receipt: r.receipt,
      node: this.d.me().id,
      signature: r.signature,
      leafCount: r.count,
      path: [...r.path],
    });
  }

  /** Test-only (node/byzantine.ts): the receipt with the opposite outcome, signed if asked to be. */
  private forgedReceipt(r: ServedReceipt): ServedReceipt {
    const receipt = forgeReceipt(r.receipt);
    const signature =
      r.signature.length > 0 ? signWith(this.d.key, receiptSigningMessage(receipt)) : r.signature;
    return { ...r, receipt, signature };
  }

  /** Serves one header request (GetHeaders and GetHeadersStream). */
  private getHeaders(q: HeadersRequest, cb: (e: grpc.ServiceError | null, r?: HeadersReply) => void): void {
    if (q.transitionsOnly) {
      void this.transitions(q.fromHeight, q.untilHeight).then(
        (r) => cb(null, create(HeadersReplySchema, r)),
        (e) => cb(nodeFault(e)),
      );
      return;
    }
    const { fromHeight, maxCount, waitMs } = q;
    void this.d.certifier
      .whenCertified(fromHeight, Math.min(waitMs, MAX_HEADER_WAIT_MS))
      .then(() => this.d.certifier.range(fromHeight, maxCount || 64))
      .then(
        (headers) => cb(null, create(HeadersReplySchema, { headers })),
        (e) => cb(nodeFault(e)),
      );
  }

  /**
   * The tree's storage census, counted at most once per STATUS_CENSUS_INTERVAL_MS: a count walks
   * the whole tree, so one per Status would let any caller make the node walk it at will.
   */
  private storageCensus(): Census {
    const now = performance.now();
    if (this.census === null || now - this.census.at >= STATUS_CENSUS_INTERVAL_MS)
      this.census = { at: now, counts: this.d.store.history.tree.census() };
    return this.census.counts;
  }

  private status() {
    const census = this.storageCensus();
    const certified = this.d.certifier.latestCertified;
    return create(StatusReplySchema, {
      node: this.d.me().id,
      publicKey: this.d.key.publicKey,
      height: this.height,
      timestamp: this.d.view().timestamp,
      root: this.root,
      prefixes: [...this.d.me().prefixes],
      peersConnected: this.d.net.connectedPeers().length,
      version: NODE_VERSION,
      fullRecords: BigInt(census.fullLeaves),
      summaries: BigInt(census.summaries),
      stubs: BigInt(census.stubs),
      treeNodes: BigInt(census.nodes),
      outsideNodes: BigInt(census.outside),
      certifiedHeight: certified < 0n ? 0n : certified,
      ...this.signedStatement(this.root),
      ...this.consensusView(),
      joining: this.d.joining(),
      left: this.d.left(),
      acquiringPieces: BigInt(this.d.chunks.remaining),
      oldestBlock: BigInt(this.d.tob.oldestBlock),
    });
  }

  /** The consensus epoch and round this node is in, and the leader it follows for that round. */
  private consensusView(): { consensusEpoch: bigint; consensusRound: bigint; leaderKey: Uint8Array } {
    const s = this.d.tob.status();
    return {
      consensusEpoch: BigInt(s.epoch),
      consensusRound: BigInt(s.round),
      leaderKey: s.leader === null ? new Uint8Array(0) : fromHex(s.leader),
    };
  }

  /** The room a unary call's caller has for a large reply now (ClientApiDeps.replyRoom). */
  private roomFor(call: grpc.ServerUnaryCall<unknown, unknown>): () => string | null {
    // The browser API calls these handlers with the request alone (node/web-api.ts): its replies
    // are bounded there, and no gRPC stream holds them.
    if (typeof (call as { getPeer?: unknown }).getPeer !== "function") return () => null;
    return () => this.d.replyRoom?.(hostOf(call.getPeer())) ?? null;
  }

  /** Runs `serve` unless `room` says the caller must wait (`rpc/busy`, RESOURCE_EXHAUSTED). */
  private roomy(room: () => string | null, cb: (e: grpc.ServiceError) => void, serve: () => void): void {
    const busy = room();
    if (busy !== null) return cb(grpcError(grpc.status.RESOURCE_EXHAUSTED, busy));
    serve();
  }

  /**
   * Serves one read (Get and GetStream) when the read gate lets it through; `room` is looked at
   * again right before the reply is built (a read may wait for its height).
   */
  private serveGet(
    request: GetRequest,
    cb: (e: grpc.ServiceError | null, r?: GetReply) => void,
    room: () => string | null = () => null,
  ): void {
    const answer = () => {
      const busy = room();
      if (busy !== null) return cb(grpcError(grpc.status.RESOURCE_EXHAUSTED, busy));
      try {
        cb(null, this.get(request));
        this.d.metrics.getServed();
      } catch (e) {
        cb(
          e instanceof ArborError
            ? grpcError(
                e instanceof ProveError ? grpc.status.FAILED_PRECONDITION : grpc.status.INVALID_ARGUMENT,
                e.message,
              )
            : nodeFault(e),
        );
      }
    };
    this.d.reads.admit(request.minHeight, answer, () =>
      cb(grpcError(grpc.status.RESOURCE_EXHAUSTED, "read/busy: too many reads waiting; retry")),
    );
  }

  private get(req: GetRequest) {
    if (req.keys.length === 0 || req.keys.length > MAX_TOUCHED_KEYS)
      throw new ArborError("get/bad-keys", `ask for 1..${MAX_TOUCHED_KEYS} keys`);
    if (req.hashKeys.length > req.keys.length || req.hashKeys.some((k) => !req.keys.includes(k)))
      throw new ArborError("get/bad-keys", "every key in hash_keys must also be in keys");
    const paths = req.keys.map(keyPath);
    if (!req.hashesOnly) this.refuseAcquiring(paths, req.hashKeys.map(keyPath));
    let tree = prove(this.d.store.history.tree, paths, {
      values: !req.hashesOnly,
      leafSiblings: req.forExecute,
      hashOnly: req.hashKeys.map(keyPath),
    });
    if (this.d.byzantine === "stub-records") tree = stubRecords(tree, paths);
    let proof = encodeProof(tree);
    if (proof.length > MAX_GET_PROOF_BYTES)
      throw new ArborError(
        "get/too-large",
        `the proof of these ${req.keys.length} keys is ${proof.length} bytes, over ${MAX_GET_PROOF_BYTES}: ask for fewer keys at once`,
      );
    let root = this.root;
    if (this.d.byzantine === "forge-get-root") ({ proof, root } = forgeProof(proof));
    return create(GetReplySchema, { ...this.signedStatement(root), proof });
  }

  /**
   * A key of this node's partition whose record it has only as a summary (a prefix it is still
   * taking on: node/partition-sync.ts) cannot be served with its value: refused, so the client asks
   * another holder at once. (A stub on a key's path is refused by `prove` itself.)
   */
  private refuseAcquiring(paths: readonly Uint8Array[], hashOnly: readonly Uint8Array[]): void {
    const tree = this.d.store.history.tree;
    for (const p of paths) {
      if (hashOnly.some((q) => bytesEqual(p, q)) || !tree.partition.holdsKey(p)) continue;
      const { node } = tree.walk(p);
      if (node.kind === Kind.Leaf && node.value === null && tree.stateOf(p).present)
        throw new ProveError("proof/acquiring", "this node is still taking on the prefix of this key");
    }
  }

  /**
   * This node's root statement: its height, timestamp and `root`, signed. For its own root it is
   * signed once per height and shared by every GET reply and Status at that height (a signature
   * costs more than the rest of a GET); a reply's proof is against the root it states.
   */
  private signedStatement(root: Uint8Array): { statement: Uint8Array; signature: Uint8Array } {
    const own = bytesEqual(root, this.root);
    const kept = this.rootStatement;
    const height = this.height;
    // One root per height: the kept statement is current while the height is.
    if (own && kept && kept.height === height) return kept;
    const statement = encodeStatement({
      chain: this.d.chain,
      node: this.d.me().id,
      height,
      timestamp: this.d.view().timestamp,
      root,
      proofDigest: ROOT_STATEMENT_DIGEST,
    });
    const signed = { statement, signature: signWith(this.d.key, statementSigningMessage(statement)) };
    if (own) this.rootStatement = { height, ...signed };
    return signed;
  }

  /** The certified headers that decided validator-set changes in (after, until], with the new sets. */
  private async transitions(
    after: bigint,
    until: bigint,
  ): Promise<{ headers: Uint8Array[]; nextValidators: Uint8Array[] }> {
    const headers: Uint8Array[] = [];
    const nextValidators: Uint8Array[] = [];
    for (const e of this.d.membership.schedule.slice(1)) {
      // Every change decided in (after, until], even one that takes effect later: a client that
      // trusts `until` must know the set that follows it.
      if (e.decidedAt <= after || e.decidedAt > until) continue;
      const c = await this.d.certifier.get(e.decidedAt);
      if (!c) break; // not certified yet: the light client asks again later
      headers.push(encodeCertifiedHeader(c));
      nextValidators.push(encodeValidators(this.d.membership.validatorsAt(e.fromHeight)));
    }
    return { headers, nextValidators };
  }

  private admit(bytes: Uint8Array): ExecuteAck {
    const ack = this.admitOrRefuse(bytes);
    this.d.metrics.admission(ack.accepted ? null : ack.reason);
    return ack;
  }

  private admitOrRefuse(bytes: Uint8Array): ExecuteAck {
    if (this.d.closing())
      return create(ExecuteAckSchema, {
        accepted: false,
        reason: "node/closing",
        message: "the node is shutting down",
      });
    const a = this.d.ledger.admit(bytes);
    if (a.ok) failpoint("admission");
    if (!a.ok)
      return create(ExecuteAckSchema, {
        requestId: a.id,
        accepted: false,
        reason: a.reason,
        message: a.message,
      });
    // Handed to the consensus at the end of this event-loop turn, with the others admitted in it:
    // one consensus step and one gossip message for the lot, instead of one per request.
    if (this.d.byzantine === "drop-requests")
      return create(ExecuteAckSchema, { requestId: a.request.id, accepted: true });
    this.admitted.push(bytes);
    if (this.admitted.length >= ADMISSION_BATCH_REQUESTS) this.submitAdmitted();
    else this.admittedFlush ??= setImmediate(() => this.submitAdmitted());
    return create(ExecuteAckSchema, { requestId: a.request.id, accepted: true });
  }

  private submitAdmitted(): void {
    if (this.admittedFlush) clearImmediate(this.admittedFlush);
    this.admittedFlush = null;
    const batch = this.admitted;
    this.admitted = [];
    if (batch.length > 0) this.d.tob.submit(batch);
  }
}
