// A BFT cluster keeps its speed with one node down. Driven in the simulator (ticks, seeded, so the
// figures are exact and replayable): with one of four nodes crashed, or silent (a paused process),
// the cluster commits at least half as many blocks per tick as with all up, and the median commit
// latency stays within three times the all-up one; leadership moves off the dead node and comes
// back to it once it returns.

import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeBlock } from "../../node/tob/core/index.js";
import { World, type SimNode } from "./sim/world.js";

type Fault = "none" | "crash" | "silent";

const DOWN = 3;
const SEED = 71;

function world(fault: Fault, maxBlockRequests?: number): World {
  const byzantine = fault === "silent" ? new Map([[DOWN, new Set(["silent" as const])]]) : undefined;
  return new World({ seed: SEED, n: 4, byzantine, maxBlockRequests });
}

function live(w: World): SimNode[] {
  return w.correct().filter((n) => n.up);
}

/** Committed blocks per 1,000 ticks under a load the cluster cannot keep up with. */
function saturatedBlockRate(fault: Fault): number {
  // Two requests per block and one request per tick: blocks, not requests, are the bottleneck.
  const w = world(fault, 2);
  w.run(50);
  if (fault === "crash") w.crash(DOWN);
  let k = 0;
  const load = (): void => {
    const up = live(w);
    w.submit(up[k++ % up.length]!.index);
  };
  for (let t = 0; t < 200; t++, w.tick()) load();
  const probe = live(w)[0]!.index;
  const from = w.heightOf(probe);
  const span = 3000;
  for (let t = 0; t < span; t++, w.tick()) load();
  assert.equal(w.violations.length, 0);
  return ((w.heightOf(probe) - from) * 1000) / span;
}

/** Median ticks from submission to delivery at the node that took the request, at a light load. */
function p50Latency(fault: Fault): number {
  const w = world(fault);
  w.run(50);
  if (fault === "crash") w.crash(DOWN);
  w.run(200);
  const taken: { digest: string; node: SimNode; at: number }[] = [];
  for (let k = 0; k < 200; k++) {
    const up = live(w);
    const node = up[k % up.length]!;
    taken.push({ digest: w.submit(node.index), node, at: w.now });
    w.run(7);
  }
  w.run(500);
  assert.equal(w.violations.length, 0);
  const lat = taken.map((x) => {
    const h = x.node.requestsSeen.get(x.digest);
    assert.ok(h !== undefined, "every request is delivered");
    return h - x.at;
  });
  lat.sort((a, b) => a - b);
  return lat[Math.floor(lat.length / 2)]!;
}

function checkOneDown(fault: Fault, report: (msg: string) => void): void {
  const up = saturatedBlockRate("none");
  const down = saturatedBlockRate(fault);
  const p50Up = p50Latency("none");
  const p50Down = p50Latency(fault);
  report(`blocks per 1,000 ticks ${up} → ${down}; p50 latency ${p50Up} → ${p50Down} ticks`);
  assert.ok(down >= 0.5 * up, `blocks per 1,000 ticks: ${down} with one ${fault}, ${up} with all up`);
  assert.ok(p50Down <= 3 * p50Up, `p50 latency: ${p50Down} ticks with one ${fault}, ${p50Up} with all up`);
}

test("one node crashed: at least half the block rate and at most 3× the median latency", (t) => {
  checkOneDown("crash", (m) => t.diagnostic(m));
});

test("one node silent (a paused process): at least half the block rate and at most 3× the median latency", (t) => {
  checkOneDown("silent", (m) => t.diagnostic(m));
});

/** Authors of the blocks node `i` delivered above `from`. */
function authors(w: World, i: number, from: number): number[] {
  const disk = w.nodes[i]!.disk;
  const out: number[] = [];
  for (let h = from + 1; h <= disk.top; h++) out.push(decodeBlock(disk.ledger.get(h)!).author);
  return out;
}

test("a crashed node stops being chosen to lead, and leads again once it is back", () => {
  const w = world("none", 2);
  let k = 0;
  const load = (): void => {
    const up = live(w);
    if (k % 3 === 0) w.submit(up[k % up.length]!.index);
    k++;
  };
  for (let t = 0; t < 300; t++, w.tick()) load();
  assert.ok(authors(w, 0, 0).includes(DOWN), "all four lead while all are up");
  w.crash(DOWN);
  for (let t = 0; t < 300; t++, w.tick()) load();
  const during = w.heightOf(0);
  for (let t = 0; t < 1000; t++, w.tick()) load();
  const dead = authors(w, 0, during).length;
  assert.ok(dead > 50, `the three others keep committing (${dead} blocks)`);
  w.restart(DOWN);
  const back = w.heightOf(0);
  for (let t = 0; t < 2000; t++, w.tick()) load();
  const led = authors(w, 0, back).filter((a) => a === DOWN).length;
  assert.ok(led > 0, "the returned node leads again");
  assert.equal(w.violations.length, 0);
});
