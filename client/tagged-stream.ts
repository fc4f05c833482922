// Pipelined calls over one tagged stream per connection and kind (Node.js only): reads over
// GetStream, header requests over GetHeadersStream. Each call is tagged, its answer matched by tag
// whatever the order; a call that fails gets the error the unary call would have given. A call
// whose answer does not come in time fails DEADLINE_EXCEEDED (a late answer is dropped); a broken
// stream fails the calls in flight on it, and the next call opens a new one. So does a silent one:
// a call timing out with nothing received on its stream since it was sent drops the stream, so a
// stream the node no longer serves (one it ended without a status) cannot hold later calls too.
// A unary call costs a client about as much CPU as checking a signature; a message on an open
// stream costs a fraction of it.
import * as grpc from "@grpc/grpc-js";
import { grpcError } from "../proto/grpc.js";

/** An answer frame: the tag it echoes, the reply when `code` is 0, else the status. */
export interface TaggedFrame<Rep> {
  readonly tag: bigint;
  readonly reply?: Rep;
  readonly code: number;
  readonly message: string;
}

type Duplex<Rep> = grpc.ClientDuplexStream<unknown, TaggedFrame<Rep>>;

interface Pending<Rep> {
  readonly resolve: (r: Rep) => void;
  readonly reject: (e: grpc.ServiceError) => void;
  readonly timer: NodeJS.Timeout;
}

export class TaggedStream<Req, Rep> {
  private stream: Duplex<Rep> | null = null;
  private pending = new Map<bigint, Pending<Rep>>();
  private nextTag = 1n;
  /** When the current stream last delivered a frame (performance.now()). */
  private lastFrame = -Infinity;
  /** The node does not serve this stream (UNIMPLEMENTED): calls go as unary calls. */
  private unsupported = false;

  /**
   * `open` starts the stream; `frame` wraps a request with its tag; at most `bound` calls are in
   * flight on it (`hasRoom`), a caller sends more as unary calls.
   */
  constructor(
    private readonly open: () => Duplex<Rep>,
    private readonly frame: (tag: bigint, request: Req) => unknown,
    private readonly bound: number,
    private readonly what: string,
  ) {}

  /** Whether another call may go on the stream now. */
  get hasRoom(): boolean {
    return !this.unsupported && this.pending.size < this.bound;
  }

  call(request: Req, timeoutMs: number): Promise<Rep> {
    let stream: Duplex<Rep>;
    try {
      stream = this.stream ?? this.start();
    } catch (e) {
      return Promise.reject(e); // a closed connection: the caller's promise fails, nothing throws
    }
    const pending = this.pending;
    const tag = this.nextTag++;
    const sentAt = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(tag);
        reject(grpcError(grpc.status.DEADLINE_EXCEEDED, `${this.what} timed out`));
        if (this.stream === stream && this.lastFrame < sentAt) {
          this.fail(grpcError(grpc.status.UNAVAILABLE, `the ${this.what} stream went silent`));
          stream.cancel();
        }
      }, timeoutMs);
      pending.set(tag, { resolve, reject, timer });
      stream.write(this.frame(tag, request));
    });
  }

  close(): void {
    const s = this.stream;
    this.fail(grpcError(grpc.status.CANCELLED, "connection closed"));
    s?.cancel();
  }

  private start(): Duplex<Rep> {
    const s = this.open();
    const pending = new Map<bigint, Pending<Rep>>();
    this.stream = s;
    this.pending = pending;
    this.lastFrame = -Infinity;
    s.on("data", (r: TaggedFrame<Rep>) => {
      if (this.stream === s) this.lastFrame = performance.now();
      const p = pending.get(r.tag);
      if (!p) return;
      pending.delete(r.tag);
      clearTimeout(p.timer);
      if (r.code === 0 && r.reply) p.resolve(r.reply);
      else p.reject(grpcError(r.code || grpc.status.INTERNAL, r.message || `${this.what} failed`));
    });
    const broken = (e: grpc.ServiceError) => {
      if (e.code === grpc.status.UNIMPLEMENTED) this.unsupported = true;
      if (this.stream === s) this.fail(e);
    };
    s.on("error", (e: grpc.ServiceError) => broken(e));
    s.on("end", () => broken(grpcError(grpc.status.UNAVAILABLE, `the node ended the ${this.what} stream`)));
    return s;
  }

  /** Fails every call in flight on the current stream and forgets it. */
  private fail(e: grpc.ServiceError): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending = new Map();
    this.stream = null;
  }
}
