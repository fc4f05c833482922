// Pipelined submission over one ExecuteStream per connection (Node.js only). The node answers each
// request with exactly one ack, in the order the requests came (docs/protocol.md §8), so acks are
// matched to requests first in, first out. Each request keeps its own deadline: one whose ack has
// not come by then fails DEADLINE_EXCEEDED as the unary Execute would, and the stream is reset (an
// ack that is late would be matched to the wrong request after it), failing the requests sent
// after it on that stream with UNAVAILABLE; the next request opens a new stream. At most
// MAX_STREAM_EXECUTES requests are in flight; a caller sends more as unary calls.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { ExecuteRequestSchema, type ExecuteAck } from "../proto/gen/arbor/v1/client_pb.js";
import { grpcError } from "../proto/grpc.js";
import { MAX_STREAM_EXECUTES } from "../node/common/limits.js";

type Duplex = grpc.ClientDuplexStream<unknown, ExecuteAck>;

interface Pending {
  readonly resolve: (a: ExecuteAck) => void;
  readonly reject: (e: grpc.ServiceError) => void;
  readonly timer: NodeJS.Timeout;
}

export class ExecuteStream {
  private stream: Duplex | null = null;
  /** Requests in flight on the current stream, oldest first: the next ack is the first one's. */
  private pending: Pending[] = [];
  /** The node does not serve ExecuteStream (UNIMPLEMENTED): requests go as unary calls. */
  private unsupported = false;

  constructor(private readonly open: () => Duplex) {}

  /** Whether another request may go on the stream now. */
  get hasRoom(): boolean {
    return !this.unsupported && this.pending.length < MAX_STREAM_EXECUTES;
  }

  execute(request: Uint8Array, timeoutMs: number): Promise<ExecuteAck> {
    let stream: Duplex;
    try {
      stream = this.stream ?? this.start();
    } catch (e) {
      return Promise.reject(e); // a closed connection: the caller's promise fails, nothing throws
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.stream !== stream) return;
        const e = grpcError(grpc.status.DEADLINE_EXCEEDED, "no ack in time");
        // The node answers in order: this request's ack was due before any later one's.
        this.reset(
          stream,
          p,
          e,
          grpcError(grpc.status.UNAVAILABLE, "execute stream reset after a missed ack"),
        );
      }, timeoutMs);
      const p: Pending = { resolve, reject, timer };
      this.pending.push(p);
      stream.write(create(ExecuteRequestSchema, { request }));
    });
  }

  close(): void {
    const s = this.stream;
    if (s) this.reset(s, null, null, grpcError(grpc.status.CANCELLED, "connection closed"));
  }

  private start(): Duplex {
    const s = this.open();
    this.stream = s;
    this.pending = [];
    s.on("data", (ack: ExecuteAck) => {
      if (this.stream !== s) return;
      const p = this.pending.shift();
      if (!p) {
        // An ack for no request: the node broke the one-ack-per-request order.
        this.reset(s, null, null, grpcError(grpc.status.INTERNAL, "the node sent an ack for no request"));
        return;
      }
      clearTimeout(p.timer);
      p.resolve(ack);
    });
    const broken = (e: grpc.ServiceError) => {
      if (e.code === grpc.status.UNIMPLEMENTED) this.unsupported = true;
      if (this.stream === s) this.reset(s, null, null, e);
    };
    s.on("error", (e: grpc.ServiceError) => broken(e));
    s.on("end", () => broken(grpcError(grpc.status.UNAVAILABLE, "the node ended the execute stream")));
    return s;
  }

  /**
   * Forgets stream `s`: `first` (if any) fails with `firstError`, every other request in flight on
   * it with `e`, and the stream is cancelled.
   */
  private reset(
    s: Duplex,
    first: Pending | null,
    firstError: grpc.ServiceError | null,
    e: grpc.ServiceError,
  ): void {
    const pending = this.pending;
    this.pending = [];
    this.stream = null;
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(p === first && firstError ? firstError : e);
    }
    s.cancel();
  }
}
