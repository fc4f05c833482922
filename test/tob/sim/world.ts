// The deterministic simulator: n consensus cores in one process over a simulated network and clock.
// Everything random draws from the run's seeded PRNG and events at the same tick run in the order
// they were scheduled, so a seed replays exactly. Invariants are checked as deliveries happen.
// Twins (Bano et al., "Twins: BFT Systems Made Robust"): a Byzantine identity may run as several
// instances of the correct core with the same key, each with its own disk and state. Split across
// a partition (`setSplit`), they equivocate the way a real attacker would — two proposals in one
// round, votes for both, timeouts reporting different certificates — without any scripted attack.

import { toHex } from "../../../node/common/bytes.js";
import {
  TobCore,
  peerIdOf,
  reconfigHeight,
  requestDigest,
  type Delivery,
  type PersistBatch,
  type Send,
  type Timing,
} from "../../../node/tob/core/index.js";
import { Adversary, type Behaviour } from "./byzantine.js";
import { Disk } from "./disk.js";
import { ed25519Keys, simKeys, type KeyRing } from "./keys.js";
import { Prng } from "./prng.js";

export interface NetConditions {
  /** Probability a message is lost. */
  loss: number;
  /** Probability a message is delivered twice. */
  dup: number;
  minDelay: number;
  maxDelay: number;
  /** Probability a message is held back for up to 10 × maxDelay (reordering). */
  straggle: number;
}

export const SYNCHRONOUS: NetConditions = { loss: 0, dup: 0, minDelay: 1, maxDelay: 3, straggle: 0 };

export interface WorldOptions {
  seed: number;
  n: number;
  keys?: "sim" | "ed25519";
  byzantine?: ReadonlyMap<number, ReadonlySet<Behaviour>>;
  timing?: Partial<Timing>;
  maxBlockRequests?: number;
  /** The fill wait (CoreConfig.fillRequests); the simulated shell never sends `fill`, so a held proposal waits for the next tick. */
  fillRequests?: number;
  net?: NetConditions;
  /** Probability that a node crashes right after a persist, before its sends leave. */
  crashAfterPersist?: number;
  /** Log every violation instead of throwing at the first. */
  trace?: boolean;
  /**
   * Twins: identity → number of instances (≥ 2) running the core with that identity's key, each
   * with its own disk. Such an identity is Byzantine (not checked, not crashed by scenarios); if it
   * also has `byzantine` behaviours, every instance gets its own adversary with them.
   */
  twins?: ReadonlyMap<number, number>;
}

export class SimFailure extends Error {}

interface Ev {
  kind: "msg" | "action";
  from?: number;
  to?: SimNode;
  bytes?: Uint8Array;
  action?: () => void;
}

/** Prefix of a request that makes the simulated application schedule a validator-set change. */
const RECONF = "RECONF:";

export class SimNode {
  core: TobCore | null = null;
  readonly disk = new Disk();
  /** Heights delivered and applied (app state, durable like the disk). */
  readonly delivered = new Map<number, string>();
  readonly requestsSeen = new Map<string, number>();
  /** request → height it was delivered at. */
  readonly requestHeights = new Map<string, number>();
  /** Validator-set changes the application decided (durable with its state, like `delivered`). */
  readonly schedules: { fromHeight: number; validators: Uint8Array[] }[] = [];
  crashes = 0;
  downUntil = -1;

  constructor(
    readonly index: number,
    readonly adversary: Adversary | null,
    /** Position in World.instances (unique, unlike `index` when an identity has twins). */
    readonly uid: number,
    /** One of several instances of a Byzantine identity (Twins). */
    readonly twin = false,
  ) {}

  get up(): boolean {
    return this.core !== null;
  }

  /** A correct node: the safety and liveness checks apply to it. */
  get correct(): boolean {
    return this.adversary === null && !this.twin;
  }
}

