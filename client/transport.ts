// One gRPC connection to one node's client API (Node.js only; browsers use the portable parts).
// Reads, submissions, receipt waits and header requests each go over one long-lived stream of
// their kind; a call goes unary when its stream is full or the node does not serve the stream.
// With `tls`, the channel is TLS: the node's certificate is checked against the given CA and the
// address's host (or `serverName`); without it, plaintext (a node without TLS in its config).
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  Arbor,
  EvidenceRequestSchema,
  ExecuteRequestSchema,
  GenesisRequestSchema,
  GetRequestSchema,
  HeadersRequestSchema,
  HistoryRequestSchema,
  TaggedHistoryRequestSchema,
  ChangesRequestSchema,
  ListRequestSchema,
  ReceiptQuerySchema,
  StatusRequestSchema,
  TaggedGetRequestSchema,
  TaggedHeadersRequestSchema,
  type EvidenceReply,
  type ExecuteAck,
  type GenesisReply,
  type GetReply,
  type GetRequest,
  type HeadersReply,
  type HeadersRequest,
  type HistoryReply,
  type HistoryRequest,
  type TaggedHistoryReply,
  type ChangesReply,
  type ListReply,
  type ReceiptStreamReply,
  type SignedReceipt,
  type StatusReply,
  type TaggedGetReply,
  type TaggedHeadersReply,
} from "../proto/gen/arbor/v1/client_pb.js";
import { CHANNEL_OPTIONS, grpcError, serviceDefinition } from "../proto/grpc.js";
import { TaggedStream } from "./tagged-stream.js";
import { ExecuteStream } from "./execute-stream.js";
import { ReceiptStream } from "./receipt-stream.js";
import { MAX_STREAM_HEADER_CALLS, MAX_STREAM_HISTORY_CALLS, MAX_STREAM_READS } from "./limits.js";

type Unary = (
  req: unknown,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (e: grpc.ServiceError | null, r: unknown) => void,
) => void;

const Client = grpc.makeGenericClientConstructor(serviceDefinition(Arbor), "Arbor");

/** How to reach nodes that serve TLS (node config `tls`). */
export interface ClientTls {
  /** the CA certificate(s) the nodes' certificates are checked against, PEM */
  readonly ca: Uint8Array | string;
  /** the name to check the certificates for, instead of the host of each node's address */
  readonly serverName?: string;
}

/** The channel credentials and options for `tls` (plaintext when absent). */
export function channelSetup(tls: ClientTls | undefined): {
  credentials: grpc.ChannelCredentials;
  options: grpc.ChannelOptions;
} {
  if (tls === undefined) return { credentials: grpc.credentials.createInsecure(), options: CHANNEL_OPTIONS };
  const ca = typeof tls.ca === "string" ? Buffer.from(tls.ca, "utf8") : Buffer.from(tls.ca);
  return {
    credentials: grpc.credentials.createSsl(ca),
    options:
      tls.serverName === undefined
        ? CHANNEL_OPTIONS
        : { ...CHANNEL_OPTIONS, "grpc.ssl_target_name_override": tls.serverName },
  };
}

export class NodeConnection {
  private readonly raw: grpc.Client & Record<string, Unary>;

  constructor(
    readonly address: string,
    readonly timeoutMs = 10_000,
    tls?: ClientTls,
  ) {
    const { credentials, options } = channelSetup(tls);
    this.raw = new Client(address, credentials, options) as unknown as grpc.Client & Record<string, Unary>;
  }

  /** Reads go over one pipelined GetStream (a unary Get when too many are in flight). */
  private readonly reads = new TaggedStream<GetRequest, GetReply>(
    () => this.duplex<TaggedGetReply>("getStream"),
    (tag, request) => create(TaggedGetRequestSchema, { tag, request }),
    MAX_STREAM_READS,
    "read",
  );
  /** Certified-header requests go over one GetHeadersStream. */
  private readonly headerCalls = new TaggedStream<HeadersRequest, HeadersReply>(
    () => this.duplex<TaggedHeadersReply>("getHeadersStream"),
    (tag, request) => create(TaggedHeadersRequestSchema, { tag, request }),
    MAX_STREAM_HEADER_CALLS,
    "header request",
  );
  /** History pages go over one HistoryStream. */
  private readonly historyCalls = new TaggedStream<HistoryRequest, HistoryReply>(
    () => this.duplex<TaggedHistoryReply>("historyStream"),
    (tag, request) => create(TaggedHistoryRequestSchema, { tag, request }),
    MAX_STREAM_HISTORY_CALLS,
    "history request",
  );
  /** Submissions go over one ExecuteStream, acks in order. */
  private readonly submissions = new ExecuteStream(() => this.duplex<ExecuteAck>("executeStream"));
  /** Receipt waits go over one WaitReceipts stream. */
  private readonly receiptWaits = new ReceiptStream(() => this.duplex<ReceiptStreamReply>("waitReceipts"));

  /** close() was called: every later call fails with CANCELLED instead of reaching grpc-js. */
  private closed = false;

  private duplex<Rep>(name: string): grpc.ClientDuplexStream<unknown, Rep> {
    if (this.closed) throw grpcError(grpc.status.CANCELLED, "connection closed");
    return (this.raw as unknown as Record<string, () => grpc.ClientDuplexStream<unknown, Rep>>)[name]!.call(
      this.raw,
    );
  }

  /** `streamed`, or the unary call `name` when the node answers the stream UNIMPLEMENTED. */
  private orUnary<T>(streamed: Promise<T>, name: string, req: unknown, timeoutMs: number): Promise<T> {
    return streamed.catch((e: grpc.ServiceError) =>
      e.code === grpc.status.UNIMPLEMENTED ? this.call<T>(name, req, timeoutMs) : Promise.reject(e),
    );
  }

