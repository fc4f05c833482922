// Requests a peer gossips are checked before they enter the broadcast's pool: form, bounds and
// signature (Ledger.signedAlright; lifetime and replay depend on how far this node has applied,
// and are left to the block). Honest nodes gossip only requests they admitted, so their gossip
// passes whole; a faulty member's junk is dropped here instead of filling the pool (crowding out
// clients' requests: `tob/pool-full`) and, through honest leaders' proposals, every node's blocks.
// A request verified once is not verified again, here or when its block is applied. Other
// consensus messages pass untouched and at once.
//
// Checking costs a signature verification per request, on the event loop: a gossip of a thousand
// requests would hold it for tens of milliseconds (votes and reads waiting behind it). So at most
// GOSSIP_CHECK_SLICE requests are checked per turn; the rest wait in bounded queues and go on in
// later turns. Each peer has a queue of its own (GOSSIP_PEER_QUEUE requests and
// GOSSIP_PEER_QUEUE_BYTES; GOSSIP_CHECK_QUEUE and GOSSIP_CHECK_QUEUE_BYTES in all; past any, a
// gossip is dropped, and its holders gossip it again while it is pending), and
// the slice is shared out among the peers with something waiting, in turn: a member that floods
// junk fills its own queue and gets its share of the checks, and the others' gossip still passes.
// A peer is not shut out for junk (a faulty leader's junk proposal puts junk into correct nodes'
// pools, and they may gossip it again), but junk is paid for: each peer has an allowance of
// requests that fail their check (GOSSIP_PEER_JUNK_BURST, refilled at GOSSIP_PEER_JUNK_PER_SECOND).
// A peer that has used it up is passed over by the checks, and its new gossip dropped
// (`gossip/peer-junk`), until it refills: a member flooding junk costs each node a bounded number
// of verifications a second, not a share of every turn.

import {
  GOSSIP_CHECK_QUEUE,
  GOSSIP_CHECK_QUEUE_BYTES,
  GOSSIP_CHECK_SLICE,
  GOSSIP_PEER_JUNK_BURST,
  GOSSIP_PEER_JUNK_PER_SECOND,
  GOSSIP_PEER_QUEUE,
  GOSSIP_PEER_QUEUE_BYTES,
} from "./common/limits.js";
import { decodeMessage, encodeMessage, KIND_TAGS } from "./tob/core/index.js";
import { ArborError } from "./common/errors.js";

interface Waiting {
  readonly from: string;
  readonly bytes: Uint8Array;
  readonly requests: readonly Uint8Array[];
  /** requests of it checked so far, and those admissible among them */
  checked: number;
  readonly kept: Uint8Array[];
}

interface PeerQueue {
  list: Waiting[];
  requests: number;
  bytes: number;
}

/** Requests checked for one peer before the next peer's turn within a slice. */
const PEER_TURN = 16;

/** How much junk a peer may still send (a token bucket: one token per request that fails its check). */
interface Allowance {
  tokens: number;
  /** when `tokens` was last brought up to date (ms) */
  at: number;
}

export interface JunkAllowance {
  readonly perSecond: number;
  readonly burst: number;
  /** the clock, in ms (tests) */
  readonly now: () => number;
}

const DEFAULT_ALLOWANCE: JunkAllowance = {
  perSecond: GOSSIP_PEER_JUNK_PER_SECOND,
  burst: GOSSIP_PEER_JUNK_BURST,
  now: () => performance.now(),
};

export class GossipGate {
  /** per peer, its gossips in arrival order (a peer with nothing waiting has no entry) */
  private readonly queues = new Map<string, PeerQueue>();
  private queued = 0;
  private queuedBytes = 0;
  private turn: NodeJS.Immediate | null = null;
  /** wakes the checks when a peer passed over for junk has an allowance again */
  private wake: NodeJS.Timeout | null = null;
  /** the last checks stopped because every peer waiting was out of allowance */
  private starved = false;
  /** per peer that sent junk, what it may still send (members only: bounded by the membership) */
  private readonly allowances = new Map<string, Allowance>();
  /** requests checked in this event-loop turn */
  private spent = 0;
  /** gossips dropped because a queue was full (diagnostics) */
  dropped = 0;

  constructor(
    private readonly admissible: (request: Uint8Array) => boolean,
    /** hands a consensus message on to the broadcast */
    private readonly forward: (from: string, bytes: Uint8Array) => void,
    private readonly slice = GOSSIP_CHECK_SLICE,
    /**
     * told of each gossip dropped (`gossip/queue-full`, `gossip/peer-junk`) and each request
     * refused (`gossip/inadmissible`)
     */
    private readonly refused: (reason: string) => void = () => undefined,
    private readonly junk: JunkAllowance = DEFAULT_ALLOWANCE,
  ) {}

