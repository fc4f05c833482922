// The client API's stream plumbing (node/client-streams.ts) behind a real gRPC server, with a real
// receipt book, asked through the SDK's transport (client/transport.ts) and through raw streams:
// acks come one per request in order; a submission whose ack does not come in time fails and the
// stream is reset; receipts are matched by the request id their bytes begin with; a stream holds
// at most its bound of receipt waits (the rest refused, named); a client that goes away mid-wait
// leaves no wait behind; a client that ends its side still gets every answer due; and a node
// without the streams is used through the unary calls.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Arbor,
  ExecuteAckSchema,
  ExecuteRequestSchema,
  HeadersReplySchema,
  ReceiptQuerySchema,
  ReceiptStreamReplySchema,
  SignedReceiptSchema,
  TaggedHeadersReplySchema,
  TaggedHeadersRequestSchema,
  type ExecuteAck,
  type ExecuteRequest,
  type HeadersRequest,
  type ReceiptQuery,
  type ReceiptStreamReply,
  type TaggedHeadersRequest,
  type TaggedHeadersReply,
} from "../../proto/gen/arbor/v1/client_pb.js";
import { CHANNEL_OPTIONS, grpcError, serviceDefinition } from "../../proto/grpc.js";
import { serveExecuteStream, serveReceiptStream, serveTagged } from "../../node/client-streams.js";
import { ReceiptBook, type ServedReceipt } from "../../node/receipts.js";
import { encodeReceipt } from "../../node/ledger/receipt.js";
import { generateKeyPair, signWith } from "../../node/keys.js";
import { NodeConnection } from "../../client/transport.js";
import { sha256 } from "../../node/common/hash.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { installNodeSha256 } from "../../node/platform.js";

installNodeSha256();

/** Receipt waits one test stream may hold (the node's is MAX_STREAM_RECEIPT_WAITS). */
const BOUND = 4;

/** Receipt waits the test node holds over every stream (the node's is MAX_RECEIPT_WAITS). */
const NODE_BOUND = BOUND + 2;

const id = (b: number) => new Uint8Array(32).fill(b);
const receiptOf = (rid: Uint8Array, height: bigint) =>
  encodeReceipt({
    status: "accepted",
    requestId: rid,
    height,
    index: 0,
    gasUsed: 1n,
    timestamp: height,
    writesDigest: new Uint8Array(32),
  });

/** An ack naming the request's hash; a request starting with 0 is refused. */
function ackOf(request: Uint8Array): ExecuteAck {
  return create(ExecuteAckSchema, {
    requestId: sha256(request),
    accepted: request[0] !== 0,
    reason: request[0] === 0 ? "malformed-request" : "",
  });
}

interface Served {
  readonly address: string;
  readonly book: ReceiptBook;
  /** unary calls and streams opened, by method */
  readonly count: Map<string, number>;
  close(): void;
}

