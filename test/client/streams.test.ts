// The SDK's transport against a real node (a 1-node cluster): submissions, receipt waits and
// certified-header requests go over one stream each, with no unary call; acks come in the order
// of the requests (a malformed one in the middle gets its own refusal in its place); receipts are
// matched to the waits by request id whatever order they come in; a client that fills its receipt
// stream past the node's bound gets refusals naming the queries, and leaving mid-wait leaves the
// node serving.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { randomBytes } from "node:crypto";
import { Cluster } from "../cluster/cluster.js";
import { Signer } from "../cluster/requests.js";
import { NodeConnection } from "../../client/transport.js";
import { serviceDefinition } from "../../proto/grpc.js";
import { decodeAnyRequest } from "../../node/ledger/any-request.js";
import { decodeReceipt } from "../../node/ledger/receipt.js";
import { decodeCertifiedHeader } from "../../node/ledger/header.js";
import { bytesEqual } from "../../node/common/bytes.js";
import { MAX_STREAM_RECEIPT_WAITS } from "../../node/common/limits.js";
import {
  Arbor,
  ReceiptQuerySchema,
  ReceiptStreamReplySchema,
  type ReceiptQuery,
  type ReceiptStreamReply,
} from "../../proto/gen/arbor/v1/client_pb.js";

/** Unary calls the SDK's transport makes, by method (its streamed calls are not counted). */
const unary = new Map<string, number>();
const proto = NodeConnection.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
const call = proto["call"]!;
proto["call"] = function (this: unknown, name: unknown, ...rest: unknown[]) {
  unary.set(String(name), (unary.get(String(name)) ?? 0) + 1);
  return call.call(this, name, ...rest);
};

test(
  "submissions, receipt waits and header requests go over streams to a real node",
  { timeout: 120_000 },
  async () => {
    const c = await Cluster.create({ n: 1, k: 1 });
    c.startAll();
    const conn = new NodeConnection(c.genesis.nodes[0]!.address);
    try {
      await c.ready();
      const s = new Signer(c);
      const requests: Uint8Array[] = [];
      for (let i = 0; i < 6; i++) requests.push(await s.createDomain(`d${i}`));
      // A request that does not decode, third in line: refused in its place.
      requests.splice(2, 0, new Uint8Array(randomBytes(200)));
      unary.clear();
      const acks = await Promise.all(requests.map((r) => conn.execute(r, 10_000)));
      const ids: Uint8Array[] = [];
      acks.forEach((a, i) => {
        if (i === 2) return assert.equal(a.reason, "malformed-request");
        const id = decodeAnyRequest(requests[i]!).id;
        assert.ok(a.accepted, `request ${i}: ${a.reason} ${a.message}`);
        assert.ok(bytesEqual(a.requestId, id), `ack ${i} is its own request's`);
        ids.push(id);
      });
      // Waits asked newest first: each answer is matched to its own wait.
      const receipts = await Promise.all([...ids].reverse().map((id) => conn.waitReceipt(id, 20_000)));
      [...ids].reverse().forEach((id, i) => {
        const r = decodeReceipt(receipts[i]!.receipt);
        assert.ok(bytesEqual(r.requestId, id));
        assert.equal(r.status, "accepted");
      });
      const height = decodeReceipt(receipts[0]!.receipt).height;
      const h = await conn.headers(height, 1, 3_000);
      assert.equal(decodeCertifiedHeader(h.headers[0]!).header.height, height);
      assert.deepEqual((await conn.transitions(0n, height)).headers, [], "no validator-set change");
      assert.deepEqual([...unary.entries()], [], "no unary call");
    } finally {
      conn.close();
      await c.stop();
    }
  },
);

test(
  "a receipt stream past the node's bound: refusals name the queries; a client leaving mid-wait leaves the node serving",
  { timeout: 120_000 },
  async () => {
    const c = await Cluster.create({ n: 1, k: 1 });
    c.startAll();
    const address = c.genesis.nodes[0]!.address;
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      await c.ready();
      const stream = raw.makeBidiStreamRequest(
        "/arbor.v1.Arbor/WaitReceipts",
        (q: ReceiptQuery) => Buffer.from(toBinary(ReceiptQuerySchema, q)),
        (b: Buffer) => fromBinary(ReceiptStreamReplySchema, new Uint8Array(b)),
      );
      const frames: ReceiptStreamReply[] = [];
      stream.on("data", (f: ReceiptStreamReply) => frames.push(f));
      stream.on("error", () => undefined);
      const extra = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
      for (let i = 0; i < MAX_STREAM_RECEIPT_WAITS; i++)
        stream.write(
          create(ReceiptQuerySchema, { requestId: new Uint8Array(randomBytes(32)), timeoutMs: 60_000 }),
        );
      for (const requestId of extra)
        stream.write(create(ReceiptQuerySchema, { requestId, timeoutMs: 60_000 }));
      await c.waitFor(async () => frames.length >= 2, 20_000, "two refusals");
      assert.equal(frames.length, 2);
      frames.forEach((f, i) => {
        assert.equal(f.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.ok(bytesEqual(f.requestId, extra[i]!));
      });
      stream.cancel();
      // The node goes on serving, receipt waits included.
      const conn = new NodeConnection(address);
      try {
        const s = new Signer(c);
        const ack = await conn.execute(await s.createDomain("after"), 10_000);
        assert.ok(ack.accepted);
        assert.equal(
          decodeReceipt((await conn.waitReceipt(ack.requestId, 20_000)).receipt).status,
          "accepted",
        );
      } finally {
        conn.close();
      }
    } finally {
      raw.close();
      await c.stop();
    }
  },
);

test("a closed connection fails every call with CANCELLED, streamed or unary, and throws nothing", async () => {
  // No node needed: a closed channel never dials.
  const conn = new NodeConnection("127.0.0.1:1");
  conn.close();
  const cancelled = (e: unknown) => (e as grpc.ServiceError).code === grpc.status.CANCELLED;
  await assert.rejects(conn.waitReceipt(randomBytes(32), 1000), cancelled);
  await assert.rejects(conn.execute(randomBytes(100), 1000), cancelled);
  await assert.rejects(conn.get(["k"]), cancelled);
  await assert.rejects(conn.headers(1n, 1), cancelled);
  await assert.rejects(conn.status(), cancelled);
});

test("a read stream that goes silent is dropped after a timed-out read: the next read opens a new one", async () => {
  // A node that takes every GetStream and never answers on it (one that ended it without a status).
  const opened: grpc.ServerDuplexStream<unknown, unknown>[] = [];
  const server = new grpc.Server();
  server.addService(serviceDefinition(Arbor), {
    getStream: (call: grpc.ServerDuplexStream<unknown, unknown>) => void opened.push(call),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const conn = new NodeConnection(`127.0.0.1:${port}`);
  try {
    const timedOut = (e: unknown) => (e as grpc.ServiceError).code === grpc.status.DEADLINE_EXCEEDED;
    await assert.rejects(conn.get(["k"], { timeoutMs: 300 }), timedOut);
    await assert.rejects(conn.get(["k"], { timeoutMs: 300 }), timedOut);
    assert.equal(opened.length, 2, "the second read went on a new stream");
  } finally {
    conn.close();
    server.forceShutdown();
  }
});
