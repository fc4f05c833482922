// Malformed gRPC input of every kind against a live node: garbage protobuf bytes, wrong types,
// oversized messages, bad signatures, hostile proofs, nonsense queries. Each gets a typed answer
// (a gRPC status or a refusal with a reason code) and the node keeps serving. Snapshot requests for
// heights not offered, offsets past the end, and floods of them, get typed answers too.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Cluster } from "./cluster.js";
import { Signer } from "./requests.js";
import { decodeReceipt } from "../../node/ledger/receipt.js";
import { assembleSignedRequest, encodeRequestBody } from "../../node/ledger/request.js";
import { randomBytes } from "node:crypto";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import {
  ExecuteRequestSchema,
  GetReplySchema,
  GetRequestSchema,
  ReceiptQuerySchema,
  SnapshotReplySchema,
  SnapshotRequestSchema,
  TaggedGetRequestSchema,
  TaggedHeadersRequestSchema,
  TaggedHistoryRequestSchema,
} from "../../proto/gen/arbor/v1/client_pb.js";
import { decodeStatement } from "../../node/ledger/statement.js";
import { NodeConnection } from "../../client/transport.js";
import { ArborClient } from "../../client/index.js";
import { MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST } from "../../node/common/limits.js";

function rawUnary(
  address: string,
  method: string,
  payload: Buffer,
): Promise<{ code: number; details: string; bytes?: Buffer }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": 64 * 1024 * 1024,
  });
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      `/arbor.v1.Arbor/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      payload,
      { deadline: Date.now() + 10_000 },
      (err, res) => {
        client.close();
        resolve(err ? { code: err.code, details: err.details } : { code: 0, details: "", bytes: res! });
      },
    );
  });
}

/** Request bytes no message type decodes: a field longer than the bytes left; wire type 7. */
const NOT_PROTOBUF = [Buffer.from([0x0a, 0x05, 0x01]), Buffer.from([0x0f, 0x01])];

function bin<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Buffer {
  return Buffer.from(toBinary(schema, create(schema, init)));
}

/** Writes `frames` on a bidirectional stream at once; resolves with its status and answer count. */
function burst(
  client: grpc.Client,
  method: string,
  frames: Buffer[],
  halfClose: boolean,
): Promise<{ code: number; details: string; answers: number }> {
  const call = client.makeBidiStreamRequest(
    method.startsWith("/") ? method : `/arbor.v1.Arbor/${method}`,
    (b: Buffer) => b,
    (b: Buffer) => b,
    { deadline: Date.now() + 30_000 },
  );
  let answers = 0;
  call.on("data", () => answers++);
  call.on("error", () => undefined);
  const done = new Promise<{ code: number; details: string; answers: number }>((resolve) =>
    call.on("status", (st: grpc.StatusObject) => resolve({ code: st.code, details: st.details, answers })),
  );
  for (const f of frames) call.write(f);
  if (halfClose) call.end();
  return done;
}

test("hostile client input gets typed errors and the node keeps serving", { timeout: 120_000 }, async () => {
  const c = await Cluster.create({ n: 1, k: 1 });
  c.startAll();
  try {
    await c.ready();
    const addr = c.genesis.nodes[0]!.address;
    const node = c.clients[0]!;

    // Garbage protobuf to every method.
    for (const m of ["Get", "Execute", "WaitReceipt", "GetHeaders", "Status"]) {
      const r = await rawUnary(addr, m, Buffer.from(randomBytes(64)));
      assert.notEqual(r.code, grpc.status.UNAVAILABLE, `${m} crashed the node`);
      assert.ok(
        r.code === grpc.status.INTERNAL ||
          r.code === grpc.status.INVALID_ARGUMENT ||
          r.code === 0 ||
          r.code === grpc.status.DEADLINE_EXCEEDED ||
          r.code === grpc.status.FAILED_PRECONDITION,
        `${m}: code ${r.code}`,
      );
    }
    // Bytes that are not protobuf at all (a truncated field, an unknown wire type) are refused by
    // the node with a typed code, not by the gRPC layer.
    for (const m of ["Get", "Execute", "WaitReceipt", "List", "GetSnapshot", "SubscribeReceipts"])
      for (const bad of NOT_PROTOBUF) {
        const r = await rawUnary(addr, m, bad);
        assert.equal(r.code, grpc.status.INVALID_ARGUMENT, `${m}: code ${r.code}`);
        assert.match(r.details, /^decode\/bad-protobuf: /, m);
      }
    // A read for a height the node will not reach soon is held at most MAX_GET_WAIT_MS, then
    // answered at the node's height (not an error, not a call left hanging).
    const far = await rawUnary(
      addr,
      "Get",
      Buffer.from(
        toBinary(GetRequestSchema, create(GetRequestSchema, { keys: ["x"], minHeight: 1n << 62n })),
      ),
    );
    assert.equal(far.code, 0, `Get with a far min_height: code ${far.code}`);
    const farReply = fromBinary(GetReplySchema, far.bytes!);
    assert.ok(decodeStatement(farReply.statement).height < 1n << 62n);

    // Wrong types: a string field where bytes are expected decodes as bytes; a varint where a
    // length-delimited field is expected is a wire-type error.
    const wrongType = Buffer.from([0x08, 0x96, 0x01]);
    for (const m of ["Get", "Execute"])
      assert.notEqual((await rawUnary(addr, m, wrongType)).code, grpc.status.UNAVAILABLE);
    // Oversized message.
    const huge = await rawUnary(addr, "Execute", Buffer.alloc(40 * 1024 * 1024, 1));
    assert.equal(huge.code, grpc.status.RESOURCE_EXHAUSTED);

    // Garbage request bytes, a bad signature, hostile bounds.
    const garbage = await node.execute(new Uint8Array(randomBytes(300)));
    assert.equal(garbage.accepted, false);
    assert.equal(garbage.reason, "malformed-request");
    const s = new Signer(c);
    const good = await s.createDomain("bank");
    const forged = good.slice();
    forged[forged.length - 3]! ^= 0x40;
    const bad = await node.execute(forged);
    assert.equal(bad.reason, "bad-signature");
    // A hostile proof inside a correctly signed request: admitted, then rejected in its block.
    const body = encodeRequestBody({
      op: ".root_rule",
      touched: ["x/.base_rule"],
      proof: new Uint8Array(randomBytes(200)),
      args: new Uint8Array(),
      gasLimit: 1000n,
      caller: s.key.publicKey,
      nonce: 1n,
      validUntil: c.seenHeight + 500n,
    });
    const { signWith } = await import("../../node/keys.js");
    const { requestSigningMessage } = await import("../../node/ledger/request.js");
    const hostile = assembleSignedRequest(body, signWith(s.key, requestSigningMessage(c.chain, body)));
    const ack = await node.execute(hostile);
    assert.ok(ack.accepted);
    const rec = decodeReceipt((await node.waitReceipt(ack.requestId)).receipt);
    assert.equal(rec.status === "rejected" ? rec.reason : "accepted", "bad-proof");

    // Nonsense queries.
    await assert.rejects(node.get([]), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT);
    await assert.rejects(
      node.get(Array.from({ length: 500 }, (_, i) => `k${i}`)),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT,
    );
    await assert.rejects(
      node.waitReceipt(new Uint8Array(3), 100),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT,
    );

    // Queries: listings, histories, the change feed and block receipts refuse nonsense with their
    // codes (docs/protocol.md §15, §8) and answer what is merely odd.
    const q = new NodeConnection(addr);
    try {
      const refused = async (p: Promise<unknown>, code: string) =>
        assert.rejects(
          p,
          (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && e.details.startsWith(code),
        );
      await refused(q.list("", { limit: 0 }), "list/bad-limit");
      await refused(q.list("", { limit: 1_000_000 }), "list/bad-limit");
      await refused(q.list("x".repeat(5000), { limit: 5 }), "list/bad-prefix");
      await refused(q.history("k", { number: 0n, limit: 0 }), "history/bad-limit");
      await refused(q.history("k", { number: 1n << 60n, limit: 5 }), "history/bad-number");
      await refused(q.history("k".repeat(2000), { number: 0n, limit: 5 }), "history/bad-key");
      // Invalid UTF-8 where a string goes (a prefix of 0xFF 0xFE, limit 5): refused or read as
      // text, never a crash.
      const badUtf8 = await rawUnary(addr, "List", Buffer.from([0x0a, 0x02, 0xff, 0xfe, 0x18, 0x05]));
      assert.notEqual(badUtf8.code, grpc.status.UNAVAILABLE);
      await refused(q.changes(0n, 0), "changes/bad-limit");
      await refused(q.changes(0n, 100_000), "changes/bad-limit");
      // Odd but valid: a prefix past every key, a key never written, a feed from a far height.
      const empty = await q.list("\uffff\uffff", { limit: 5 });
      assert.equal(empty.done, true);
      const never = await q.history("never/written", { number: 0n, limit: 5 });
      assert.equal(never.changes.length, 0);
      const far = await q.changes(1n << 62n, 5);
      assert.equal(far.blocks.length, 0);
      for (const m of ["List", "History", "GetChanges", "GetBlockReceipts", "HistoryStream"]) {
        const r = await rawUnary(addr, m, Buffer.from(randomBytes(64)));
        assert.notEqual(r.code, grpc.status.UNAVAILABLE, `${m} garbage crashed the node`);
      }
    } finally {
      q.close();
    }

    // Snapshots: garbage, a height not offered, offsets past any end, a flood of page requests.
    // Each gets a typed answer and the node goes on.
    const snap = (height: bigint, offset: bigint) =>
      rawUnary(
        addr,
        "GetSnapshot",
        Buffer.from(toBinary(SnapshotRequestSchema, create(SnapshotRequestSchema, { height, offset }))),
      );
    assert.notEqual(
      (await rawUnary(addr, "GetSnapshot", Buffer.from(randomBytes(64)))).code,
      grpc.status.UNAVAILABLE,
    );
    const offers = await snap(0n, 0n);
    assert.equal(offers.code, 0);
    assert.equal(fromBinary(SnapshotReplySchema, offers.bytes!).data.length, 0, "offers carry no data");
    assert.equal((await snap(1n << 62n, 0n)).code, grpc.status.NOT_FOUND);
    assert.equal((await snap(7n, 1n << 62n)).code, grpc.status.NOT_FOUND);
    const flood = await Promise.all(Array.from({ length: 32 }, () => snap(1n << 40n, 5n)));
    assert.ok(
      flood.every((r) => r.code === grpc.status.NOT_FOUND || r.code === grpc.status.RESOURCE_EXHAUSTED),
    );

    // Pipelined reads: a bad read on a GetStream gets its own error, tagged; the stream goes on.
    const sdk = new NodeConnection(addr);
    try {
      await assert.rejects(sdk.get([]), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT);
      const [good1, good2] = await Promise.all([
        sdk.get([".root_rule"]),
        sdk.get(["x"], { hashesOnly: true }),
      ]);
      assert.equal(decodeStatement(good1.statement).node, 0);
      assert.deepEqual(good2.statement, good1.statement, "one root statement per height");
    } finally {
      sdk.close();
    }
    // A frame that does not decode ends its stream with INVALID_ARGUMENT decode/bad-protobuf, after
    // the answers to the frames before it, whether or not the client ended its side; the frames
    // after it are not read. Sent in one burst, so the bad frame arrives while answers are due.
    const raw = new grpc.Client(addr, grpc.credentials.createInsecure());
    const frames: [string, Buffer][] = [
      ["GetStream", bin(TaggedGetRequestSchema, { tag: 1n, request: { keys: ["x"] } })],
      ["ExecuteStream", bin(ExecuteRequestSchema, { request: randomBytes(50) })],
      ["WaitReceipts", bin(ReceiptQuerySchema, { requestId: new Uint8Array(32), timeoutMs: 200 })],
      ["GetHeadersStream", bin(TaggedHeadersRequestSchema, { tag: 1n, request: { fromHeight: 1n } })],
      ["HistoryStream", bin(TaggedHistoryRequestSchema, { tag: 1n, request: { key: "x" } })],
    ];
    for (const [m, good] of frames)
      for (const [bad, halfClose] of [
        [NOT_PROTOBUF[0]!, true],
        [NOT_PROTOBUF[1]!, false],
      ] as const) {
        const r = await burst(raw, m, [good, good, bad, good], halfClose);
        assert.equal(r.code, grpc.status.INVALID_ARGUMENT, `${m}: ${r.code} ${r.details}`);
        assert.match(r.details, /^decode\/bad-protobuf: /, m);
        assert.equal(r.answers, 2, `${m}: every frame before the bad one answered, none after`);
      }
    // The peer stream too: the node's challenge, then the refusal.
    const peer = await burst(raw, "/arbor.v1.Peer/Connect", [NOT_PROTOBUF[0]!], false);
    assert.equal(peer.code, grpc.status.INVALID_ARGUMENT, `Peer/Connect: ${peer.code} ${peer.details}`);
    assert.match(peer.details, /^decode\/bad-protobuf: /);
    // Receipt subscriptions past one address's bound end with RESOURCE_EXHAUSTED (a status the
    // client sees, not a stream left hanging); the ones within it stay open.
    const subscriptions: grpc.ClientReadableStream<Buffer>[] = [];
    let refused = 0;
    let refusal = "";
    for (let i = 0; i <= MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST; i++) {
      const sub = raw.makeServerStreamRequest(
        "/arbor.v1.Arbor/SubscribeReceipts",
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
      );
      sub.on("error", (e: grpc.ServiceError) => {
        if (e.code !== grpc.status.RESOURCE_EXHAUSTED) return;
        refused++;
        refusal = e.details;
      });
      subscriptions.push(sub);
    }
    await c.waitFor(async () => refused > 0, 10_000, "a subscription past the bound to be refused");
    assert.equal(refused, 1, "only the one past the bound is refused");
    assert.match(refusal, /^stream\/too-many: too many subscriptions from 127\.0\.0\.1 /);
    for (const sub of subscriptions) sub.cancel();
    raw.close();

    // A read whose values outgrow one gRPC message is refused by name (it used to fail to send).
    const big = await ArborClient.connect({ genesis: c.genesis });
    try {
      await big.createDomain("big");
      const value = new Uint8Array(1000 * 1024).fill(9);
      const keys = Array.from({ length: 33 }, (_, i) => `big/k${i}`);
      for (const k of keys) await big.writeRecords("big", [[k, value]]);
      const r = await rawUnary(addr, "Get", bin(GetRequestSchema, { keys, minHeight: 0n }));
      assert.equal(r.code, grpc.status.INVALID_ARGUMENT, `Get of 33 MiB: ${r.code} ${r.details}`);
      assert.match(r.details, /^get\/too-large: /);
      assert.equal((await big.read(keys.slice(0, 8))).values.size, 8, "fewer keys at once are served");
    } finally {
      big.close();
    }

    // Still serving, and a good request still goes through.
    const ok = await node.execute(good);
    assert.ok(ok.accepted);
    assert.equal(decodeReceipt((await node.waitReceipt(ok.requestId)).receipt).status, "accepted");
    assert.equal((await node.status()).node, 0);
  } finally {
    await c.stop();
  }
});
