// The browser API's pieces (node/web-api.ts) without a cluster: the unary adapter keeps the node's
// status code and text, CORS answers only allowed origins (ports as `*` included), and a served
// handler answers a Connect call over HTTP/1.1 while a method outside WEB_METHODS is not served;
// hostile input is bounded: connections, calls in flight, a Get's reply, and the library's own
// refusals (bad protobuf, bad UTF-8 or JSON, too large, bad timeout) start with stable codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { connect, type Socket } from "node:net";
import {
  BlockReceiptsReplySchema,
  GetReplySchema,
  StatusReplySchema,
  StatusRequestSchema,
} from "../../proto/gen/arbor/v1/client_pb.js";
import {
  WEB_HEADERS_TIMEOUT_MS,
  WEB_IDLE_TIMEOUT_MS,
  WEB_KEEP_ALIVE_TIMEOUT_MS,
  WEB_MAX_CONNECTIONS,
  WEB_MAX_CONNECTIONS_PER_HOST,
  WEB_MAX_IN_FLIGHT,
  WEB_MAX_REPLY_BYTES,
  WEB_MAX_REQUEST_BYTES,
  WEB_MAX_TIMEOUT_MS,
  WEB_REQUEST_TIMEOUT_MS,
  WebApi,
  connectUnary,
  originAllowed,
} from "../../node/web-api.js";

test("the unary adapter passes replies and keeps a refusal's code and text", async () => {
  const ok = connectUnary((call, cb) => cb(null, { echoed: call.request }));
  assert.deepEqual(await ok("x"), { echoed: "x" });
  const refused = connectUnary((_call, cb) =>
    cb(
      Object.assign(new Error("3 INVALID_ARGUMENT: list/bad-limit: limit"), {
        code: grpc.status.INVALID_ARGUMENT,
        details: "list/bad-limit: limit",
        metadata: new grpc.Metadata(),
      }),
    ),
  );
  await assert.rejects(refused("x"), (e: unknown) => {
    assert.ok(e instanceof ConnectError);
    assert.equal(e.code, Code.InvalidArgument);
    assert.equal(e.rawMessage, "list/bad-limit: limit");
    return true;
  });
});

test("only allowed origins may call", () => {
  const allowed = ["http://127.0.0.1:*", "https://explorer.example"];
  assert.ok(originAllowed("http://127.0.0.1:5173", allowed));
  assert.ok(originAllowed("https://explorer.example", allowed));
  assert.ok(!originAllowed("http://127.0.0.1.evil.example:80", allowed));
  assert.ok(!originAllowed("http://127.0.0.1:80/x", allowed));
  assert.ok(!originAllowed("https://explorer.example.evil", allowed));
  assert.ok(!originAllowed("http://localhost:80", allowed));
  assert.ok(originAllowed("http://anything", ["*"]));
});

test("a node's handler answers a Connect call over HTTP/1.1, with CORS for an allowed origin", async () => {
  const reply = create(StatusReplySchema, { node: 7, height: 42n, version: "t" });
  const web = new WebApi({
    handlers: { status: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, reply) },
    origins: ["http://127.0.0.1:*"],
  });
  const port = await web.listen("127.0.0.1:0");
  try {
    const url = `http://127.0.0.1:${port}/arbor.v1.Arbor/Status`;
    const pre = await fetch(url, {
      method: "OPTIONS",
      headers: { origin: "http://127.0.0.1:9", "access-control-request-method": "POST" },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "http://127.0.0.1:9");
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/proto", origin: "http://127.0.0.1:9" },
      body: toBinary(StatusRequestSchema, create(StatusRequestSchema, {})),
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("access-control-allow-origin"), "http://127.0.0.1:9");
    const got = fromBinary(StatusReplySchema, new Uint8Array(await r.arrayBuffer()));
    assert.equal(got.node, 7);
    assert.equal(got.height, 42n);
    const other = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/proto", origin: "http://evil.example" },
      body: new Uint8Array(),
    });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const execute = await fetch(`http://127.0.0.1:${port}/arbor.v1.Arbor/Execute`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array(),
    });
    assert.equal(execute.status, 404, "writes are not served to browsers");
  } finally {
    await web.close();
  }
});