  /** A consensus message from a peer. */
  take(from: string, bytes: Uint8Array): void {
    if (bytes[1] !== KIND_TAGS.requests) return this.forward(from, bytes);
    if (this.allowance(from) < 1) {
      this.dropped++;
      this.refused("gossip/peer-junk");
      return;
    }
    let requests: readonly Uint8Array[];
    try {
      const m = decodeMessage(bytes);
      if (m.kind !== "requests") return this.forward(from, bytes);
      requests = m.requests;
    } catch (e) {
      // Dropped here, so counted here: it never reaches the broadcast that would refuse it.
      this.refused(e instanceof ArborError ? e.code : "decode/bad-message");
      return;
    }
    const q = this.queues.get(from) ?? { list: [], requests: 0, bytes: 0 };
    if (
      this.queued + requests.length > GOSSIP_CHECK_QUEUE ||
      q.requests + requests.length > GOSSIP_PEER_QUEUE ||
      this.queuedBytes + bytes.length > GOSSIP_CHECK_QUEUE_BYTES ||
      q.bytes + bytes.length > GOSSIP_PEER_QUEUE_BYTES
    ) {
      this.dropped++;
      this.refused("gossip/queue-full");
      return;
    }
    q.list.push({ from, bytes, requests, checked: 0, kept: [] });
    q.requests += requests.length;
    q.bytes += bytes.length;
    this.queues.set(from, q);
    this.queued += requests.length;
    this.queuedBytes += bytes.length;
    this.work();
  }

  /**
   * Checks queued requests up to the turn's slice, peer by peer (passing over those out of junk
   * allowance), forwards the gossips done.
   */
  private work(): void {
    let progress = true;
    while (progress && this.spent < this.slice && this.queues.size > 0) {
      progress = false;
      for (const [from, q] of this.queues) {
        if (this.spent >= this.slice) break;
        const before = this.spent;
        this.checkSome(from, q, Math.min(PEER_TURN, this.slice - this.spent));
        if (this.spent > before || !this.queues.has(from)) progress = true;
      }
    }
    // Everyone waiting is out of allowance: no turn spins on them, a timer comes back for them.
    this.starved = !progress;
    if (this.starved) this.sleepUntilAllowed();
    // The slice is per event-loop turn: the next turn starts a new one (and the queues' rest).
    this.turn ??= setImmediate(() => {
      this.turn = null;
      this.spent = 0;
      if (this.queues.size > 0 && !this.starved) this.work();
    });
  }

  /** Checks up to `budget` requests of one peer's queue, in order. */
  private checkSome(from: string, q: PeerQueue, budget: number): void {
    while (budget > 0 && q.list.length > 0) {
      const w = q.list[0]!;
      const end = Math.min(w.requests.length, w.checked + budget);
      for (; w.checked < end; w.checked++, this.spent++, budget--) {
        if (this.allowance(from) < 1) return; // passed over until its allowance refills
        const r = w.requests[w.checked]!;
        if (this.admissible(r)) w.kept.push(r);
        else {
          this.spend(from);
          this.refused("gossip/inadmissible");
        }
      }
      if (w.checked < w.requests.length) return;
      q.list.shift();
      q.requests -= w.requests.length;
      q.bytes -= w.bytes.length;
      this.queued -= w.requests.length;
      this.queuedBytes -= w.bytes.length;
      if (w.kept.length === w.requests.length) this.forward(w.from, w.bytes);
      else if (w.kept.length > 0) this.forward(w.from, encodeMessage({ kind: "requests", requests: w.kept }));
    }
    if (q.list.length === 0) this.queues.delete(from);
  }

  /** The junk `from` may still send now (the burst for a peer that has sent none). */
  private allowance(from: string): number {
    const a = this.allowances.get(from);
    if (a === undefined) return this.junk.burst;
    const now = this.junk.now();
    a.tokens = Math.min(this.junk.burst, a.tokens + ((now - a.at) * this.junk.perSecond) / 1000);
    a.at = now;
    if (a.tokens >= this.junk.burst) {
      this.allowances.delete(from);
      return this.junk.burst;
    }
    return a.tokens;
  }

  /** One request of `from` failed its check. */
  private spend(from: string): void {
    const tokens = this.allowance(from) - 1;
    this.allowances.set(from, { tokens, at: this.junk.now() });
  }

  /** Every peer with gossip waiting is out of allowance: look again when the first has one. */
  private sleepUntilAllowed(): void {
    if (this.wake !== null || this.queues.size === 0) return;
    let least = Infinity;
    for (const from of this.queues.keys()) least = Math.min(least, 1 - this.allowance(from));
    const ms = Math.max(1, Math.ceil((least * 1000) / this.junk.perSecond));
    this.wake = setTimeout(() => {
      this.wake = null;
      this.work();
    }, ms);
    this.wake.unref?.();
  }

  /** Requests waiting to be checked. */
  get waiting(): number {
    return this.queued;
  }

  close(): void {
    if (this.turn) clearImmediate(this.turn);
    this.turn = null;
    if (this.wake) clearTimeout(this.wake);
    this.wake = null;
    this.queues.clear();
    this.queued = 0;
    this.queuedBytes = 0;
  }
}