export class World {
  readonly rng: Prng;
  private readonly netRng: Prng;
  readonly keys: KeyRing;
  readonly networkId: Uint8Array;
  /** One node per identity (for a twinned identity, its first instance). */
  readonly nodes: SimNode[];
  /** Every running instance: `nodes`, then the extra twin instances. */
  readonly instances: SimNode[];
  readonly ids: string[];
  private readonly idIndex = new Map<string, number>();
  now = 0;
  net: NetConditions;
  partition: number[] | null = null;
  /** Side of each instance (by uid) while a Twins split is on: instances hear only their own side. */
  split: number[] | null = null;
  /** Until which tick each node's outgoing messages are all lost (targeted isolation). */
  readonly mutedUntil: number[];
  crashAfterPersist: number;
  private readonly events = new Map<number, Ev[]>();
  /** Scenario hook: drop this message (checked at send time, after the other network faults). */
  dropIf: ((from: number, to: number, bytes: Uint8Array) => boolean) | null = null;
  /** Scenario hook: crash the node right after this persist, before its sends leave. */
  crashIf: ((node: SimNode, persist: PersistBatch) => boolean) | null = null;
  /**
   * Scenario hook: crash the node after its application durably decided a validator-set change
   * but before the consensus heard of it (the two write separately); it restarts `restartAfter`
   * ticks later.
   */
  crashBeforeSchedule: ((node: SimNode) => boolean) | null = null;
  /** Scenario hook: a node's step committed blocks; called before that step's sends leave. */
  onCommit: ((node: SimNode) => void) | null = null;
  /** height → block id and filtered-request digest, from the first correct node to deliver it. */
  readonly canon = new Map<number, { id: string; reqs: string; by: number }>();
  /** request → tick submitted. */
  readonly submitted = new Map<string, { tick: number; bytes: Uint8Array }>();
  readonly violations: string[] = [];
  /** Equivocation evidence reported by correct nodes: (reporter, accused index, kind). */
  readonly evidence: { by: number; accused: number; kind: string; round: number }[] = [];
  messages = 0;
  private reqCounter = 0;

  constructor(readonly opts: WorldOptions) {
    this.rng = new Prng(opts.seed);
    this.netRng = this.rng.fork();
    this.keys = opts.keys === "ed25519" ? ed25519Keys(opts.seed, opts.n) : simKeys(opts.seed, opts.n);
    this.networkId = new TextEncoder().encode(`arbor-sim-${opts.seed}`);
    this.ids = this.keys.publicKeys.map(peerIdOf);
    this.ids.forEach((id, i) => this.idIndex.set(id, i));
    this.net = { ...(opts.net ?? SYNCHRONOUS) };
    this.crashAfterPersist = opts.crashAfterPersist ?? 0;
    this.nodes = [];
    this.instances = [];
    this.mutedUntil = Array.from({ length: opts.n }, () => -1);
    for (let i = 0; i < opts.n; i++) {
      const twins = opts.twins?.get(i) ?? 0;
      const node = new SimNode(
        i,
        this.adversaryFor(i, this.instances.length),
        this.instances.length,
        twins > 1,
      );
      this.nodes.push(node);
      this.instances.push(node);
    }
    for (const [i, count] of opts.twins ?? [])
      for (let k = 1; k < count; k++) {
        const uid = this.instances.length;
        this.instances.push(new SimNode(i, this.adversaryFor(i, uid), uid, true));
      }
    for (const node of this.instances) this.boot(node);
  }

  /** The adversary wrapping instance `uid` of identity `i`, if `i` has Byzantine behaviours. */
  private adversaryFor(i: number, uid: number): Adversary | null {
    const behaviours = this.opts.byzantine?.get(i);
    if (!behaviours) return null;
    return new Adversary(
      {
        index: i,
        signer: this.keys.signer(i),
        networkId: this.networkId,
        publicKeys: this.keys.publicKeys,
        rng: this.rng.fork(),
        send: (to, bytes) => this.transmit(i, to, bytes, this.instances[uid]),
      },
      behaviours,
    );
  }

  isCorrect(i: number): boolean {
    return this.nodes[i]!.correct;
  }

  correct(): SimNode[] {
    return this.nodes.filter((n) => n.correct);
  }

  /** Every instance running identity `i` (one, unless it has twins). */
  instancesOf(i: number): SimNode[] {
    return this.instances.filter((x) => x.index === i);
  }

  // ---- scheduling ----------------------------------------------------------------------------

  at(tick: number, action: () => void): void {
    this.push(Math.max(tick, this.now), { kind: "action", action });
  }

  private push(tick: number, ev: Ev): void {
    let list = this.events.get(tick);
    if (!list) this.events.set(tick, (list = []));
    list.push(ev);
  }