async function serve(
  impl: (book: ReceiptBook, count: (m: string) => void) => grpc.UntypedServiceImplementation,
): Promise<Served> {
  const key = generateKeyPair();
  const book = new ReceiptBook((r) => signWith(key, r));
  const count = new Map<string, number>();
  const server = new grpc.Server(CHANNEL_OPTIONS);
  server.addService(
    serviceDefinition(Arbor),
    impl(book, (m) => count.set(m, (count.get(m) ?? 0) + 1)),
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { address: `127.0.0.1:${port}`, book, count, close: () => server.forceShutdown() };
}

/** Runs `body` with a connection to a server of `impl`, closing both whatever happens. */
async function withConnection(
  impl: Parameters<typeof serve>[0],
  body: (conn: NodeConnection, s: Served) => Promise<void>,
): Promise<void> {
  const s = await serve(impl);
  const conn = new NodeConnection(s.address);
  try {
    await body(conn, s);
  } finally {
    conn.close();
    s.close();
  }
}

const reply = (r: ServedReceipt) =>
  create(SignedReceiptSchema, {
    receipt: r.receipt,
    signature: r.signature,
    leafCount: r.count,
    path: [...r.path],
  });

/** The stream handlers as a node serves them, with a test admission and canned headers. */
function streams(admit: (r: Uint8Array) => ExecuteAck) {
  return (book: ReceiptBook, count: (m: string) => void): grpc.UntypedServiceImplementation => ({
    executeStream: (call: grpc.ServerDuplexStream<ExecuteRequest, ExecuteAck>) => {
      count("executeStream");
      serveExecuteStream(call, admit);
    },
    waitReceipts: (call: grpc.ServerDuplexStream<ReceiptQuery, ReceiptStreamReply>) => {
      count("waitReceipts");
      serveReceiptStream(call, { book, bound: BOUND, nodeBound: NODE_BOUND, reply });
    },
    getHeadersStream: (call: grpc.ServerDuplexStream<TaggedHeadersRequest, TaggedHeadersReply>) => {
      count("getHeadersStream");
      serveTagged<TaggedHeadersRequest, HeadersRequest, { headers: Uint8Array[] }, TaggedHeadersReply>(call, {
        bound: BOUND,
        what: "header requests",
        inner: (t) => t.request!,
        serve: (r, cb) => {
          // A fault of the node's own (a bug): it throws rather than answer.
          if (r.fromHeight === 99n) throw new Error("a fault of the node");
          return r.fromHeight === 0n
            ? cb(grpcError(grpc.status.INVALID_ARGUMENT, "no header at height 0"))
            : cb(null, { headers: [new Uint8Array([Number(r.fromHeight)])] });
        },
        frame: (tag, e, r) =>
          create(
            TaggedHeadersReplySchema,
            e
              ? { tag, code: e.code, message: e.details }
              : { tag, reply: create(HeadersReplySchema, { headers: r!.headers }) },
          ),
      });
    },
  });
}

/** A raw WaitReceipts stream: frames are collected as they come. */
function rawReceiptStream(address: string) {
  const raw = new grpc.Client(address, grpc.credentials.createInsecure());
  const call = raw.makeBidiStreamRequest(
    "/arbor.v1.Arbor/WaitReceipts",
    (q: ReceiptQuery) => Buffer.from(toBinary(ReceiptQuerySchema, q)),
    (b: Buffer) => fromBinary(ReceiptStreamReplySchema, new Uint8Array(b)),
  );
  const frames: ReceiptStreamReply[] = [];
  call.on("data", (f: ReceiptStreamReply) => frames.push(f));
  call.on("error", () => undefined);
  return {
    call,
    frames,
    ask: (requestId: Uint8Array, timeoutMs = 30_000) =>
      call.write(create(ReceiptQuerySchema, { requestId, timeoutMs })),
    close: () => {
      call.cancel();
      raw.close();
    },
  };
}

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("ExecuteStream: one ack per request, in order, each matched to its own request", async () => {
  await withConnection(streams(ackOf), async (conn, s) => {
    const requests = Array.from({ length: 60 }, (_, i) => new Uint8Array([i % 7, i, 1, 2, 3]));
    const acks = await Promise.all(requests.map((r) => conn.execute(r, 5_000)));
    acks.forEach((a, i) => {
      assert.ok(bytesEqual(a.requestId, sha256(requests[i]!)), `ack ${i} is its request's`);
      assert.equal(a.accepted, requests[i]![0] !== 0);
    });
    assert.equal(s.count.get("executeStream"), 1, "one stream for all of them");
  });
});

test("ExecuteStream: a client that does not read its acks stops the node reading its requests", async () => {
  let admitted = 0;
  const s = await serve(
    streams((r) => {
      admitted++;
      return ackOf(r);
    }),
  );
  const raw = new grpc.Client(s.address, grpc.credentials.createInsecure());
  try {
    const call = raw.makeBidiStreamRequest(
      "/arbor.v1.Arbor/ExecuteStream",
      (r: Uint8Array) =>
        Buffer.from(toBinary(ExecuteRequestSchema, create(ExecuteRequestSchema, { request: r }))),
      (b: Buffer) => fromBinary(ExecuteAckSchema, new Uint8Array(b)),
    );
    call.on("error", () => undefined);
    const SENT = 20_000;
    for (let i = 0; i < SENT; i++) call.write(new Uint8Array([1, i & 255, i >> 8]));
    // Nobody reads the acks: the node admits what the HTTP/2 windows and write buffers hold (a
    // few hundred here), then stops reading the requests.
    await until(() => admitted > 0, "the first admissions");
    await new Promise((r) => setTimeout(r, 500));
    const held = admitted;
    assert.ok(held < SENT, `the node read every request (${held}) while its acks were not taken`);
    // Reading again: every ack comes, in order.
    const acks: ExecuteAck[] = [];
    call.on("data", (a: ExecuteAck) => acks.push(a));
    await until(() => acks.length === SENT, "every ack", 20_000);
    for (let i = 0; i < SENT; i += 997)
      assert.ok(bytesEqual(acks[i]!.requestId, sha256(new Uint8Array([1, i & 255, i >> 8]))), `ack ${i}`);
    call.cancel();
  } finally {
    raw.close();
    s.close();
  }
});

test("ExecuteStream: a missed ack fails its request by its deadline and resets the stream", async () => {
  // A node that acks nothing after its first ack (it hangs), then, on a new stream, acks again.
  let streamsOpened = 0;
  await withConnection(
    () => ({
      executeStream: (call: grpc.ServerDuplexStream<ExecuteRequest, ExecuteAck>) => {
        const n = ++streamsOpened;
        let acked = 0;
        call.on("data", (r: ExecuteRequest) => {
          if (n > 1 || acked++ === 0) call.write(ackOf(r.request));
        });
        call.on("error", () => undefined);
      },
    }),
    async (conn) => {
      assert.ok((await conn.execute(new Uint8Array([1]), 2_000)).accepted);
      const late = conn.execute(new Uint8Array([2]), 200);
      const behind = conn.execute(new Uint8Array([3]), 5_000);
      await assert.rejects(late, (e: grpc.ServiceError) => e.code === grpc.status.DEADLINE_EXCEEDED);
      await assert.rejects(behind, (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE);
      // The next request goes on a new stream, and its ack is its own.
      const again = await conn.execute(new Uint8Array([4]), 2_000);
      assert.ok(bytesEqual(again.requestId, sha256(new Uint8Array([4]))));
      assert.equal(streamsOpened, 2);
    },
  );
});

test("ExecuteStream: admission that throws ends the stream with INTERNAL, never a skipped ack", async () => {
  await withConnection(
    streams((r) => {
      if (r[0] === 9) throw new Error("boom");
      return ackOf(r);
    }),
    async (conn, s) => {
      const bad = conn.execute(new Uint8Array([9]), 2_000);
      await assert.rejects(bad, (e: grpc.ServiceError) => e.code === grpc.status.INTERNAL);
      assert.ok((await conn.execute(new Uint8Array([1]), 2_000)).accepted, "a new stream serves");
      assert.equal(s.count.get("executeStream"), 2);
    },
  );
});

test("WaitReceipts: receipts matched by request id, timeouts and bad ids refused as the unary call", async () => {
  await withConnection(streams(ackOf), async (conn, s) => {
    // Two waits on one stream, answered in the reverse order of the queries.
    const a = conn.waitReceipt(id(1), 5_000);
    const b = conn.waitReceipt(id(2), 5_000, 6_000, true);
    await until(() => s.book.waiting === 2, "both waits registered");
    s.book.add(id(2), { receipt: receiptOf(id(2), 7n), count: 1, path: [] });
    s.book.add(id(1), { receipt: receiptOf(id(1), 8n), count: 1, path: [] });
    const [ra, rb] = await Promise.all([a, b]);
    assert.ok(bytesEqual(ra.receipt, receiptOf(id(1), 8n)));
    assert.equal(ra.signature.length, 0, "unsigned when not asked");
    assert.ok(bytesEqual(rb.receipt, receiptOf(id(2), 7n)));
    assert.equal(rb.signature.length, 64, "signed when asked");
    await assert.rejects(
      conn.waitReceipt(id(3), 100),
      (e: grpc.ServiceError) => e.code === grpc.status.DEADLINE_EXCEEDED,
    );
    await assert.rejects(
      conn.waitReceipt(new Uint8Array(3), 100),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(s.count.get("waitReceipts"), 1, "one stream for all of them");
    assert.equal(s.book.waiting, 0);
  });
});

test("WaitReceipts: beyond the bound a query is refused by name; a client that leaves frees its waits", async () => {
  const s = await serve(streams(ackOf));
  const raw = rawReceiptStream(s.address);
  try {
    for (let i = 0; i < BOUND + 2; i++) raw.ask(id(10 + i));
    await until(() => raw.frames.length === 2, "two refusals");
    for (const [j, f] of raw.frames.entries()) {
      assert.equal(f.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.ok(bytesEqual(f.requestId, id(10 + BOUND + j)), "the refusal names the query");
    }
    assert.equal(s.book.waiting, BOUND);
    // A receipt frees a place on the stream.
    s.book.add(id(10), { receipt: receiptOf(id(10), 3n), count: 1, path: [] });
    await until(() => raw.frames.length === 3, "the receipt");
    assert.ok(bytesEqual(raw.frames[2]!.receipt!.receipt.subarray(0, 32), id(10)));
    raw.ask(id(99));
    await until(() => s.book.waiting === BOUND, "the new wait registered");
    assert.equal(raw.frames.length, 3, "not refused");
    // The client goes away mid-wait: the node drops every wait it left.
    raw.close();
    await until(() => s.book.waiting === 0, "waits dropped");
  } finally {
    raw.close();
    s.close();
  }
});

test("WaitReceipts: beyond the node's bound over every stream a query is refused by name", async () => {
  const s = await serve(streams(ackOf));
  const a = rawReceiptStream(s.address);
  const b = rawReceiptStream(s.address);
  try {
    for (let i = 0; i < BOUND; i++) a.ask(id(40 + i));
    await until(() => s.book.waiting === BOUND, "the first stream's waits");
    for (let i = 0; i < BOUND; i++) b.ask(id(60 + i));
    await until(() => b.frames.length === BOUND - (NODE_BOUND - BOUND), "the refusals");
    assert.equal(s.book.waiting, NODE_BOUND);
    for (const [j, f] of b.frames.entries()) {
      assert.equal(f.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(f.message, /^receipts\/too-many-waits/);
      assert.ok(bytesEqual(f.requestId, id(60 + NODE_BOUND - BOUND + j)), "the refusal names the query");
    }
    // The first stream's client goes away: its waits are dropped, and the node takes queries again.
    a.close();
    await until(() => s.book.waiting === NODE_BOUND - BOUND, "waits dropped");
    b.ask(id(90));
    await until(() => s.book.waiting === NODE_BOUND - BOUND + 1, "the new wait registered");
  } finally {
    a.close();
    b.close();
    s.close();
  }
});

test("WaitReceipts: a frame that does not decode ends that stream only", async () => {
  const s = await serve(streams(ackOf));
  const raw = new grpc.Client(s.address, grpc.credentials.createInsecure());
  const conn = new NodeConnection(s.address);
  try {
    const junk = raw.makeBidiStreamRequest(
      "/arbor.v1.Arbor/WaitReceipts",
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    const wait = conn.waitReceipt(id(5), 5_000);
    const ended = new Promise<number>((resolve) => {
      junk.on("error", (e: grpc.ServiceError) => resolve(e.code));
      junk.on("end", () => resolve(0));
      junk.on("data", () => undefined);
    });
    // Field 1 (request_id) claims far more bytes than follow.
    junk.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1]));
    assert.notEqual(await ended, 0, "the garbage stream ends with an error status");
    s.book.add(id(5), { receipt: receiptOf(id(5), 1n), count: 1, path: [] });
    assert.ok(bytesEqual((await wait).receipt, receiptOf(id(5), 1n)), "the other stream goes on");
  } finally {
    conn.close();
    raw.close();
    s.close();
  }
});

test("WaitReceipts: a query the node leaves unanswered past its bound resets the stream; a second query for one id goes unary", async () => {
  // A node that reads receipt queries and never answers them on the stream (its unary call works).
  await withConnection(
    (book, count) => ({
      waitReceipts: (call: grpc.ServerDuplexStream<ReceiptQuery, ReceiptStreamReply>) => {
        count("waitReceipts");
        call.on("data", () => undefined);
        call.on("error", () => undefined);
      },
      waitReceipt: (call: grpc.ServerUnaryCall<ReceiptQuery, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        count("waitReceipt");
        void book
          .wait(call.request.requestId, call.request.timeoutMs)
          .then((r) =>
            r ? cb(null, reply(r)) : cb(grpcError(grpc.status.DEADLINE_EXCEEDED, "no receipt yet")),
          );
      },
    }),
    async (conn, s) => {
      await assert.rejects(
        conn.waitReceipt(id(30), 100, 200),
        (e: grpc.ServiceError) => e.code === grpc.status.DEADLINE_EXCEEDED,
      );
      // The query is still the node's to answer: another for the same id goes as a unary call.
      const again = conn.waitReceipt(id(30), 2_000);
      s.book.add(id(30), { receipt: receiptOf(id(30), 2n), count: 1, path: [] });
      assert.ok(bytesEqual((await again).receipt, receiptOf(id(30), 2n)));
      assert.equal(s.count.get("waitReceipt"), 1);
      // Past the query's wait and the grace, the stream is reset: the next wait opens a new one.
      await new Promise((r) => setTimeout(r, 5_300));
      await assert.rejects(conn.waitReceipt(id(31), 100, 200));
      assert.equal(s.count.get("waitReceipts"), 2);
    },
  );
});

test("GetHeadersStream: tagged answers, errors and faults per request, on one stream", async () => {
  await withConnection(streams(ackOf), async (conn, s) => {
    const hs = await Promise.all([1n, 2n, 3n].map((h) => conn.headers(h, 1)));
    assert.deepEqual(
      hs.map((r) => r.headers[0]![0]),
      [1, 2, 3],
    );
    await assert.rejects(
      conn.headers(0n, 1),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT,
    );
    assert.equal((await conn.headers(4n, 1)).headers[0]![0], 4, "the stream goes on after an error");
    // A handler that throws answers that request node/fault; the node and the stream go on.
    await assert.rejects(
      conn.headers(99n, 1),
      (e: grpc.ServiceError) => e.code === grpc.status.INTERNAL && /^node\/fault: /.test(e.details),
    );
    assert.equal((await conn.headers(5n, 1)).headers[0]![0], 5, "the stream goes on after a fault");
    assert.equal(s.count.get("getHeadersStream"), 1);
  });
});

test("a node without the streams (UNIMPLEMENTED) is used through the unary calls", async () => {
  await withConnection(
    (book, count) => ({
      execute: (call: grpc.ServerUnaryCall<ExecuteRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        count("execute");
        cb(null, ackOf(call.request.request));
      },
      waitReceipt: (call: grpc.ServerUnaryCall<ReceiptQuery, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        count("waitReceipt");
        void book
          .wait(call.request.requestId, call.request.timeoutMs)
          .then((r) =>
            r ? cb(null, reply(r)) : cb(grpcError(grpc.status.DEADLINE_EXCEEDED, "no receipt yet")),
          );
      },
      getHeaders: (call: grpc.ServerUnaryCall<HeadersRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        count("getHeaders");
        cb(
          null,
          create(HeadersReplySchema, { headers: [new Uint8Array([Number(call.request.fromHeight)])] }),
        );
      },
    }),
    async (conn, s) => {
      for (let i = 0; i < 2; i++) {
        assert.ok((await conn.execute(new Uint8Array([1, i]), 2_000)).accepted);
        s.book.add(id(20 + i), { receipt: receiptOf(id(20 + i), 1n), count: 1, path: [] });
        assert.ok(bytesEqual((await conn.waitReceipt(id(20 + i), 1_000)).receipt, receiptOf(id(20 + i), 1n)));
        assert.equal((await conn.headers(5n, 1)).headers[0]![0], 5);
      }
      for (const m of ["execute", "waitReceipt", "getHeaders"]) assert.equal(s.count.get(m), 2, m);
    },
  );
});

/** A client stream's answers as they come, and its end (rejected if it ends with an error). */
function collect<T>(call: grpc.ClientDuplexStream<never, T>): { frames: T[]; ended: Promise<void> } {
  const frames: T[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    call.on("data", (f: T) => frames.push(f));
    call.on("end", resolve);
    call.on("error", reject);
  });
  return { frames, ended };
}

test("a client that ends its side still gets every answer due, then the stream ends", async () => {
  const s = await serve(streams(ackOf));
  const raw = new grpc.Client(s.address, grpc.credentials.createInsecure());
  try {
    // Tagged: three requests, then the client's end; three answers, then the node's end.
    const headers = raw.makeBidiStreamRequest(
      "/arbor.v1.Arbor/GetHeadersStream",
      (t: TaggedHeadersRequest) => Buffer.from(toBinary(TaggedHeadersRequestSchema, t)),
      (b: Buffer) => fromBinary(TaggedHeadersReplySchema, new Uint8Array(b)),
    );
    const tagged = collect<TaggedHeadersReply>(headers);
    for (const h of [1n, 2n, 3n])
      headers.write(create(TaggedHeadersRequestSchema, { tag: h, request: { fromHeight: h, maxCount: 1 } }));
    headers.end();
    await tagged.ended;
    assert.deepEqual(
      tagged.frames.map((f) => f.tag).sort((a, b) => Number(a - b)),
      [1n, 2n, 3n],
    );

    // Receipts: a query that waits, then the client's end; the receipt still comes.
    const waits = raw.makeBidiStreamRequest(
      "/arbor.v1.Arbor/WaitReceipts",
      (q: ReceiptQuery) => Buffer.from(toBinary(ReceiptQuerySchema, q)),
      (b: Buffer) => fromBinary(ReceiptStreamReplySchema, new Uint8Array(b)),
    );
    const { frames, ended } = collect<ReceiptStreamReply>(waits);
    waits.write(create(ReceiptQuerySchema, { requestId: id(42), timeoutMs: 30_000 }));
    waits.end();
    await until(() => s.book.waiting === 1, "the wait registered");
    s.book.add(id(42), { receipt: receiptOf(id(42), 7n), count: 1, path: [] });
    await ended;
    assert.equal(frames.length, 1);
    assert.ok(bytesEqual(frames[0]!.receipt!.receipt, receiptOf(id(42), 7n)));
    assert.equal(s.book.waiting, 0);
  } finally {
    raw.close();
    s.close();
  }
});
