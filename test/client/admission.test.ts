// Handing a request to the nodes (client/admission.ts), with scripted node answers: the write goes
// on once one node admitted it, however long another takes; a node that does not answer within
// SUBMIT_ANSWER_MS is reported slow and another node gets the request so that f+1 still hold it;
// a refusal counts only once f+1 nodes give it alike (one node's refusal sends the request to the
// next node); refusals and unreachable nodes end it with the right typed error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { admitRequest, SUBMIT_ANSWER_MS, type Admission, type AdmissionAck } from "../../client/admission.js";
import { Deadline } from "../../client/deadline.js";
import { RequestRejected, UnavailableError } from "../../client/errors.js";

const ID = new Uint8Array(32);
const ok: AdmissionAck = { accepted: true, reason: "", message: "" };
const never = () => new Promise<AdmissionAck>(() => undefined);
/** admitRequest with 4 nodes, f+1 = 2, a 10 s deadline, unless `o` says otherwise. */
const admit = (o: Partial<Admission> & Pick<Admission, "execute">) =>
  admitRequest({
    id: ID,
    order: [0, 1, 2, 3],
    want: 1,
    trust: 2,
    dl: new Deadline(10_000, "test"),
    slow: () => undefined,
    ...o,
  });
const after = (ms: number, ack: AdmissionAck) =>
  new Promise<AdmissionAck>((r) => setTimeout(() => r(ack), ms).unref());

test("the first admission ends the wait; a hanging node is reported slow and replaced", async () => {
  const asked: number[] = [];
  const slow: number[] = [];
  const t0 = Date.now();
  const first = await admit({
    want: 2,
    execute: (node) => {
      asked.push(node);
      return node === 0 ? never() : after(20, ok);
    },
    slow: (node) => slow.push(node),
  });
  assert.equal(first, 1);
  assert.ok(Date.now() - t0 < SUBMIT_ANSWER_MS, "no wait for the hanging node");
  assert.deepEqual(asked, [0, 1]);
  // In the background, the hanging node is reported and the next node gets the request.
  await new Promise((r) => setTimeout(r, SUBMIT_ANSWER_MS + 100));
  assert.deepEqual(slow, [0]);
  assert.deepEqual(asked, [0, 1, 2]);
});

test("when the first nodes hang, the request reaches others after SUBMIT_ANSWER_MS", async () => {
  const t0 = Date.now();
  const first = await admit({ want: 2, execute: (node) => (node < 2 ? never() : Promise.resolve(ok)) });
  assert.equal(first, 2);
  const took = Date.now() - t0;
  assert.ok(took >= SUBMIT_ANSWER_MS && took < 5_000, `took ${took} ms`);
});

test("f+1 refusals alike end it with their reason; unreachable nodes with client/unavailable", async () => {
  const refusedBy: number[] = [];
  await assert.rejects(
    admit({
      execute: (node) => {
        refusedBy.push(node);
        return Promise.resolve({ accepted: false, reason: "bad-signature", message: "no" });
      },
    }),
    (e: unknown) => e instanceof RequestRejected && e.code === "bad-signature",
  );
  assert.deepEqual(refusedBy, [0, 1], "refused once f+1 = 2 nodes agree");
  const asked: number[] = [];
  await assert.rejects(
    admit({
      want: 2,
      execute: (node) => {
        asked.push(node);
        return Promise.reject(new Error("connection refused"));
      },
    }),
    (e: unknown) =>
      e instanceof UnavailableError &&
      e.code === "client/unavailable" &&
      /node 3: connection refused/.test(e.message),
  );
  assert.deepEqual(asked, [0, 1, 2, 3], "an unreachable node is replaced by the next");
});

test("one node's refusal is not believed: the next node admits the request, or the refusal is named in client/unavailable", async () => {
  // A lying node passes the request on and answers "expired": a caller that re-signed would pay twice.
  const liar = { accepted: false, reason: "expired", message: "lie" };
  const first = await admit({ execute: (node) => Promise.resolve(node === 0 ? liar : ok) });
  assert.equal(first, 1);
  // Two different refusals are not f+1 alike; the others are unreachable.
  await assert.rejects(
    admit({
      execute: (node) =>
        node === 0
          ? Promise.resolve(liar)
          : node === 1
            ? Promise.resolve({ accepted: false, reason: "trap", message: "trap: insufficient funds" })
            : Promise.reject(new Error("connection refused")),
    }),
    (e: unknown) =>
      e instanceof UnavailableError &&
      e.code === "client/unavailable" &&
      /node 0 refused it \(expired: lie\)/.test(e.message) &&
      /node 1 refused it \(trap/.test(e.message),
  );
  // In a one-node cluster (f = 0) the node's refusal is the answer.
  await assert.rejects(
    admitRequest({
      id: ID,
      order: [0],
      want: 1,
      trust: 1,
      dl: new Deadline(10_000, "test"),
      execute: () => Promise.resolve(liar),
      slow: () => undefined,
    }),
    (e: unknown) => e instanceof RequestRejected && e.code === "expired",
  );
});

test("a deadline ends a call with what it was waiting for", async () => {
  const dl = new Deadline(50, "test");
  dl.waitingFor("client/no-receipt", () => "no receipt from f+1 = 2 nodes");
  const t0 = Date.now();
  await assert.rejects(
    dl.run(new Promise(() => undefined)),
    (e: unknown) =>
      e instanceof UnavailableError &&
      e.code === "client/no-receipt" &&
      /no receipt from f\+1/.test(e.message),
  );
  assert.ok(Date.now() - t0 < 1_000);
  assert.equal(dl.expired, true);
  assert.equal(dl.cap(100), 1, "a gRPC deadline is never 0 (none)");
});