  /**
   * Puts bytes on the simulated wire from node `from` to node `to` (by identity): to every instance
   * of `to` on the sender instance's side of a Twins split.
   */
  transmit(from: number, to: number, bytes: Uint8Array, sender: SimNode = this.nodes[from]!): void {
    if (from === to) return;
    this.messages++;
    const r = this.netRng;
    const net = this.net;
    if (this.partition && this.partition[from] !== this.partition[to]) return;
    if (this.mutedUntil[from]! > this.now) return;
    if (this.dropIf && this.dropIf(from, to, bytes)) return;
    for (const dest of this.instances) {
      if (dest.index !== to) continue;
      if (this.split && this.split[sender.uid] !== this.split[dest.uid]) continue;
      if (net.loss > 0 && r.chance(net.loss)) continue;
      const copies = net.dup > 0 && r.chance(net.dup) ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        let delay = r.int(net.minDelay, net.maxDelay);
        if (net.straggle > 0 && r.chance(net.straggle)) delay += r.int(0, 10 * net.maxDelay);
        this.push(this.now + delay, { kind: "msg", from, to: dest, bytes });
      }
    }
  }

  // ---- node lifecycle ------------------------------------------------------------------------

  private boot(node: SimNode): void {
    node.core = new TobCore(
      {
        networkId: this.networkId,
        signer: this.keys.signer(node.index),
        verifier: this.keys.verifier,
        genesisValidators: this.keys.publicKeys,
        timing: this.opts.timing,
        maxBlockRequests: this.opts.maxBlockRequests,
        fillRequests: this.opts.fillRequests,
      },
      node.disk.restore(),
    );
  }

  crash(i: number): void {
    const node = this.nodes[i]!;
    if (!node.core) return;
    node.core = null;
    node.crashes++;
  }

  restart(i: number): void {
    const node = this.nodes[i]!;
    if (node.core) return;
    this.boot(node);
    // The application re-announces the changes it persisted (a lost one is scheduled again).
    for (const x of node.schedules)
      this.step(node, {
        type: "setValidators",
        fromHeight: x.fromHeight,
        validators: x.validators,
        restore: true,
      });
    // The first step re-delivers what was persisted but not applied.
    this.step(node, { type: "tick" });
  }

  // ---- stepping ------------------------------------------------------------------------------

  private step(node: SimNode, input: Parameters<TobCore["step"]>[0]): void {
    const core = node.core;
    if (!core) return;
    const st = core.step(input);
    if (st.persist) {
      node.disk.write(st.persist);
      if (this.crashIf && this.crashIf(node, st.persist)) {
        this.crash(node.index);
        return;
      }
      if (this.crashAfterPersist > 0 && node.correct && this.rng.chance(this.crashAfterPersist)) {
        // Persisted, but the sends never leave: the worst moment to die.
        this.crash(node.index);
        const back = this.now + this.rng.int(5, 80);
        this.at(back, () => this.restart(node.index));
        return;
      }
    }
    const eff = st.persisted();
    if (node.correct)
      for (const e of eff.evidence)
        this.evidence.push({
          by: node.index,
          accused: this.idIndex.get(e.signer) ?? -1,
          kind: e.kind,
          round: e.round,
        });
    if (eff.deliveries.length > 0) this.onCommit?.(node);
    for (const s of eff.sends) this.sendFrom(node, s);
    if (eff.deliveries.length > 0) {
      for (const d of eff.deliveries) {
        this.applyDelivery(node, d);
        if (!node.core) return; // crashed while applying (crashBeforeSchedule)
      }
      const last = eff.deliveries[eff.deliveries.length - 1]!;
      this.step(node, { type: "applied", height: last.height });
    }
  }

  private sendFrom(node: SimNode, s: Send): void {
    if (node.adversary) return node.adversary.outgoing(s);
    for (const p of s.to) {
      const to = this.idIndex.get(p);
      if (to !== undefined) this.transmit(node.index, to, s.bytes, node);
    }
  }

  /** The simulated application: checks invariants, may schedule a validator-set change. */
  private applyDelivery(node: SimNode, d: Delivery): void {
    const correct = node.correct;
    const expect = node.disk.applied + 1;
    if (correct && d.height !== expect)
      this.fail(`node ${node.index} delivered height ${d.height}, expected ${expect} (gap or repeat)`);
    const id = toHex(d.blockId);
    const reqs = d.requests.map((r) => toHex(requestDigest(r)));
    const reqKey = reqs.join(",");
    if (correct) {
      const c = this.canon.get(d.height);
      if (!c) this.canon.set(d.height, { id, reqs: reqKey, by: node.index });
      else if (c.id !== id || c.reqs !== reqKey)
        this.fail(
          `SAFETY: node ${node.index} delivered ${id.slice(0, 12)} at height ${d.height}, node ${c.by} delivered ${c.id.slice(0, 12)}`,
        );
      for (const r of reqs) {
        if (node.requestsSeen.has(r))
          this.fail(`node ${node.index} delivered request ${r.slice(0, 12)} twice`);
        node.requestsSeen.set(r, this.now);
        node.requestHeights.set(r, d.height);
      }
    }
    node.delivered.set(d.height, id);
    for (const r of d.requests) {
      const text = r.length < 200 ? new TextDecoder().decode(r) : "";
      if (text.startsWith(RECONF)) {
        const [list = "", tag] = text.slice(RECONF.length).split(":");
        // A real application checks the authority's signature; this tag stands in for it, so a
        // request mangled by a Byzantine node is not a reconfiguration.
        if (tag !== this.reconfTag(list)) continue;
        const members = list.split(",").map(Number);
        // Requests are opaque to consensus; a mangled one is just not a valid reconfiguration.
        if (
          members.length === 0 ||
          new Set(members).size !== members.length ||
          members.some((m) => !(Number.isInteger(m) && m >= 0 && m < this.opts.n))
        )
          continue;
        const validators = members.map((m) => this.keys.publicKeys[m]!);
        const fromHeight = reconfigHeight(d.height);
        node.schedules.push({ fromHeight, validators });
        if (this.crashBeforeSchedule?.(node)) {
          node.disk.applied = d.height;
          this.crash(node.index);
          this.at(this.now + 20, () => this.restart(node.index));
          return;
        }
        this.step(node, { type: "setValidators", fromHeight, validators });
      }
    }
    node.disk.applied = d.height;
  }

  private fail(msg: string): void {
    const full = `tick ${this.now}: ${msg}`;
    this.violations.push(full);
    if (!this.opts.trace) throw new SimFailure(full);
  }

  // ---- driving -------------------------------------------------------------------------------

  tick(): void {
    const evs = this.events.get(this.now);
    if (evs) {
      this.events.delete(this.now);
      for (const ev of evs) {
        if (ev.kind === "action") ev.action!();
        else this.receive(ev.from!, ev.to!, ev.bytes!);
      }
    }
    for (const node of this.instances) {
      if (!node.core) continue;
      this.step(node, { type: "tick" });
      node.adversary?.onTick();
    }
    this.now++;
  }

  private receive(from: number, node: SimNode, bytes: Uint8Array): void {
    if (!node.core) return;
    node.adversary?.incoming(bytes);
    this.step(node, { type: "message", from: this.ids[from]!, bytes });
  }

  run(ticks: number): void {
    const end = this.now + ticks;
    while (this.now < end) this.tick();
  }

  /** Runs until `pred` holds or `limit` ticks pass; returns whether it held. */
  runUntil(pred: () => boolean, limit: number): boolean {
    const end = this.now + limit;
    while (this.now < end) {
      if (pred()) return true;
      this.tick();
    }
    return pred();
  }

  /** A fresh unique request submitted to node `i`; returns its digest (hex). */
  submit(i: number, size = 32): string {
    const body = new TextEncoder().encode(`req-${this.opts.seed}-${this.reqCounter++}-`);
    const bytes = new Uint8Array(Math.max(size, body.length));
    bytes.set(body);
    return this.submitBytes(i, bytes);
  }

  submitBytes(i: number, bytes: Uint8Array): string {
    const digest = toHex(requestDigest(bytes));
    this.submitted.set(digest, { tick: this.now, bytes });
    this.step(this.nodes[i]!, { type: "propose", requests: [bytes] });
    return digest;
  }

  /** Submits a request that, once applied, changes the validator set to `members` (by index). */
  submitReconfig(i: number, members: readonly number[]): string {
    const list = members.join(",");
    return this.submitBytes(i, new TextEncoder().encode(`${RECONF}${list}:${this.reconfTag(list)}`));
  }

  private reconfTag(list: string): string {
    return toHex(requestDigest(new TextEncoder().encode(`reconf-authority/${this.opts.seed}/${list}`))).slice(
      0,
      16,
    );
  }

  /** True when every listed node delivered the request. */
  deliveredEverywhere(digest: string, nodes: readonly SimNode[]): boolean {
    return nodes.every((n) => n.requestsSeen.has(digest));
  }

  /** Every message `i` sends in the next `ticks` ticks is lost (it still hears everything). */
  mute(i: number, ticks: number): void {
    this.mutedUntil[i] = this.now + ticks;
  }

  setPartition(groups: number[] | null): void {
    this.partition = groups;
  }

  /** A Twins split: `sides[uid]` for every instance; null heals it. */
  setSplit(sides: number[] | null): void {
    this.split = sides;
  }

  heightOf(i: number): number {
    return this.nodes[i]!.disk.applied;
  }
}
