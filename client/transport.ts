// One gRPC connection to one node's client API (Node.js only; browsers use the portable parts).
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  Arbor,
  EvidenceRequestSchema,
  ExecuteRequestSchema,
  GenesisRequestSchema,
  GetRequestSchema,
  HeadersRequestSchema,
  ReceiptQuerySchema,
  StatusRequestSchema,
  type EvidenceReply,
  type ExecuteAck,
  type GenesisReply,
  type GetReply,
  type HeadersReply,
  type SignedReceipt,
  type StatusReply,
  type TaggedGetReply,
} from "../proto/gen/arbor/v1/client_pb.js";
import { CHANNEL_OPTIONS, serviceDefinition } from "../proto/grpc.js";
import { ReadStream } from "./read-stream.js";

type Unary = (
  req: unknown,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (e: grpc.ServiceError | null, r: unknown) => void,
) => void;

const Client = grpc.makeGenericClientConstructor(serviceDefinition(Arbor), "Arbor");

export class NodeConnection {
  private readonly raw: grpc.Client & Record<string, Unary>;

  constructor(
    readonly address: string,
    readonly timeoutMs = 10_000,
  ) {
    this.raw = new Client(
      address,
      grpc.credentials.createInsecure(),
      CHANNEL_OPTIONS,
    ) as unknown as grpc.Client & Record<string, Unary>;
  }

  /** Reads go over one pipelined GetStream (a unary Get when too many are in flight). */
  private readonly reads = new ReadStream(() =>
    (this.raw as unknown as { getStream(): grpc.ClientDuplexStream<unknown, TaggedGetReply> }).getStream(),
  );

  private call<T>(name: string, req: unknown, timeoutMs = this.timeoutMs): Promise<T> {
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
    return this.reads
      .get(request, timeoutMs)
      .catch((e: grpc.ServiceError) =>
        e.code === grpc.status.UNIMPLEMENTED
          ? this.call<GetReply>("get", request, timeoutMs)
          : Promise.reject(e),
      );
  }
  execute(request: Uint8Array, timeoutMs = this.timeoutMs): Promise<ExecuteAck> {
    return this.call("execute", create(ExecuteRequestSchema, { request }), timeoutMs);
  }
  /** The node waits up to `timeoutMs` for the receipt; the call gives up `callMs` from now. */
  /** A receipt with its inclusion path; `signed`: with the node's signature too (the early answer). */
  waitReceipt(
    requestId: Uint8Array,
    timeoutMs: number,
    callMs = timeoutMs + 2000,
    signed = false,
  ): Promise<SignedReceipt> {
    return this.call("waitReceipt", create(ReceiptQuerySchema, { requestId, timeoutMs, signed }), callMs);
  }
  /** Certified headers from `fromHeight`; with `waitMs`, the node first waits that long for it to be certified. */
  headers(
    fromHeight: bigint,
    maxCount = 64,
    waitMs = 0,
    timeoutMs = this.timeoutMs + waitMs,
  ): Promise<HeadersReply> {
    return this.call("getHeaders", create(HeadersRequestSchema, { fromHeight, maxCount, waitMs }), timeoutMs);
  }
  transitions(afterHeight: bigint, untilHeight: bigint): Promise<HeadersReply> {
    return this.call(
      "getHeaders",
      create(HeadersRequestSchema, { fromHeight: afterHeight, untilHeight, transitionsOnly: true }),
    );
  }
  /** Misbehaviour this node's consensus witnessed, as COMPLAIN evidence (unverified). */
  evidence(timeoutMs = this.timeoutMs): Promise<EvidenceReply> {
    return this.call("getEvidence", create(EvidenceRequestSchema, {}), timeoutMs);
  }
  close(): void {
    this.reads.close();
    this.raw.close();
  }
}
