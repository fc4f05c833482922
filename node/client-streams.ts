// The stream plumbing of the client API (docs/protocol.md §8): pipelined execute (one ack per
// request, in order), tagged request/answer streams (GetStream, GetHeadersStream) and receipt waits
// on one stream (WaitReceipts). Each serves its messages as the unary call would, bounds what one
// stream may hold, and forgets everything a stream held once its client goes away.

import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  ReceiptStreamReplySchema,
  type ExecuteAck,
  type ExecuteRequest,
  type ReceiptQuery,
  type ReceiptStreamReply,
  type SignedReceipt,
} from "../proto/gen/arbor/v1/client_pb.js";
import { grpcError, nodeFault } from "../proto/grpc.js";
import { MAX_RECEIPT_WAIT_MS, MAX_RECEIPT_WAITS } from "./common/limits.js";
import { isUndecodable, undecodableError } from "./net/decode-guard.js";
import type { ReceiptBook, ServedReceipt } from "./receipts.js";

/** What a stream handler is given: grpc-js's server duplex stream. */
type Duplex<Req, Rep> = grpc.ServerDuplexStream<Req, Rep>;

/** The refusal of a receipt query past MAX_RECEIPT_WAITS (a flood of waits must not exhaust the node). */
export const TOO_MANY_WAITS = "receipts/too-many-waits: too many receipt waits on this node";

/** How long a receipt query waits when it names no wait of its own. */
const DEFAULT_RECEIPT_WAIT_MS = 10_000;

/** The wait a receipt query gets, unary or streamed: its own, else the default, never past the bound. */
export function receiptWaitMs(q: ReceiptQuery): number {
  return Math.min(q.timeoutMs || DEFAULT_RECEIPT_WAIT_MS, MAX_RECEIPT_WAIT_MS);
}

/**
 * Writes an answer; when the client is not taking its answers (the stream's write buffer is full)
 * the node stops reading its requests until the buffer drains, so a client that never reads
 * cannot make the node buffer answers without bound: HTTP/2 flow control holds the client.
 */
function send<Req, Rep>(call: Duplex<Req, Rep>, frame: Rep): void {
  if (call.write(frame) || call.isPaused()) return;
  call.pause();
  call.once("drain", () => call.resume());
}

/**
 * ExecuteStream: each request is admitted (synchronously, as the unary Execute) when it is read and
 * its ack written at once, so the acks come in the order of the requests, one each. If admission
 * throws (a node fault, not a client's), the stream ends with INTERNAL and no further ack is sent,
 * so the order is never broken silently; a frame that does not decode ends it the same way, with
 * INVALID_ARGUMENT.
 */
export function serveExecuteStream(
  call: Duplex<ExecuteRequest, ExecuteAck>,
  admit: (request: Uint8Array) => ExecuteAck,
): void {
  let open = true;
  call.on("data", (r: ExecuteRequest) => {
    if (!open) return;
    if (isUndecodable(r)) {
      open = false;
      call.emit("error", undecodableError(r));
      return;
    }
    let ack: ExecuteAck;
    try {
      ack = admit(r.request);
    } catch (e) {
      open = false;
      call.emit("error", nodeFault(e, "admission failed"));
      return;
    }
    send(call, ack);
  });
  call.on("end", () => {
    if (open) call.end();
    open = false;
  });
  call.on("error", () => {
    open = false;
  });
}

/**
 * A tagged request/answer stream (GetStream, GetHeadersStream): each request is served as its unary
 * call would be and answered with its tag when ready, errors per request; at most `bound` in flight
 * on the stream (beyond, that request is refused with RESOURCE_EXHAUSTED). A client that ends its
 * side (no more requests) still gets every answer due; the node ends the stream after the last.
 * Answers ready after the client went away (cancel, broken connection) are dropped. A frame that
 * does not decode is taken as the client's end, and the stream ends with INVALID_ARGUMENT
 * `decode/bad-protobuf` instead of OK after the answers due; later frames are not read.
 */
export function serveTagged<Req extends { tag: bigint }, Inner, Rep, Frame>(
  call: Duplex<Req, Frame>,
  o: {
    readonly bound: number;
    readonly what: string;
    readonly inner: (r: Req) => Inner;
    readonly serve: (request: Inner, cb: (e: grpc.ServiceError | null, r?: Rep) => void) => void;
    readonly frame: (tag: bigint, e: grpc.ServiceError | null, r?: Rep) => Frame;
  },
): void {
  let inFlight = 0;
  const s = new StreamEnd(call, () => inFlight);
  const reply = (tag: bigint, e: grpc.ServiceError | null, r?: Rep) => {
    inFlight--;
    if (s.open) send(call, o.frame(tag, e, r));
    s.finish();
  };
  call.on("data", (t: Req) => {
    if (s.ended) return;
    if (isUndecodable(t)) return s.end(undecodableError(t));
    inFlight++;
    if (inFlight > o.bound)
      return reply(
        t.tag,
        grpcError(
          grpc.status.RESOURCE_EXHAUSTED,
          `stream/too-many: too many ${o.what} in flight on this stream`,
        ),
      );
    // A throw here would escape grpc-js (it calls this listener from its socket's data event) and
    // end the process: a fault of the node is answered as that request's error instead.
    let answered = false;
    try {
      o.serve(o.inner(t), (e, r) => {
        if (answered) return;
        answered = true;
        reply(t.tag, e, r);
      });
    } catch (e) {
      if (answered) return; // its answer stands
      answered = true;
      reply(t.tag, nodeFault(e));
    }
  });
  const close = () => {
    s.open = false;
  };
  call.on("end", () => s.end());
  call.on("error", close);
  call.on("cancelled", close);
}

