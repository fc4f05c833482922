// Receipt waits over one WaitReceipts stream per connection (Node.js only). The node answers each
// query once: with a receipt, whose bytes begin with the request id, or with a refusal naming the
// id (docs/protocol.md §8). So a client matches answers by request id, and keeps at most one query
// per id unanswered on a stream (another query for that id goes as a unary call). A query whose
// caller gave up stays counted until the node's answer comes, so the client's count is the node's
// and a correct client is never refused for too many waits; a node that has not answered by its
// own bound (MAX_RECEIPT_WAIT_MS, and the wait asked for) plus a grace is broken: the stream is
// reset and the next query opens a new one.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  ReceiptQuerySchema,
  type ReceiptStreamReply,
  type SignedReceipt,
} from "../proto/gen/arbor/v1/client_pb.js";
import { grpcError } from "../proto/grpc.js";
import { toHex } from "../node/common/bytes.js";
import { MAX_RECEIPT_WAIT_MS, MAX_STREAM_RECEIPT_WAITS } from "../node/common/limits.js";

type Duplex = grpc.ClientDuplexStream<unknown, ReceiptStreamReply>;

/** The wait a node applies to a query that names none (as the unary WaitReceipt). */
const NODE_DEFAULT_WAIT_MS = 10_000;
/** How long past its own bound a node may take to answer a query before its stream is reset. */
const ANSWER_GRACE_MS = 5_000;

/** One query unanswered on the stream; `waiter` is null once its caller gave up. */
interface Entry {
  waiter: {
    readonly resolve: (r: SignedReceipt) => void;
    readonly reject: (e: grpc.ServiceError) => void;
  } | null;
  readonly timers: NodeJS.Timeout[];
}

export class ReceiptStream {
  private stream: Duplex | null = null;
  /** Unanswered queries on the current stream, by request id (hex). */
  private entries = new Map<string, Entry>();
  /** The node does not serve WaitReceipts (UNIMPLEMENTED): waits go as unary calls. */
  private unsupported = false;

  constructor(private readonly open: () => Duplex) {}

  /** Whether a wait for `requestId` may go on the stream now. */
  hasRoom(requestId: Uint8Array): boolean {
    return (
      !this.unsupported && this.entries.size < MAX_STREAM_RECEIPT_WAITS && !this.entries.has(toHex(requestId))
    );
  }

  /**
   * Asks the node to wait up to `timeoutMs` for the receipt; the caller gives up `callMs` from now
   * (DEADLINE_EXCEEDED, as the unary call).
   */
  wait(requestId: Uint8Array, timeoutMs: number, callMs: number, signed: boolean): Promise<SignedReceipt> {
    let stream: Duplex;
    try {
      stream = this.stream ?? this.start();
    } catch (e) {
      return Promise.reject(e); // a closed connection: the caller's promise fails, nothing throws
    }
    const entries = this.entries;
    const key = toHex(requestId);
    const nodeWait = Math.min(timeoutMs || NODE_DEFAULT_WAIT_MS, MAX_RECEIPT_WAIT_MS);
    return new Promise((resolve, reject) => {
      const e: Entry = { waiter: { resolve, reject }, timers: [] };
      const giveUp = setTimeout(() => {
        if (entries.get(key) !== e) return;
        e.waiter = null;
        reject(grpcError(grpc.status.DEADLINE_EXCEEDED, "no receipt in time"));
      }, callMs);
      const overdue = setTimeout(() => {
        if (this.stream === stream && entries.get(key) === e)
          this.reset(stream, grpcError(grpc.status.UNAVAILABLE, "the node did not answer a receipt query"));
      }, nodeWait + ANSWER_GRACE_MS);
      e.timers.push(giveUp, overdue);
      entries.set(key, e);
      stream.write(create(ReceiptQuerySchema, { requestId, timeoutMs, signed }));
    });
  }

  close(): void {
    const s = this.stream;
    if (s) this.reset(s, grpcError(grpc.status.CANCELLED, "connection closed"));
  }

  private start(): Duplex {
    const s = this.open();
    const entries = new Map<string, Entry>();
    this.stream = s;
    this.entries = entries;
    s.on("data", (r: ReceiptStreamReply) => {
      if (this.stream !== s) return;
      const id = r.receipt ? r.receipt.receipt.subarray(0, 32) : r.requestId;
      if (r.receipt && r.receipt.receipt.length < 32)
        return this.reset(
          s,
          grpcError(grpc.status.INTERNAL, "the node sent a receipt too short to name its request"),
        );
      const key = toHex(id);
      const e = entries.get(key);
      // An answer to no query of ours: nothing to match it to (a correct node never sends one).
      if (!e) return;
      entries.delete(key);
      for (const t of e.timers) clearTimeout(t);
      if (!e.waiter) return;
      if (r.receipt) e.waiter.resolve(r.receipt);
      else e.waiter.reject(grpcError(r.code || grpc.status.INTERNAL, r.message || "no receipt"));
    });
    const broken = (e: grpc.ServiceError) => {
      if (e.code === grpc.status.UNIMPLEMENTED) this.unsupported = true;
      if (this.stream === s) this.reset(s, e);
    };
    s.on("error", (e: grpc.ServiceError) => broken(e));
    s.on("end", () => broken(grpcError(grpc.status.UNAVAILABLE, "the node ended the receipt stream")));
    return s;
  }

  /** Forgets stream `s`: every wait on it fails with `e`, and the stream is cancelled. */
  private reset(s: Duplex, e: grpc.ServiceError): void {
    const entries = this.entries;
    this.entries = new Map();
    this.stream = null;
    for (const x of entries.values()) {
      for (const t of x.timers) clearTimeout(t);
      x.waiter?.reject(e);
    }
    s.cancel();
  }
}
