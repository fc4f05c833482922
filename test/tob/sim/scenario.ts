// One randomized run per seed: f Byzantine nodes with random behaviours, a hostile network (loss,
// duplication, delay, reordering, partitions) and crashes — including right after a persist, before
// the sends — until GST; then a synchronous network and fresh requests that every correct node must
// deliver within LIVENESS_BOUND ticks. Safety is checked at every delivery by the World.
// In half the runs the Byzantine identities are Twins instead: each runs as two cores with one key
// (correct, but forking below the TC's high QC when they lead after a TC), and until GST a series
// of splits puts the two copies on opposite sides, each with a share of the correct nodes.

import { BEHAVIOURS, type Behaviour } from "./byzantine.js";
import { Prng } from "./prng.js";
import { SimFailure, World, type NetConditions } from "./world.js";

/** After GST every request submitted to a correct node is delivered by every correct node within this many ticks. */
export const LIVENESS_BOUND = 2000;

export interface RunResult {
  readonly seed: number;
  readonly n: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly ticks: number;
  readonly height: number;
  readonly messages: number;
  /** Worst post-GST submit-to-delivered-everywhere latency, in ticks. */
  readonly maxLatency: number;
  readonly byzantine: string;
  /** Identities run as Twins (two instances each). */
  readonly twins: readonly number[];
  /** Equivocation evidence reports by correct nodes (double proposals, double votes). */
  readonly evidence: number;
  readonly reconfig: boolean;
  /** Lowest epoch any correct node ended in (1 after a completed validator-set change). */
  readonly epoch: number;
}

export interface RunOptions {
  readonly seed: number;
  readonly n: number;
  readonly keys?: "sim" | "ed25519";
  readonly log?: (line: string) => void;
}