  private call<T>(name: string, req: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    if (this.closed) return Promise.reject(grpcError(grpc.status.CANCELLED, "connection closed"));
    return new Promise((resolve, reject) =>
      this.raw[name]!.call(
        this.raw,
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (e, r) => (e ? reject(e) : resolve(r as T)),
      ),
    );
  }

  status(timeoutMs = 3000): Promise<StatusReply> {
    return this.call("status", create(StatusRequestSchema, {}), timeoutMs);
  }
  genesis(): Promise<GenesisReply> {
    return this.call("genesis", create(GenesisRequestSchema, {}));
  }
  get(
    keys: string[],
    opts: {
      forExecute?: boolean;
      hashesOnly?: boolean;
      hashKeys?: readonly string[];
      minHeight?: bigint;
      timeoutMs?: number;
    } = {},
  ): Promise<GetReply> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const request = create(GetRequestSchema, {
      keys,
      forExecute: opts.forExecute ?? false,
      hashesOnly: opts.hashesOnly ?? false,
      hashKeys: [...(opts.hashKeys ?? [])],
      minHeight: opts.minHeight ?? 0n,
    });
    if (!this.reads.hasRoom) return this.call("get", request, timeoutMs);
    // A node without GetStream answers it UNIMPLEMENTED: read from it as a unary call.
    return this.orUnary(this.reads.call(request, timeoutMs), "get", request, timeoutMs);
  }
  execute(request: Uint8Array, timeoutMs = this.timeoutMs): Promise<ExecuteAck> {
    const unary = create(ExecuteRequestSchema, { request });
    if (!this.submissions.hasRoom) return this.call("execute", unary, timeoutMs);
    return this.orUnary(this.submissions.execute(request, timeoutMs), "execute", unary, timeoutMs);
  }
  /**
   * A receipt with its inclusion path; `signed`: with the node's signature too (the early answer).
   * The node waits up to `timeoutMs` for the receipt; the call gives up `callMs` from now.
   */
  waitReceipt(
    requestId: Uint8Array,
    timeoutMs: number,
    callMs = timeoutMs + 2000,
    signed = false,
  ): Promise<SignedReceipt> {
    const unary = create(ReceiptQuerySchema, { requestId, timeoutMs, signed });
    if (!this.receiptWaits.hasRoom(requestId)) return this.call("waitReceipt", unary, callMs);
    return this.orUnary(
      this.receiptWaits.wait(requestId, timeoutMs, callMs, signed),
      "waitReceipt",
      unary,
      callMs,
    );
  }
  /** Certified headers from `fromHeight`; with `waitMs`, the node first waits that long for it to be certified. */
  headers(
    fromHeight: bigint,
    maxCount = 64,
    waitMs = 0,
    timeoutMs = this.timeoutMs + waitMs,
  ): Promise<HeadersReply> {
    return this.headerCall(create(HeadersRequestSchema, { fromHeight, maxCount, waitMs }), timeoutMs);
  }
  transitions(afterHeight: bigint, untilHeight: bigint, timeoutMs = this.timeoutMs): Promise<HeadersReply> {
    return this.headerCall(
      create(HeadersRequestSchema, { fromHeight: afterHeight, untilHeight, transitionsOnly: true }),
      timeoutMs,
    );
  }
  private headerCall(request: HeadersRequest, timeoutMs: number): Promise<HeadersReply> {
    if (!this.headerCalls.hasRoom) return this.call("getHeaders", request, timeoutMs);
    return this.orUnary(this.headerCalls.call(request, timeoutMs), "getHeaders", request, timeoutMs);
  }
  /** A page of the keys under a prefix, with its range proof (unverified). */
  list(
    prefix: string,
    opts: { after?: string | undefined; limit: number; minHeight?: bigint },
    timeoutMs = this.timeoutMs,
  ): Promise<ListReply> {
    const request = create(ListRequestSchema, {
      prefix,
      limit: opts.limit,
      minHeight: opts.minHeight ?? 0n,
      ...(opts.after === undefined ? {} : { after: opts.after }),
    });
    return this.call("list", request, timeoutMs);
  }
  /** A page of a key's changes, newest first (unverified). */
  history(
    key: string,
    opts: { number: bigint; limit: number; minHeight?: bigint },
    timeoutMs = this.timeoutMs,
  ): Promise<HistoryReply> {
    const request = create(HistoryRequestSchema, {
      key,
      number: opts.number,
      limit: opts.limit,
      minHeight: opts.minHeight ?? 0n,
    });
    if (!this.historyCalls.hasRoom) return this.call("history", request, timeoutMs);
    return this.orUnary(this.historyCalls.call(request, timeoutMs), "history", request, timeoutMs);
  }
  /** The key changes of the blocks from `fromHeight` on (unverified: a follower replays them). */
  changes(
    fromHeight: bigint,
    maxBlocks: number,
    waitMs = 0,
    timeoutMs = this.timeoutMs + waitMs,
  ): Promise<ChangesReply> {
    return this.call(
      "getChanges",
      create(ChangesRequestSchema, { fromHeight, maxBlocks, waitMs }),
      timeoutMs,
    );
  }
  /** Misbehaviour this node's consensus witnessed, as COMPLAIN evidence (unverified). */
  evidence(timeoutMs = this.timeoutMs): Promise<EvidenceReply> {
    return this.call("getEvidence", create(EvidenceRequestSchema, {}), timeoutMs);
  }
  close(): void {
    this.closed = true;
    this.reads.close();
    this.headerCalls.close();
    this.historyCalls.close();
    this.submissions.close();
    this.receiptWaits.close();
    this.raw.close();
  }
}
