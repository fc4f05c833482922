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
// (A peer is not shut out for junk: a faulty leader's junk proposal puts junk into correct nodes'
// pools, and they gossip it again.)

import {
  GOSSIP_CHECK_QUEUE,
  GOSSIP_CHECK_QUEUE_BYTES,
  GOSSIP_CHECK_SLICE,
  GOSSIP_PEER_QUEUE,
  GOSSIP_PEER_QUEUE_BYTES,
} from "./common/limits.js";
import { decodeMessage, encodeMessage, KIND_TAGS } from "./tob/core/index.js";

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

export class GossipGate {
  /** per peer, its gossips in arrival order (a peer with nothing waiting has no entry) */
  private readonly queues = new Map<string, PeerQueue>();
  private queued = 0;
  private queuedBytes = 0;
  private turn: NodeJS.Immediate | null = null;
  /** requests checked in this event-loop turn */
  private spent = 0;
  /** gossips dropped because a queue was full (diagnostics) */
  dropped = 0;

  constructor(
    private readonly admissible: (request: Uint8Array) => boolean,
    /** hands a consensus message on to the broadcast */
    private readonly forward: (from: string, bytes: Uint8Array) => void,
    private readonly slice = GOSSIP_CHECK_SLICE,
    /** told of each gossip dropped (`gossip/queue-full`) and each request refused (`gossip/inadmissible`) */
    private readonly refused: (reason: string) => void = () => undefined,
  ) {}

  /** A consensus message from a peer. */
  take(from: string, bytes: Uint8Array): void {
    if (bytes[1] !== KIND_TAGS.requests) return this.forward(from, bytes);
    let requests: readonly Uint8Array[];
    try {
      const m = decodeMessage(bytes);
      if (m.kind !== "requests") return this.forward(from, bytes);
      requests = m.requests;
    } catch {
      return; // the broadcast would refuse it anyway
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

  /** Checks queued requests up to the turn's slice, peer by peer, forwards the gossips done. */
  private work(): void {
    while (this.spent < this.slice && this.queues.size > 0) {
      for (const [from, q] of this.queues) {
        if (this.spent >= this.slice) break;
        this.checkSome(from, q, Math.min(PEER_TURN, this.slice - this.spent));
      }
    }
    // The slice is per event-loop turn: the next turn starts a new one (and the queues' rest).
    this.turn ??= setImmediate(() => {
      this.turn = null;
      this.spent = 0;
      if (this.queues.size > 0) this.work();
    });
  }

  /** Checks up to `budget` requests of one peer's queue, in order. */
  private checkSome(from: string, q: PeerQueue, budget: number): void {
    while (budget > 0 && q.list.length > 0) {
      const w = q.list[0]!;
      const end = Math.min(w.requests.length, w.checked + budget);
      for (; w.checked < end; w.checked++, this.spent++, budget--) {
        const r = w.requests[w.checked]!;
        if (this.admissible(r)) w.kept.push(r);
        else this.refused("gossip/inadmissible");
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

  /** Requests waiting to be checked. */
  get waiting(): number {
    return this.queued;
  }

  close(): void {
    if (this.turn) clearImmediate(this.turn);
    this.turn = null;
    this.queues.clear();
    this.queued = 0;
    this.queuedBytes = 0;
  }
}
