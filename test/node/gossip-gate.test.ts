// Requests gossiped by a peer enter the broadcast's pool only if they decode and their signature
// verifies: honest gossip passes as sent, junk is dropped, a mix is re-encoded with the good ones.
// At most a slice of requests is checked per event-loop turn, shared among the peers with gossip
// waiting, and the queues behind it are bounded per peer and in all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GossipGate } from "../../node/gossip-gate.js";
import { decodeMessage, encodeMessage } from "../../node/tob/core/index.js";
import {
  GOSSIP_CHECK_QUEUE,
  GOSSIP_CHECK_QUEUE_BYTES,
  GOSSIP_PEER_QUEUE,
  GOSSIP_PEER_QUEUE_BYTES,
  TOB_MAX_GOSSIP_REQUESTS,
} from "../../node/common/limits.js";

const good = (n: number) => new Uint8Array([1, n & 0xff, n >> 8, 3]);
const junk = (n: number) => new Uint8Array([9, n & 0xff]);
const gossip = (requests: Uint8Array[]) => encodeMessage({ kind: "requests", requests });
const nextTurn = () => new Promise((r) => setImmediate(r));

function gate(slice = 128) {
  const out: Array<{ from: string; bytes: Uint8Array }> = [];
  const refused: string[] = [];
  let checks = 0;
  const g = new GossipGate(
    (r) => (checks++, r[0] === 1),
    (from, bytes) => out.push({ from, bytes }),
    slice,
    (reason) => refused.push(reason),
  );
  return { g, out, refused, checks: () => checks };
}

test("every request admissible: the very bytes go on; none: nothing does", () => {
  const { g, out } = gate();
  const bytes = gossip([good(1), good(2)]);
  g.take("p", bytes);
  g.take("p", gossip([junk(1), junk(2)]));
  g.take("p", gossip([good(1)]).subarray(0, 5)); // does not decode
  assert.equal(out.length, 1);
  assert.equal(out[0]!.bytes, bytes);
  g.close();
});

test("a mix: the admissible requests go on, in their order, re-encoded", () => {
  const { g, out, refused } = gate();
  g.take("p", gossip([junk(1), good(2), junk(3), good(4)]));
  assert.deepEqual(refused, ["gossip/inadmissible", "gossip/inadmissible"], "each refusal is told");
  const m = decodeMessage(out[0]!.bytes);
  assert.deepEqual(m.kind === "requests" ? m.requests.map((r) => [...r]) : [], [[...good(2)], [...good(4)]]);
  g.close();
});

test("other consensus messages pass untouched and at once, even behind a queued gossip", () => {
  const { g, out } = gate(4);
  g.take("p", gossip(Array.from({ length: 10 }, (_, i) => good(i))));
  const sync = encodeMessage({ kind: "syncRequest", epoch: 0, fromHeight: 5 });
  g.take("q", sync);
  assert.deepEqual(
    out.map((o) => o.from),
    ["q"],
  );
  g.close();
});

test("at most a slice of requests is checked per turn; a large gossip goes on whole after its turns", async () => {
  const { g, out, checks } = gate(128);
  const requests = Array.from({ length: 300 }, (_, i) => good(i));
  const bytes = gossip(requests);
  g.take("p", bytes);
  g.take("p", gossip([good(7)])); // same turn: waits behind
  assert.equal(checks(), 128);
  assert.equal(out.length, 0);
  await nextTurn();
  assert.equal(checks(), 256);
  await nextTurn();
  assert.equal(checks(), 301);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.bytes, bytes);
  assert.equal(g.waiting, 0);
  g.close();
});

test("past GOSSIP_PEER_QUEUE waiting requests of one peer, or GOSSIP_CHECK_QUEUE in all, a gossip is dropped", () => {
  const { g, refused } = gate(1);
  const full = Array.from({ length: TOB_MAX_GOSSIP_REQUESTS }, (_, i) => good(i));
  for (let i = 0; i < GOSSIP_PEER_QUEUE / TOB_MAX_GOSSIP_REQUESTS; i++) g.take("p", gossip(full));
  assert.equal(g.dropped, 0);
  g.take("p", gossip(full));
  assert.equal(g.dropped, 1, "p's share is full");
  assert.deepEqual(refused, ["gossip/queue-full"]);
  let peer = 0;
  while (g.waiting + TOB_MAX_GOSSIP_REQUESTS <= GOSSIP_CHECK_QUEUE) g.take(`q${peer++}`, gossip(full));
  assert.equal(g.dropped, 1);
  g.take(`q${peer}`, gossip(full));
  assert.equal(g.dropped, 2, "the whole queue is full");
  assert.ok(g.waiting <= GOSSIP_CHECK_QUEUE);
  g.close();
});