export function runSeed(o: RunOptions): RunResult {
  const rng = new Prng(o.seed ^ 0x5eed);
  const n = o.n;
  const f = Math.floor((n - 1) / 3);
  let byzIdx = rng.shuffle([...Array(n).keys()]).slice(0, f);
  const byzantine = new Map<number, Set<Behaviour>>();
  for (const i of byzIdx) {
    const set = new Set<Behaviour>();
    if (rng.chance(0.15)) set.add("silent");
    else for (let k = rng.int(1, 4); k > 0; k--) set.add(rng.pick(BEHAVIOURS.filter((b) => b !== "silent")));
    byzantine.set(i, set);
  }
  // Twins draw from their own stream, so a run without them is the run the seed always gave.
  const trng = new Prng(o.seed ^ 0x7715);
  const twins = new Map<number, number>();
  // Twins runs come in two kinds: pure (each copy runs the correct core; the splits alone make it
  // equivocate) and attacking (each copy also withholds, lies in timeouts and forks: forkLeader).
  let attack = false;
  if (f > 0 && trng.chance(0.6)) {
    // Twins corrupt f identities that lead one after another (consecutive indices: consecutive
    // leaders while every validator is eligible), so one can withhold its proposal and the next,
    // leading after the resulting TC, can fork below the block that proposal's QC committed.
    byzantine.clear();
    attack = trng.chance(0.5);
    const first = trng.int(0, n - 1);
    byzIdx = Array.from({ length: f }, (_, k) => (first + k) % n);
    for (const i of byzIdx) {
      if (attack) byzantine.set(i, new Set<Behaviour>(["forkLeader"]));
      twins.set(i, 2);
    }
  }
  const gst = rng.int(300, 1500);
  const hostile: NetConditions = {
    loss: rng.chance(0.3) ? 0 : rng.float() * 0.3,
    dup: rng.float() * 0.1,
    minDelay: 1,
    maxDelay: rng.int(2, 30),
    straggle: rng.float() * 0.05,
  };
  // With Twins the splits are the adversary: within a side the network is timely and loses
  // nothing, so each side runs its rounds as fast as the protocol lets it (as in the Twins paper).
  const pre: NetConditions =
    twins.size > 0 ? { ...hostile, loss: 0, maxDelay: Math.min(hostile.maxDelay, 4), straggle: 0 } : hostile;
  const world = new World({
    seed: o.seed,
    n,
    keys: o.keys,
    byzantine,
    twins,
    net: pre,
    crashAfterPersist: rng.pick([0, 0.002, 0.01]),
    // Half the seeds run with the fill wait (from the seed, so the other draws stay as they were).
    fillRequests: o.seed % 2 === 0 ? 8 : 0,
  });
  const log = o.log ?? (() => {});
  const correct = world.correct().map((c) => c.index);
  const describe = [
    ...[...byzantine].map(([i, b]) => `${i}:${twins.has(i) ? "twins+" : ""}${[...b].join("+")}`),
    ...[...twins.keys()].filter((i) => !byzantine.has(i)).map((i) => `${i}:twins`),
  ].join(" ");
  log(
    `seed ${o.seed} n=${n} f=${f} byzantine=[${describe}] gst=${gst} net=${JSON.stringify(pre)} fill=${o.seed % 2 === 0 ? 8 : 0}`,
  );

  // Partitions before GST.
  for (let k = rng.int(0, 3); k > 0; k--) {
    const start = rng.int(0, gst - 50);
    const end = Math.min(gst, start + rng.int(20, 400));
    const groups = Array.from({ length: n }, () => rng.int(0, 1));
    world.at(start, () => {
      log(`t=${world.now} partition ${groups.join("")}`);
      world.setPartition(groups);
    });
    world.at(end, () => world.setPartition(null));
  }
  // Targeted isolation before GST: one node's outgoing traffic vanishes for a short while (often
  // just after it aggregated a QC, which is what stresses the commit and view-change rules).
  if (rng.chance(0.7)) {
    const rate = rng.int(20, 150);
    for (let t = rng.int(0, rate); t < gst; t += rng.int(1, 2 * rate)) {
      const who = rng.int(0, n - 1);
      const len = Math.min(rng.int(1, 60), gst - t);
      world.at(t, () => world.mute(who, len));
    }
  }
  // Twins splits before GST: the copies of each twinned identity on opposite sides, the correct
  // nodes shared out as evenly as they go (so, with the twins, each side holds at least 2f
  // identities and one of them a quorum: the split where a quorum rule off by one shows); splits
  // follow one another with short healed gaps.
  if (twins.size > 0) {
    for (let t = trng.int(0, 100); t < gst;) {
      const len = Math.min(trng.int(30, 300), gst - t);
      const sides = world.instances.map(() => -1);
      const shuffled = trng.shuffle(correct.slice());
      const cut = trng.chance(0.5) ? Math.floor(shuffled.length / 2) : Math.ceil(shuffled.length / 2);
      shuffled.forEach((i, k) => (sides[world.nodes[i]!.uid] = k < cut ? 0 : 1));
      for (const i of twins.keys()) {
        const first = trng.int(0, 1);
        world.instancesOf(i).forEach((x, k) => (sides[x.uid] = k === 0 ? first : 1 - first));
      }
      world.at(t, () => {
        log(`t=${world.now} twins split ${sides.join("")}`);
        world.setSplit(sides);
      });
      world.at(t + len, () => world.setSplit(null));
      t += len + trng.int(1, 60);
    }
  }
  // With Twins, until GST the network also isolates a correct node the moment it commits, for a
  // few rounds, now and then: if it aggregated the QC that committed, nobody else learns of that
  // QC, and the others' next TC reports only the lock below it. And it loses a correct leader's
  // proposal outright now and then.
  if (twins.size > 0) {
    if (attack)
      world.onCommit = (node) => {
        if (world.now < gst && node.correct && trng.chance(0.3)) world.mute(node.index, trng.int(60, 250));
      };
    const lost = new WeakMap<Uint8Array, boolean>();
    world.dropIf = (from, _to, bytes) => {
      if (world.now >= gst || bytes[1] !== 1 || !world.isCorrect(from)) return false;
      let drop = lost.get(bytes);
      if (drop === undefined) lost.set(bytes, (drop = trng.chance(0.1)));
      return drop;
    };
  }
  // Crashes of correct nodes before GST (any number of them: safety must not care).
  for (let k = rng.int(0, n); k > 0; k--) {
    const who = rng.pick(correct);
    const start = rng.int(0, gst - 20);
    const end = Math.min(gst, start + rng.int(10, 300));
    world.at(start, () => {
      log(`t=${world.now} crash ${who}`);
      world.crash(who);
    });
    world.at(end, () => world.restart(who));
  }
  // A validator-set change evicting a Byzantine node, in some runs.
  const reconfig = f > 0 && rng.chance(0.25);
  let members = [...Array(n).keys()];
  if (reconfig) {
    const evict = byzIdx[0]!;
    members = members.filter((i) => i !== evict);
    const when = rng.int(0, gst);
    let digest = "";
    world.at(when, () => {
      log(`t=${world.now} submit reconfig evicting ${evict}`);
      digest = world.submitReconfig(rng.pick(correct), members);
    });
    // A client retries after GST if its request was lost with a crashed node's pool.
    world.at(gst + 1, () => {
      if (!world.correct().some((c) => c.requestsSeen.has(digest)))
        world.submitReconfig(rng.pick(correct), members);
    });
  }
  // Load before GST.
  for (let t = rng.int(0, 30); t < gst; t += rng.int(5, 40))
    world.at(t, () => void world.submit(rng.pick(correct)));
  // GST: the network turns synchronous; every node is up.
  world.at(gst, () => {
    log(`t=${world.now} GST`);
    world.setPartition(null);
    world.setSplit(null);
    world.net = { loss: 0, dup: pre.dup, minDelay: 1, maxDelay: 3, straggle: 0 };
    world.crashAfterPersist = 0;
    for (const i of correct) world.restart(i);
  });
  const probes: string[] = [];
  const lastSubmit = gst + 400;
  for (let t = gst + 10; t <= lastSubmit; t += 25)
    world.at(t, () => void probes.push(world.submit(rng.pick(correct))));

  let error: string | undefined;
  let maxLatency = 0;
  try {
    world.run(lastSubmit + LIVENESS_BOUND + 1);
    // Liveness: every post-GST request reached every correct node of the final validator set in time.
    const finalSet = new Set(members);
    const judges = world.correct().filter((c) => finalSet.has(c.index));
    for (const p of probes) {
      const sub = world.submitted.get(p)!;
      for (const j of judges) {
        const at = j.requestsSeen.get(p);
        if (at === undefined || at - sub.tick > LIVENESS_BOUND)
          throw new SimFailure(
            `LIVENESS: request ${p.slice(0, 12)} submitted at ${sub.tick} not delivered by node ${j.index} within ${LIVENESS_BOUND} ticks`,
          );
        maxLatency = Math.max(maxLatency, at - sub.tick);
      }
    }
  } catch (e) {
    if (!(e instanceof SimFailure)) throw e;
    error = e.message;
  }
  const height = Math.max(...world.correct().map((c) => c.disk.applied));
  const epoch = Math.min(...world.correct().map((c) => c.core?.status().epoch ?? -1));
  if (!error && reconfig && epoch !== 1) error = `reconfiguration did not complete (epoch ${epoch})`;
  return {
    seed: o.seed,
    n,
    ok: error === undefined,
    error,
    ticks: world.now,
    height,
    messages: world.messages,
    maxLatency,
    byzantine: describe,
    twins: [...twins.keys()],
    evidence: world.evidence.length,
    reconfig,
    epoch,
  };
}
