// Pipelined reads over one GetStream per connection (Node.js only): each read is tagged, its answer
// matched by tag whatever the order; a read that fails gets the error the unary Get would have
// given. A broken stream fails the reads in flight on it, and the next read opens a new one. A
// unary call costs a client about as much CPU as checking a signature; a message on an open
// stream costs a fraction of it.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  TaggedGetRequestSchema,
  type GetReply,
  type GetRequest,
  type TaggedGetReply,
} from "../proto/gen/arbor/v1/client_pb.js";
import { grpcError } from "../proto/grpc.js";

type Duplex = grpc.ClientDuplexStream<unknown, TaggedGetReply>;

interface Pending {
  readonly resolve: (r: GetReply) => void;
  readonly reject: (e: grpc.ServiceError) => void;
  readonly timer: NodeJS.Timeout;
}

/** Reads in flight on one connection's stream; beyond this they go as unary calls. */
export const MAX_STREAM_READS = 512;

export class ReadStream {
  private stream: Duplex | null = null;
  private pending = new Map<bigint, Pending>();
  private nextTag = 1n;
  /** The node does not serve GetStream (UNIMPLEMENTED): reads go as unary calls. */
  private unsupported = false;

  constructor(private readonly open: () => Duplex) {}

  /** Whether another read may go on the stream now. */
  get hasRoom(): boolean {
    return !this.unsupported && this.pending.size < MAX_STREAM_READS;
  }

  get(request: GetRequest, timeoutMs: number): Promise<GetReply> {
    const stream = this.stream ?? this.start();
    const pending = this.pending;
    const tag = this.nextTag++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(tag);
        reject(grpcError(grpc.status.DEADLINE_EXCEEDED, "read timed out"));
      }, timeoutMs);
      pending.set(tag, { resolve, reject, timer });
      stream.write(create(TaggedGetRequestSchema, { tag, request }));
    });
  }

  close(): void {
    const s = this.stream;
    this.fail(grpcError(grpc.status.CANCELLED, "connection closed"));
    s?.cancel();
  }

  private start(): Duplex {
    const s = this.open();
    const pending = new Map<bigint, Pending>();
    this.stream = s;
    this.pending = pending;
    s.on("data", (r: TaggedGetReply) => {
      const p = pending.get(r.tag);
      if (!p) return;
      pending.delete(r.tag);
      clearTimeout(p.timer);
      if (r.code === 0 && r.reply) p.resolve(r.reply);
      else p.reject(grpcError(r.code || grpc.status.INTERNAL, r.message || "read failed"));
    });
    const broken = (e: grpc.ServiceError) => {
      if (e.code === grpc.status.UNIMPLEMENTED) this.unsupported = true;
      if (this.stream === s) this.fail(e);
    };
    s.on("error", (e: grpc.ServiceError) => broken(e));
    s.on("end", () => broken(grpcError(grpc.status.UNAVAILABLE, "the node ended the read stream")));
    return s;
  }

  /** Fails every read in flight on the current stream and forgets it. */
  private fail(e: grpc.ServiceError): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending = new Map();
    this.stream = null;
  }
}
