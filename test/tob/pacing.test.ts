// Pacing of the core when the cluster is idle or lightly loaded, driven in the simulator: an idle
// cluster runs no view changes and grows no chain; a request arriving then is proposed at once
// and committed everywhere within a few message delays (not a round timeout); the QC that commits
// a burst reaches every node; a node that missed a burst's end learns it by polling; a request
// held by one node only (its origin crashed) is still ordered; a crashed leader of the open round
// cannot stall a request.

import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_TIMING, TobCore } from "../../node/tob/core/index.js";
import { World } from "./sim/world.js";

/** Counts the messages put on the wire by kind byte (1 proposal … 6 syncResponse), dropping none. */
function countKinds(w: World): Map<number, number> {
  const seen = new Map<number, number>();
  w.dropIf = (_from, _to, bytes) => {
    seen.set(bytes[1]!, (seen.get(bytes[1]!) ?? 0) + 1);
    return false;
  };
  return seen;
}

const TIMEOUT = 3;
const PROPOSAL = 1;

function heights(w: World): number[] {
  return w.nodes.map((n) => n.disk.applied);
}

test("idle cluster: no view changes, no empty blocks", () => {
  const w = new World({ seed: 11, n: 4 });
  const r = w.submit(0);
  w.run(100);
  assert.ok(w.deliveredEverywhere(r, w.nodes));
  const before = heights(w);
  const rounds = w.nodes.map((n) => n.core!.status().round);
  const kinds = countKinds(w);
  w.run(3000);
  assert.equal(kinds.get(TIMEOUT) ?? 0, 0, "no timeouts while idle");
  assert.equal(kinds.get(PROPOSAL) ?? 0, 0, "no empty proposals while idle");
  assert.deepEqual(heights(w), before);
  assert.deepEqual(
    w.nodes.map((n) => n.core!.status().round),
    rounds,
  );
  assert.equal(w.violations.length, 0);
});

test("a request in an idle cluster is committed everywhere within a few message delays", () => {
  const w = new World({ seed: 12, n: 4 });
  w.run(50);
  const kinds = countKinds(w);
  for (let k = 0; k < 20; k++) {
    // SYNCHRONOUS: 1..3 ticks per message. Gossip, proposal, vote, proposal, vote, announce.
    const r = w.submit(k % 4);
    const t0 = w.now;
    assert.ok(
      w.runUntil(() => w.deliveredEverywhere(r, w.nodes), 6 * 3 + 2),
      `request ${k} delivered by every node in ${w.now - t0} ticks`,
    );
    assert.ok(w.now - t0 < DEFAULT_TIMING.baseTimeoutTicks, "well before any round timeout");
    w.run(200);
  }
  assert.equal(kinds.get(TIMEOUT) ?? 0, 0, "no timeouts");
  // Every node applied the same heights: the commit of each burst reached everyone.
  const h = heights(w);
  assert.ok(h.every((x) => x >= 20));
  assert.ok(
    Math.max(...h) - Math.min(...h) <= 1,
    `heights ${h.join(",")}: at most the empty block after the last request differs`,
  );
  // Each isolated request costs its block and one empty block (its QC carrier), not a chain of them.
  assert.ok(Math.max(...h) <= 2 * 20 + 1, `height ${Math.max(...h)} for 20 isolated requests`);
  assert.equal(w.violations.length, 0);
});

test("a node that missed the end of a burst learns it by polling while the cluster idles", () => {
  const w = new World({ seed: 13, n: 4 });
  w.run(20);
  // Node 3 hears nothing at all for a while: the requests, the proposals, the announcement.
  let deaf = true;
  w.dropIf = (_from, to) => deaf && to === 3;
  const reqs = [w.submit(0), w.submit(1), w.submit(2)];
  w.run(200);
  assert.ok(reqs.every((r) => w.deliveredEverywhere(r, w.nodes.slice(0, 3))));
  assert.equal(w.heightOf(3), 0);
  deaf = false;
  // Nothing is pending anywhere: only the idle poll can tell node 3.
  assert.ok(
    w.runUntil(() => w.heightOf(3) >= Math.min(...heights(w).slice(0, 3)), 3 * DEFAULT_TIMING.idleSyncTicks),
    `node 3 caught up (heights ${heights(w).join(",")})`,
  );
  assert.ok(reqs.every((r) => w.deliveredEverywhere(r, w.nodes)));
  assert.equal(w.violations.length, 0);
});