test("a peer flooding junk fills its own share only: another peer's gossip is checked and goes on within a few turns", async () => {
  const { g, out } = gate(128);
  const flood = () => gossip(Array.from({ length: TOB_MAX_GOSSIP_REQUESTS }, (_, i) => junk(i)));
  for (let i = 0; i < 20; i++) g.take("liar", flood());
  assert.ok(g.dropped > 0, "the liar's share overflowed");
  const honest = gossip([good(1), good(2)]);
  g.take("honest", honest);
  for (let turn = 0; turn < 3 && out.length === 0; turn++) {
    g.take("liar", flood());
    await nextTurn();
  }
  assert.deepEqual(
    out.map((o) => o.from),
    ["honest"],
  );
  assert.equal(out[0]!.bytes, honest);
  g.close();
});

test("past GOSSIP_PEER_QUEUE_BYTES of one peer, or GOSSIP_CHECK_QUEUE_BYTES in all, a gossip of large requests is dropped", () => {
  const { g, refused } = gate(1);
  const big = (n: number) => {
    const r = new Uint8Array(1024 * 1024);
    r[0] = 1;
    r[1] = n;
    return r;
  };
  const eight = () => gossip(Array.from({ length: 8 }, (_, i) => big(i)));
  const perPeer = Math.floor(GOSSIP_PEER_QUEUE_BYTES / eight().length);
  for (let i = 0; i < perPeer; i++) g.take("p", eight());
  assert.equal(g.dropped, 0);
  g.take("p", eight());
  assert.equal(g.dropped, 1, "p's bytes are full, though its request count is far from GOSSIP_PEER_QUEUE");
  assert.ok(g.waiting < GOSSIP_PEER_QUEUE);
  let peer = 0;
  for (let i = 0; i < Math.floor(GOSSIP_CHECK_QUEUE_BYTES / eight().length) - perPeer; i++)
    g.take(`q${peer++ % 8}`, eight());
  const before = g.dropped;
  g.take(`q${peer}`, eight());
  assert.equal(g.dropped, before + 1, "the whole queue's bytes are full");
  assert.ok(refused.every((r) => r === "gossip/queue-full"));
  g.close();
});

test("a peer past its junk allowance is passed over and its new gossip dropped until the allowance refills; others go on", async () => {
  let now = 0;
  const out: Array<{ from: string; bytes: Uint8Array }> = [];
  const refused: string[] = [];
  const checkedFrom = new Map<string, number>();
  let current = "";
  const g = new GossipGate(
    (r) => (checkedFrom.set(current, (checkedFrom.get(current) ?? 0) + 1), r[0] === 1),
    (from, bytes) => out.push({ from, bytes }),
    128,
    (reason) => refused.push(reason),
    { perSecond: 10, burst: 20, now: () => now },
  );
  // The checker cannot see who sent a request: tell by the request's second byte.
  const tagged = (from: string, reqs: Uint8Array[]) => {
    current = from;
    g.take(from, gossip(reqs));
  };
  tagged(
    "junky",
    Array.from({ length: 50 }, (_, i) => junk(i)),
  );
  for (let t = 0; t < 5; t++) await nextTurn();
  assert.equal(checkedFrom.get("junky"), 20, "the burst, and not one check more");
  assert.equal(refused.filter((r) => r === "gossip/inadmissible").length, 20);
  // Its next gossip is dropped unchecked; an honest peer's passes at once.
  tagged("junky", [junk(99)]);
  assert.deepEqual(refused.slice(-1), ["gossip/peer-junk"]);
  tagged("honest", [good(1), good(2)]);
  assert.equal(out.filter((o) => o.from === "honest").length, 1);
  assert.equal(checkedFrom.get("junky"), 20);
  // A second later it has 10 more: 10 more of its queued junk are checked (the timer comes back).
  now += 1000;
  current = "junky";
  await new Promise((r) => setTimeout(r, 150));
  for (let t = 0; t < 3; t++) await nextTurn();
  assert.equal(checkedFrom.get("junky"), 30);
  g.close();
});