/**
 * When a stream of answers ends: once the client has ended its side, or sent a frame that does not
 * decode (then with that refusal as its status instead of OK), and no answer is pending; once,
 * and not after the client went away (`open` false).
 */
class StreamEnd<Req, Rep> {
  /** Answers may still be written (the node has not ended the stream, the client has not left). */
  open = true;
  /** The client ended its side or sent an undecodable frame: no further frame is served. */
  ended = false;
  private failure: grpc.ServiceError | null = null;

  constructor(
    private readonly call: Duplex<Req, Rep>,
    private readonly pending: () => number,
  ) {}

  /** No more frames: the client's end (`failure` null) or an undecodable frame's refusal. */
  end(failure: grpc.ServiceError | null = null): void {
    this.ended = true;
    this.failure ??= failure;
    this.finish();
  }

  /** Ends the stream if it is due: after its last pending answer, written before the status. */
  finish(): void {
    if (!this.ended || this.pending() > 0 || !this.open) return;
    this.open = false;
    // An "error" event is the only way a grpc-js server stream ends with a status of our choosing.
    if (this.failure) this.call.emit("error", this.failure);
    else this.call.end();
  }
}

/**
 * WaitReceipts: each query waits in the receipt book (bounded by MAX_RECEIPT_WAIT_MS) and is
 * answered once, with its receipt (matched by the client through the request id its bytes begin
 * with) or with the refusal the unary call would have given, naming the id. At most `bound` wait at
 * once on a stream; beyond, a query is refused with RESOURCE_EXHAUSTED at once. A client that ends
 * its side still gets an answer to every query it sent (each by its wait); the node ends the stream
 * after the last; a frame that does not decode counts as its end, and the stream then ends with
 * INVALID_ARGUMENT `decode/bad-protobuf`. When the client goes away (cancel, broken connection) every wait it left is
 * dropped from the book.
 */
export function serveReceiptStream(
  call: Duplex<ReceiptQuery, ReceiptStreamReply>,
  o: {
    readonly book: ReceiptBook;
    readonly bound: number;
    /** waits the whole node may hold (tests set a small one) */
    readonly nodeBound?: number;
    readonly reply: (r: ServedReceipt) => SignedReceipt;
  },
): void {
  const drops = new Set<() => void>();
  let waiting = 0;
  const s = new StreamEnd(call, () => waiting);
  const refuse = (requestId: Uint8Array, code: grpc.status, message: string) => {
    if (s.open) send(call, create(ReceiptStreamReplySchema, { requestId, code, message }));
  };
  call.on("data", (q: ReceiptQuery) => {
    if (!s.open || s.ended) return;
    if (isUndecodable(q)) return s.end(undecodableError(q));
    const id = q.requestId;
    if (id.length !== 32)
      return refuse(id, grpc.status.INVALID_ARGUMENT, "receipts/bad-id: request id must be 32 bytes");
    if (waiting >= o.bound)
      return refuse(
        id,
        grpc.status.RESOURCE_EXHAUSTED,
        "stream/too-many: too many receipt waits on this stream",
      );
    if (o.book.waiting >= (o.nodeBound ?? MAX_RECEIPT_WAITS))
      return refuse(id, grpc.status.RESOURCE_EXHAUSTED, TOO_MANY_WAITS);
    waiting++;
    let drop: (() => void) | undefined;
    let answered = false;
    const answer = (r: ServedReceipt | undefined) => {
      answered = true;
      waiting--;
      if (drop) drops.delete(drop);
      if (!s.open) return;
      if (r) send(call, create(ReceiptStreamReplySchema, { receipt: o.reply(r) }));
      else refuse(id, grpc.status.DEADLINE_EXCEEDED, "receipts/timeout: no receipt yet");
      s.finish();
    };
    try {
      drop = o.book.watch(id, receiptWaitMs(q), q.signed, answer);
    } catch (e) {
      // As in serveTagged: a fault of the node must not escape into grpc-js.
      if (answered) return; // its answer stands
      waiting--;
      const fault = nodeFault(e);
      return refuse(id, fault.code, fault.details);
    }
    if (!answered) drops.add(drop);
  });
  const close = () => {
    if (!s.open) return;
    s.open = false;
    for (const d of drops) d();
    drops.clear();
    waiting = 0;
  };
  call.on("end", () => s.end());
  call.on("error", close);
  call.on("cancelled", close);
  // After our end the stream closes normally (open is false by then); before it, the client left.
  call.on("close", close);
}
