// The --join gate: while a node catches up, every client call but Status and Genesis is refused
// with UNAVAILABLE node/joining (unary and streaming alike); once open, calls pass through.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { JoinGate, joined } from "../../node/join-gate.js";
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
  let destroyed: Error | undefined;
  (s.getStream as (c: unknown) => void)({ destroy: (err: Error) => (destroyed = err) });
  assert.equal((destroyed as grpc.ServiceError | undefined)?.code, grpc.status.UNAVAILABLE);
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