/** A browser API serving `handlers`, for the length of `body`. */
async function withWeb(
  handlers: grpc.UntypedServiceImplementation,
  body: (base: string, web: WebApi) => Promise<void>,
): Promise<void> {
  const web = new WebApi({ handlers, origins: [] });
  const port = await web.listen("127.0.0.1:0");
  try {
    await body(`http://127.0.0.1:${port}/arbor.v1.Arbor`, web);
  } finally {
    await web.close();
  }
}

const statusReply = (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
  cb(null, create(StatusReplySchema, { node: 1 }));

/** A Connect unary call's HTTP status and error (code and message) or reply. */
async function call(
  url: string,
  body: Uint8Array | string,
  type = "application/json",
  headers: Record<string, string> = {},
): Promise<{ status: number; code?: string; message?: string }> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": type, ...headers }, body });
  if (r.status === 200) return { status: 200 };
  return { status: r.status, ...((await r.json()) as { code: string; message: string }) };
}

test("the library's own refusals start with a stable code: bad protobuf, bad UTF-8, bad JSON, too large, bad timeout", async () => {
  await withWeb({ status: statusReply }, async (base) => {
    const url = `${base}/Status`;
    const proto = await call(url, new Uint8Array([0x0a, 0x05]), "application/proto");
    assert.equal(proto.status, 400, "not an internal fault");
    assert.equal(proto.code, "invalid_argument");
    assert.match(proto.message!, /^decode\/bad-protobuf: /);
    const utf8 = await call(url, new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
    assert.equal(utf8.code, "invalid_argument");
    assert.match(utf8.message!, /^decode\/bad-utf8: /);
    const json = await call(url, "{not json");
    assert.equal(json.code, "invalid_argument");
    assert.match(json.message!, /^decode\/bad-json: /);
    const big = await call(url, "x".repeat(WEB_MAX_REQUEST_BYTES + 1));
    assert.equal(big.code, "resource_exhausted");
    assert.match(big.message!, /^web\/too-large: /);
    const late = await call(url, "{}", "application/json", {
      "connect-timeout-ms": String(WEB_MAX_TIMEOUT_MS + 1),
    });
    assert.equal(late.code, "invalid_argument");
    assert.match(late.message!, /^web\/bad-timeout: /);
    assert.equal((await call(url, "{}")).status, 200, "a good call is served");
  });
});

test("over gRPC-web too, bad protobuf is INVALID_ARGUMENT decode/bad-protobuf in the trailer", async () => {
  await withWeb({ status: statusReply }, async (base) => {
    const frame = new Uint8Array([0, 0, 0, 0, 2, 0x0a, 0x05]);
    const r = await fetch(`${base}/Status`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: frame,
    });
    const bytes = new Uint8Array(await r.arrayBuffer());
    assert.equal(bytes[0], 0x80, "a trailer frame");
    const trailer = new TextDecoder().decode(bytes.subarray(5));
    assert.match(trailer, /grpc-status: 3\r\n/);
    assert.match(decodeURIComponent(/grpc-message: (.*)/.exec(trailer)![1]!), /^decode\/bad-protobuf: /);
  });
});

test("a Get whose proof is over WEB_MAX_REPLY_BYTES is refused get/too-large, not encoded", async () => {
  const proof = new Uint8Array(WEB_MAX_REPLY_BYTES + 1);
  const get = (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, create(GetReplySchema, { proof }));
  await withWeb({ get }, async (base) => {
    const r = await call(`${base}/Get`, "{}");
    assert.equal(r.code, "invalid_argument");
    assert.match(r.message!, /^get\/too-large: /);
  });
});

