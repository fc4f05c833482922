// The browser API's pieces (node/web-api.ts) without a cluster: the unary adapter keeps the node's
// status code and text, CORS answers only allowed origins (ports as `*` included), and a served
// handler answers a Connect call over HTTP/1.1 while a method outside WEB_METHODS is not served.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { StatusReplySchema, StatusRequestSchema } from "../../proto/gen/arbor/v1/client_pb.js";
import { WebApi, connectUnary, originAllowed } from "../../node/web-api.js";

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
