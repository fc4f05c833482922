// Calls counted until their reply is taken (node/net/unfinished-calls.ts): a reply its asker does
// not read keeps its place until the asker goes; a call answered and read, or refused, frees it.

import { test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { UnfinishedCalls } from "../../node/net/unfinished-calls.js";

const same = (b: Buffer) => b;
const method = (path: string) => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: same,
  requestDeserialize: same,
  responseSerialize: same,
  responseDeserialize: same,
});
const DEF = { big: method("/test.S/Big"), other: method("/test.S/Other") };

/** An HTTP/2 session that never reads: window 0. */
function nonReader(port: number): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 0 } });
  session.on("error", () => undefined);
  return session;
}

/** A call of Big on `session` whose reply is never read (the stream paused). */
function askBig(session: http2.ClientHttp2Session): http2.ClientHttp2Stream {
  const r = session.request({
    ":method": "POST",
    ":path": "/test.S/Big",
    "content-type": "application/grpc",
    te: "trailers",
  });
  r.on("error", () => undefined);
  r.pause();
  r.end(Buffer.from([0, 0, 0, 0, 0]));
  return r;
}

const until = async (f: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(f(), what);
};

test("a reply nobody reads is counted until its asker goes; read or refused ones are not", async () => {
  const u = new UnfinishedCalls(new Set(["/test.S/Big"]));
  const server = new grpc.Server({ interceptors: [u.interceptor()] });
  let refuse = false;
  server.addService(DEF, {
    big: (_c: unknown, cb: grpc.sendUnaryData<Buffer>) =>
      refuse
        ? cb({ code: grpc.status.RESOURCE_EXHAUSTED, details: "busy" })
        : cb(null, Buffer.alloc(4 << 20, 7)),
    other: (_c: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.alloc(4 << 20, 7)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const Client = grpc.makeGenericClientConstructor(DEF, "S");
  const client = new Client(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client &
    Record<"big" | "other", (req: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void>;
  const call = (m: "big" | "other") =>
    new Promise<grpc.ServiceError | null>((resolve) => client[m](Buffer.alloc(0), (e) => resolve(e)));
  try {
    assert.equal(await call("big"), null);
    assert.equal(await call("other"), null);
    assert.equal(u.count, 0, "a reply read in full is finished");
    refuse = true;
    assert.equal((await call("big"))?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(u.count, 0, "a refusal is finished");
    refuse = false;

    // An asker that never reads: HTTP/2 window 0, the stream paused.
    const session = nonReader(port);
    for (let i = 0; i < 3; i++) askBig(session);
    await until(() => u.count === 3, "three replies not taken");
    assert.equal(u.from("127.0.0.1"), 3);
    session.destroy();
    await until(() => u.count === 0, "freed once the asker is gone");
    assert.equal(u.from("127.0.0.1"), 0);
  } finally {
    client.close();
    server.forceShutdown();
  }
});

test("weighed replies: their bytes count until taken, room refuses past a bound, and a reply not taken in time is reset", async () => {
  const u = new UnfinishedCalls(new Set(["/test.S/Big"]), { weigh: true, takeTimeoutMs: 300 });
  const server = new grpc.Server({ interceptors: [u.interceptor()] });
  const REPLY = 4 << 20;
  server.addService(DEF, {
    big: (_c: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.alloc(REPLY, 7)),
    other: (_c: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.alloc(8)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const session = nonReader(port);
  const closed: number[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const r = askBig(session);
      r.on("close", () => closed.push(r.rstCode ?? -1));
    }
    await until(() => u.count === 2, "two replies handed over, not taken");
    assert.equal(u.bytes, 2 * REPLY);
    assert.equal(u.bytesFrom("127.0.0.1"), 2 * REPLY);
    assert.equal(u.room("127.0.0.1", 16 * REPLY, 4 * REPLY), null);
    assert.match(u.room("127.0.0.1", 16 * REPLY, 2 * REPLY) ?? "", /^rpc\/busy: .* per address/);
    assert.match(u.room("10.0.0.9", 2 * REPLY, 16 * REPLY) ?? "", /^rpc\/busy: .*\(at most \d+\); retry/);
    assert.equal(u.room("10.0.0.9", 16 * REPLY, 2 * REPLY), null, "another address has its own share");
    // Nobody reads: past the deadline the streams are reset, freeing places and bytes.
    await until(() => u.count === 0 && closed.length === 2, "reset once not taken in time");
    assert.equal(u.bytes, 0);
    assert.equal(u.reset, 2);
    assert.deepEqual(closed, [http2.constants.NGHTTP2_CANCEL, http2.constants.NGHTTP2_CANCEL]);
  } finally {
    session.destroy();
    server.forceShutdown();
  }
});