test("any other reply over WEB_MAX_REPLY_BYTES is refused web/reply-too-large; one under it is served", async () => {
  const piece = new Uint8Array(64 * 1024);
  const count = (n: number) => Array.from({ length: n }, () => piece);
  let receipts = count(WEB_MAX_REPLY_BYTES / piece.length + 1);
  const getBlockReceipts = (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
    cb(null, create(BlockReceiptsReplySchema, { height: 7n, receipts }));
  await withWeb({ getBlockReceipts }, async (base) => {
    const r = await call(`${base}/GetBlockReceipts`, "{}");
    assert.equal(r.code, "resource_exhausted");
    assert.match(r.message!, /^web\/reply-too-large: /);
    receipts = count(4);
    const ok = await call(`${base}/GetBlockReceipts`, "{}");
    assert.equal(ok.status, 200);
  });
});

test("past WEB_MAX_IN_FLIGHT calls a call is refused web/busy at once; a client that leaves frees its place", async () => {
  const held: (() => void)[] = [];
  const status = (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
    held.push(() => cb(null, create(StatusReplySchema, { node: 1 })));
  await withWeb({ status }, async (base, web) => {
    const url = `${base}/Status`;
    const aborts = Array.from({ length: WEB_MAX_IN_FLIGHT }, () => new AbortController());
    const waiting = aborts.map((a) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
        signal: a.signal,
      }).catch(() => null),
    );
    while (held.length < WEB_MAX_IN_FLIGHT) await new Promise((r) => setTimeout(r, 5));
    const busy = await call(url, "{}");
    assert.equal(busy.code, "resource_exhausted");
    assert.match(busy.message!, /^web\/busy: /);
    aborts[0]!.abort();
    await waiting[0];
    const inFlight = () => (web as unknown as { inFlight: number }).inFlight;
    while (inFlight() >= WEB_MAX_IN_FLIGHT) await new Promise((r) => setTimeout(r, 5));
    const next = call(url, "{}");
    while (held.length <= WEB_MAX_IN_FLIGHT) await new Promise((r) => setTimeout(r, 5));
    held.pop()!();
    assert.equal((await next).status, 200, "the place of the client that left is free");
    for (const release of held.splice(0)) release();
    await Promise.all(waiting);
  });
});

test("connections are bounded (WEB_MAX_CONNECTIONS, WEB_MAX_CONNECTIONS_PER_HOST) and slow or idle ones cut off", async () => {
  await withWeb({ status: statusReply }, async (base, web) => {
    const server = (web as unknown as { server: Server }).server;
    assert.ok(WEB_MAX_CONNECTIONS_PER_HOST < WEB_MAX_CONNECTIONS);
    assert.equal(server.headersTimeout, WEB_HEADERS_TIMEOUT_MS);
    assert.equal(server.requestTimeout, WEB_REQUEST_TIMEOUT_MS);
    assert.equal(server.keepAliveTimeout, WEB_KEEP_ALIVE_TIMEOUT_MS);
    assert.equal(server.timeout, WEB_IDLE_TIMEOUT_MS);
    const port = Number(new URL(base).port);
    const sockets = await Promise.all(
      Array.from(
        { length: WEB_MAX_CONNECTIONS + 1 },
        () =>
          new Promise<Socket>((resolve) => {
            const s = connect(port, "127.0.0.1", () => resolve(s));
            s.on("error", () => {});
          }),
      ),
    );
    try {
      // Unfinished requests, as a slowloris sends: past the bound the server closes the connection.
      for (const s of sockets) s.write("POST /arbor.v1.Arbor/Status HTTP/1.1\r\nHost: x\r\n");
      const closed = await Promise.race([
        Promise.any(sockets.map((s) => new Promise<true>((r) => s.once("close", () => r(true))))),
        new Promise<false>((r) => setTimeout(() => r(false), 5_000)),
      ]);
      assert.ok(closed, "a connection past the bound is closed");
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});

test("docs/explorer.md's table of the browser API's bounds has the code's values", async () => {
  const doc = readFileSync("docs/explorer.md", "utf8");
  const rows = [...doc.matchAll(/^\| `(WEB_[A-Z0-9_]+)` +\| ([0-9,]+) +\|/gm)];
  assert.ok(rows.length >= 9, `found ${rows.length} rows`);
  const web = (await import("../../node/web-api.js")) as unknown as Record<string, unknown>;
  for (const [, name, value] of rows) assert.equal(value!.replace(/,/g, ""), String(web[name!]), name);
});
