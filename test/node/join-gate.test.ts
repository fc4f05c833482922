// The --join gate: while a node catches up, every client call but Status and Genesis is refused
// with UNAVAILABLE node/joining (unary and streaming alike); once open, calls pass through. A node
// that left the membership refuses them for good with node/left.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { clusterHeightFloor, JoinGate, joined, nearCluster } from "../../node/join-gate.js";
import { JOIN_READY_LAG_BLOCKS } from "../../node/common/limits.js";

function service(served: string[]): grpc.UntypedServiceImplementation {
  const unary = (name: string) => (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
    served.push(name);
    cb(null, {});
  };
  return {
    get: unary("get"),
    status: unary("status"),
    genesis: unary("genesis"),
    getStream: (() => served.push("getStream")) as grpc.UntypedHandleCall,
  } as grpc.UntypedServiceImplementation;
}

const callUnary = (h: unknown) =>
  new Promise<grpc.ServiceError | null>((resolve) =>
    (h as (c: unknown, cb: grpc.sendUnaryData<unknown>) => void)({}, (e) =>
      resolve(e as grpc.ServiceError | null),
    ),
  );

test("a joining node refuses reads and streams, but answers Status and Genesis", async () => {
  const served: string[] = [];
  const gate = new JoinGate(true);
  const s = gate.wrap(service(served));
  const e = await callUnary(s.get);
  assert.equal(e?.code, grpc.status.UNAVAILABLE);
  assert.match(e?.details ?? "", /^node\/joining/);
  let ended: Error | undefined;
  (s.getStream as (c: unknown) => void)({ emit: (_event: string, err: Error) => (ended = err) });
  assert.equal((ended as grpc.ServiceError | undefined)?.code, grpc.status.UNAVAILABLE);
  assert.equal(await callUnary(s.status), null);
  assert.equal(await callUnary(s.genesis), null);
  assert.deepEqual(served, ["status", "genesis"]);
  gate.open();
  assert.equal(await callUnary(s.get), null);
  (s.getStream as (c: unknown) => void)({});
  assert.deepEqual(served, ["status", "genesis", "get", "getStream"]);
});

test("a node without --join serves from the start", async () => {
  const served: string[] = [];
  const s = new JoinGate(false).wrap(service(served));
  assert.equal(await callUnary(s.get), null);
  assert.deepEqual(served, ["get"]);
});

test("joined: caught up by the consensus, and applied to within the lag bound", () => {
  const lag = BigInt(JOIN_READY_LAG_BLOCKS);
  assert.equal(joined({ caughtUp: false, committedHeight: 10n, appliedHeight: 10n }), false);
  assert.equal(joined({ caughtUp: true, committedHeight: 10n, appliedHeight: 10n }), true);
  assert.equal(joined({ caughtUp: true, committedHeight: 10n + lag, appliedHeight: 10n }), true);
  assert.equal(joined({ caughtUp: true, committedHeight: 11n + lag, appliedHeight: 10n }), false);
});

test("over real gRPC, a stream opened at a joining node ends with UNAVAILABLE node/joining", async () => {
  const pass = (x: Buffer) => x;
  const def = {
    bidi: {
      path: "/test.Gate/Bidi",
      requestStream: true,
      responseStream: true,
      requestSerialize: pass,
      requestDeserialize: pass,
      responseSerialize: pass,
      responseDeserialize: pass,
    },
  };
  const server = new grpc.Server();
  server.addService(def, new JoinGate(true).wrap({ bidi: (() => undefined) as grpc.UntypedHandleCall }));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const Client = grpc.makeGenericClientConstructor(def, "Gate");
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    // grpc-js sends no status for a destroyed server stream: the client would wait forever.
    const stream = (client as unknown as { bidi(): grpc.ClientDuplexStream<Buffer, Buffer> }).bidi();
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
    stream.write(Buffer.from("read"));
    const e = await Promise.race([ended, new Promise<null>((r) => setTimeout(() => r(null), 5_000))]);
    assert.ok(e, "the stream ended with a status");
    assert.equal(e.code, grpc.status.UNAVAILABLE);
    assert.match(e.details, /^node\/joining/);
  } finally {
    client.close();
    server.forceShutdown();
  }
});

test("a node that left the membership refuses for good with node/left, even once joined", async () => {
  const served: string[] = [];
  const gate = new JoinGate(false);
  const s = gate.wrap(service(served));
  assert.equal(await callUnary(s.get), null);
  gate.leave("this node left the membership at height 68 (removed or evicted)");
  assert.equal(gate.hasLeft, true);
  const e = await callUnary(s.get);
  assert.equal(e?.code, grpc.status.UNAVAILABLE);
  assert.match(e?.details ?? "", /^node\/left: this node left the membership at height 68/);
  gate.open();
  assert.match((await callUnary(s.get))?.details ?? "", /^node\/left/);
  assert.equal(await callUnary(s.status), null);
  assert.deepEqual(served, ["get", "status"]);
});

test("clusterHeightFloor: the f+1-th highest reported height; nearCluster: within the lag bound", () => {
  assert.equal(clusterHeightFloor([], 2), null);
  assert.equal(clusterHeightFloor([500n], 2), null, "fewer answers than needed");
  assert.equal(clusterHeightFloor([500n, 90n, 480n], 2), 480n, "two report 480 or more: one is correct");
  assert.equal(
    clusterHeightFloor([10n ** 9n, 100n], 2),
    100n,
    "one liar reporting a huge height moves nothing",
  );
  const lag = BigInt(JOIN_READY_LAG_BLOCKS);
  assert.equal(nearCluster(480n - lag, 480n), true);
  assert.equal(nearCluster(479n - lag, 480n), false, "a node far behind the cluster does not open");
  assert.equal(nearCluster(108n, 245n), false);
  assert.equal(nearCluster(1000n, null), false, "without f+1 answers it waits");
});
