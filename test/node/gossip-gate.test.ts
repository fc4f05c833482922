// Requests gossiped by a peer enter the broadcast's pool only if they decode and their signature
// verifies: honest gossip passes as sent, junk is dropped, a mix is re-encoded with the good ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gateGossip } from "../../node/gossip-gate.js";
import { decodeMessage, encodeMessage } from "../../node/tob/core/index.js";
import { bytesEqual } from "../../node/common/bytes.js";

const good = (n: number) => new Uint8Array([1, n, 2, 3]);
const junk = (n: number) => new Uint8Array([9, n]);
const admissible = (r: Uint8Array) => r[0] === 1;
const gossip = (requests: Uint8Array[]) => encodeMessage({ kind: "requests", requests });

test("every request admissible: the very bytes go on", () => {
  const bytes = gossip([good(1), good(2)]);
  assert.equal(gateGossip(bytes, admissible), bytes);
});

test("no request admissible, or a gossip that does not decode: nothing goes on", () => {
  assert.equal(gateGossip(gossip([junk(1), junk(2)]), admissible), null);
  const cut = gossip([good(1)]).subarray(0, 5);
  assert.equal(gateGossip(cut, admissible), null);
});

test("a mix: the admissible requests go on, in their order, re-encoded", () => {
  const out = gateGossip(gossip([junk(1), good(2), junk(3), good(4)]), admissible)!;
  const m = decodeMessage(out);
  assert.equal(m.kind, "requests");
  assert.deepEqual(m.kind === "requests" ? m.requests.map((r) => [...r]) : [], [[...good(2)], [...good(4)]]);
});

test("other consensus messages pass untouched, whatever they carry", () => {
  const sync = encodeMessage({ kind: "syncRequest", epoch: 0, fromHeight: 5 });
  assert.ok(
    bytesEqual(
      gateGossip(sync, () => false)!,
      sync,
    ),
  );
  const garbage = new Uint8Array([1, 2, 0xff, 0xff]);
  assert.equal(
    gateGossip(garbage, () => false),
    garbage,
  );
});
