// What receipt subscriptions may hold unsent. A subscription is a server stream the node writes to
// whenever a block is applied; a client that does not read it leaves the receipts in the node's
// buffers (HTTP/2 flow control holds them there), so each subscription may hold at most
// MAX_SUBSCRIPTION_BACKLOG_BYTES unsent, and all of them together MAX_SUBSCRIPTIONS_BACKLOG_BYTES.
// A subscriber that would pass either is cut off (`stream/slow-reader`: it can read what it missed
// with WaitReceipts or GetBlockReceipts); what it holds counts, and its subscription slot stays
// taken, until its stream is gone — so idle streams cannot make the node hold more than the budget.

import { MAX_SUBSCRIPTION_BACKLOG_BYTES, MAX_SUBSCRIPTIONS_BACKLOG_BYTES } from "./common/limits.js";

export class SubscriptionBacklog {
  private total = 0;

  constructor(
    private readonly perSubscription = MAX_SUBSCRIPTION_BACKLOG_BYTES,
    private readonly perNode = MAX_SUBSCRIPTIONS_BACKLOG_BYTES,
  ) {}

  /** A new subscription's account. */
  open(): SubscriptionAccount {
    return new SubscriptionAccount(this);
  }

  /** Bytes written to subscriptions and not yet sent, node-wide. */
  get pending(): number {
    return this.total;
  }

  /** @internal */
  take(a: SubscriptionAccount, bytes: number): boolean {
    if (a.pending + bytes > this.perSubscription || this.total + bytes > this.perNode) return false;
    this.total += bytes;
    return true;
  }

  /** @internal */
  release(bytes: number): void {
    this.total -= bytes;
  }
}

/** One subscription's unsent bytes: taken when a receipt is written, released when it is sent. */
export class SubscriptionAccount {
  pending = 0;
  private closed = false;

  constructor(private readonly backlog: SubscriptionBacklog) {}

  /** Whether `bytes` more may wait for this subscriber; when true they are counted until `sent`. */
  take(bytes: number): boolean {
    if (this.closed || !this.backlog.take(this, bytes)) return false;
    this.pending += bytes;
    return true;
  }

  /** `bytes` taken earlier have left the node (or will never be sent: the stream is gone). */
  sent(bytes: number): void {
    const n = Math.min(bytes, this.pending);
    this.pending -= n;
    this.backlog.release(n);
  }

  /** The stream is gone: whatever it still held no longer counts. */
  close(): void {
    this.closed = true;
    this.sent(this.pending);
  }
}