test("a request only one node holds (its origin crashed before gossiping it) is ordered", () => {
  const w = new World({ seed: 14, n: 4 });
  w.run(20);
  // Node 0 gossips the request to node 1 only, then crashes with its pool.
  w.dropIf = (from, to) => from === 0 && to !== 1;
  const r = w.submit(0);
  w.run(5);
  w.crash(0);
  w.dropIf = null;
  w.run(5);
  w.restart(0);
  assert.ok(
    w.runUntil(() => w.deliveredEverywhere(r, w.nodes), 2 * DEFAULT_TIMING.regossipTicks + 200),
    "delivered everywhere",
  );
  assert.equal(w.violations.length, 0);
});

test("a crashed leader of the open round cannot stall a request: pending work runs the timers", () => {
  const w = new World({ seed: 15, n: 4 });
  const first = w.submit(1);
  w.run(100);
  assert.ok(w.deliveredEverywhere(first, w.nodes));
  // The open round's leader is the node furthest ahead (it aggregated the last QC).
  const round = Math.max(...w.nodes.map((n) => n.core!.status().round));
  const leader = round % 4;
  w.crash(leader);
  const live = w.nodes.filter((n) => n.index !== leader);
  const r = w.submit(live[0]!.index);
  assert.ok(
    w.runUntil(() => w.deliveredEverywhere(r, live), 20 * DEFAULT_TIMING.baseTimeoutTicks),
    "the others time out the crashed leader and order the request",
  );
  w.restart(leader);
  assert.ok(
    w.runUntil(() => w.deliveredEverywhere(r, w.nodes), 500),
    "and the leader catches up",
  );
  assert.equal(w.violations.length, 0);
});

/** Steps after which a core held a proposal for more requests, while `run` runs. */
function countHolds(run: () => void): number {
  const proto = TobCore.prototype as unknown as { stepAll: TobCore["stepAll"] };
  const original = proto.stepAll;
  let holds = 0;
  proto.stepAll = function (this: TobCore, inputs) {
    const step = original.call(this, inputs);
    if (this.filling) holds++;
    return step;
  };
  try {
    run();
  } finally {
    proto.stepAll = original;
  }
  return holds;
}

/** Requests submitted one per tick to rotating nodes, all delivered everywhere; holds counted. */
function burst(fillRequests: number, count: number): number {
  const w = new World({ seed: 31, n: 4, fillRequests });
  w.run(50);
  const holds = countHolds(() => {
    const sent: string[] = [];
    for (let k = 0; k < count; k++) {
      sent.push(w.submit(k % 4));
      w.run(1);
    }
    assert.ok(
      w.runUntil(() => sent.every((r) => w.deliveredEverywhere(r, w.nodes)), 500),
      "every request delivered",
    );
  });
  assert.equal(w.violations.length, 0);
  return holds;
}

test("the fill wait: leaders in a burst hold small proposals; a lone request in an idle cluster does not wait", () => {
  assert.equal(burst(0, 120), 0, "no fill wait unless configured");
  assert.ok(burst(8, 120) > 0, "small proposals held in a burst");
  const w = new World({ seed: 12, n: 4, fillRequests: 8 });
  w.run(50);
  const holds = countHolds(() => {
    for (let k = 0; k < 10; k++) {
      const r = w.submit(k % 4);
      const t0 = w.now;
      assert.ok(
        w.runUntil(() => w.deliveredEverywhere(r, w.nodes), 6 * 3 + 2),
        `request ${k} delivered by every node in ${w.now - t0} ticks`,
      );
      w.run(40);
    }
  });
  assert.equal(holds, 0, "a lone request is proposed at once");
  assert.equal(w.violations.length, 0);
});
