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
// GOSSIP_CHECK_SLICE requests are checked per turn; the rest wait in a bounded queue
// (GOSSIP_CHECK_QUEUE; past it a gossip is dropped, and its holders gossip it again while it is
// pending) and go on in later turns.

import { GOSSIP_CHECK_QUEUE, GOSSIP_CHECK_SLICE } from "./common/limits.js";
import { decodeMessage, encodeMessage, KIND_TAGS } from "./tob/core/index.js";

interface Waiting {
  readonly from: string;
  readonly bytes: Uint8Array;
  readonly requests: readonly Uint8Array[];
  /** requests of it checked so far, and those admissible among them */
  checked: number;
  readonly kept: Uint8Array[];
}

export class GossipGate {
  private readonly queue: Waiting[] = [];
  private queued = 0;
  private turn: NodeJS.Immediate | null = null;
  /** requests checked in this event-loop turn */
  private spent = 0;
  /** gossips dropped because the queue was full (diagnostics) */
  dropped = 0;

  constructor(
    private readonly admissible: (request: Uint8Array) => boolean,
    /** hands a consensus message on to the broadcast */
    private readonly forward: (from: string, bytes: Uint8Array) => void,
    private readonly slice = GOSSIP_CHECK_SLICE,
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
    if (this.queued + requests.length > GOSSIP_CHECK_QUEUE) {
      this.dropped++;
      return;
    }
    this.queue.push({ from, bytes, requests, checked: 0, kept: [] });
    this.queued += requests.length;
    this.work();
  }

  /** Checks queued requests up to the turn's slice, forwards the gossips done, goes on next turn. */
  private work(): void {
    while (this.spent < this.slice && this.queue.length > 0) {
      const w = this.queue[0]!;
      const end = Math.min(w.requests.length, w.checked + (this.slice - this.spent));
      for (; w.checked < end; w.checked++, this.spent++) {
        const r = w.requests[w.checked]!;
        if (this.admissible(r)) w.kept.push(r);
      }
      if (w.checked < w.requests.length) break;
      this.queue.shift();
      this.queued -= w.requests.length;
      if (w.kept.length === w.requests.length) this.forward(w.from, w.bytes);
      else if (w.kept.length > 0) this.forward(w.from, encodeMessage({ kind: "requests", requests: w.kept }));
    }
    // The slice is per event-loop turn: the next turn starts a new one (and the queue's rest).
    this.turn ??= setImmediate(() => {
      this.turn = null;
      this.spent = 0;
      if (this.queue.length > 0) this.work();
    });
  }

  /** Requests waiting to be checked. */
  get waiting(): number {
    return this.queued;
  }

  close(): void {
    if (this.turn) clearImmediate(this.turn);
    this.turn = null;
    this.queue.length = 0;
    this.queued = 0;
  }
}
