// The node's gRPC server advertises large HTTP/2 windows and frames (grpc-js has no server option
// for them; proto/grpc.ts sets them through its internals, and this test notices if that stops
// working after a grpc-js upgrade).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { CHANNEL_OPTIONS, raiseServerHttp2Limits } from "../../proto/grpc.js";
import { HTTP2_MAX_FRAME_BYTES, HTTP2_WINDOW_BYTES } from "../../node/common/limits.js";

test("a node's gRPC server grants large HTTP/2 stream and connection windows and frames", async () => {
  const server = new grpc.Server(CHANNEL_OPTIONS);
  assert.equal(raiseServerHttp2Limits(server), true);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => undefined); // the server going away at the end
  try {
    const settings = await new Promise<http2.Settings>((r) => session.once("remoteSettings", r));
    assert.equal(settings.initialWindowSize, HTTP2_WINDOW_BYTES);
    assert.equal(settings.maxFrameSize, HTTP2_MAX_FRAME_BYTES);
    // The connection window arrives as a WINDOW_UPDATE right after the settings.
    const deadline = Date.now() + 5000;
    while ((session.state.remoteWindowSize ?? 0) < HTTP2_WINDOW_BYTES && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.ok((session.state.remoteWindowSize ?? 0) >= HTTP2_WINDOW_BYTES, "connection window");
  } finally {
    await new Promise<void>((r) => session.close(() => r()));
    server.forceShutdown();
  }
});
