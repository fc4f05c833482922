// The committed chain on its way to the application. Committed blocks queue here until delivery;
// delivery is flow-controlled by the application's acknowledgements (at most TOB_DELIVER_WINDOW
// delivered blocks unacknowledged), which is what makes a validator-set change decided while
// applying block h land at the same height on every node. Delivered blocks are what the shell
// persists (the ledger); recent ones stay in memory to serve catch-up and to filter duplicates.

import { invariant } from "../../common/errors.js";
import {
  TOB_DEDUP_WINDOW,
  TOB_DELIVER_WINDOW,
  TOB_MAX_UNDELIVERED,
  TOB_MIN_RETAINED_BLOCKS,
  TOB_RETAINED_BLOCKS,
  TOB_RETAINED_BYTES,
} from "../../common/limits.js";
import { latin1ToBytes } from "../../common/bytes.js";
import { blockDigests } from "./pool.js";
import type { Block } from "./types.js";

/** One committed block as the application sees it: requests already delivered recently are removed. */
export interface Delivery {
  readonly height: number;
  readonly epoch: number;
  readonly round: number;
  readonly blockId: Uint8Array;
  readonly requests: readonly Uint8Array[];
}

/** Bytes of a request digest (SHA-256). */
export const DIGEST_BYTES = 32;

interface Entry {
  readonly block: Block;
  readonly delivery: Delivery;
  /** the block's request bytes */
  readonly bytes: number;
}

export class CommittedChain {
  /** Top of the persisted ledger (delivered blocks). */
  deliveredHeight: number;
  deliveredId: Uint8Array;
  /** Highest height the application acknowledged. */
  appliedHeight: number;
  /** Highest height handed to the application by this incarnation of the core. */
  emittedHeight: number;
  /** the newest delivered blocks, contiguous up to deliveredHeight (insertion order is height order) */
  private readonly retained = new Map<number, Entry>();
  private retainedBytes = 0;
  private readonly undelivered: Block[] = [];
  private readonly seen = new Map<string, number>();
  private readonly seenAt = new Map<number, readonly string[]>();

  /**
   * `tail`: the last persisted ledger blocks, ascending (empty for a fresh chain at `base`);
   * `retain`: delivered blocks kept in memory (TOB_RETAINED_BLOCKS unless a test asks for fewer);
   * `fresh`: by height, the digests each block of the duplicate window delivered (Restored.fresh).
   * Heights below the tail that have them seed the filter; a tail block with them delivers exactly
   * those requests again; one without is filtered as it was first (exact only if what it repeats
   * lies within the tail).
   */
  constructor(
    base: { id: Uint8Array; height: number },
    tail: readonly Block[],
    appliedHeight: number,
    private readonly retain: number = TOB_RETAINED_BLOCKS,
    fresh: ReadonlyMap<number, readonly string[]> = new Map(),
  ) {
    this.deliveredHeight = base.height;
    this.deliveredId = base.id;
    const top = tail.length > 0 ? tail[tail.length - 1]!.height : base.height;
    const below = Math.max(base.height, ...tail.slice(0, 1).map((b) => b.height - 1));
    for (const [h, digests] of [...fresh].sort(([x], [y]) => x - y))
      if (h <= below && h > top - TOB_DEDUP_WINDOW) this.remember(h, digests);
    for (const b of tail) {
      if (b.height <= base.height) continue;
      invariant(b.height === this.deliveredHeight + 1, "restored ledger is contiguous");
      this.record(b, fresh.get(b.height));
    }
    invariant(appliedHeight <= this.deliveredHeight, "application cannot be ahead of the ledger");
    this.appliedHeight = appliedHeight;
    this.emittedHeight = Math.max(appliedHeight, this.deliveredHeight - this.retained.size);
  }

  /** Height of the last committed block (delivered or queued). */
  get committedHeight(): number {
    return this.deliveredHeight + this.undelivered.length;
  }

  get queued(): readonly Block[] {
    return this.undelivered;
  }

  /**
   * Committed blocks the application has not acknowledged yet, in height order: the delivered ones
   * still in memory, then the queue.
   */
  *unapplied(): Generator<Block> {
    for (let h = this.appliedHeight + 1; h <= this.deliveredHeight; h++) {
      const e = this.retained.get(h);
      if (e) yield e.block;
    }
    yield* this.undelivered;
  }

  get full(): boolean {
    return this.undelivered.length >= TOB_MAX_UNDELIVERED;
  }

  enqueue(blocks: readonly Block[]): void {
    for (const b of blocks) {
      invariant(b.height === this.committedHeight + 1, "committed blocks arrive in height order");
      this.undelivered.push(b);
    }
  }

  /** Drops committed blocks above `height` (the tail of an epoch that ended below them). */
  discardAbove(height: number): Block[] {
    const keep = Math.max(0, height - this.deliveredHeight);
    return this.undelivered.splice(keep);
  }

  /** Next committed block that may be delivered now, if any. */
  next(maxHeight: number): Block | undefined {
    const b = this.undelivered[0];
    if (!b || b.height > maxHeight || b.height > this.appliedHeight + TOB_DELIVER_WINDOW) return undefined;
    return b;
  }

  /** Delivers the head of the queue (the caller persists the block before emitting the delivery). */
  deliver(): Delivery {
    const b = this.undelivered.shift();
    invariant(b, "deliver from a non-empty queue");
    const d = this.record(b);
    invariant(this.emittedHeight === b.height - 1, "deliveries are emitted in order");
    this.emittedHeight = b.height;
    return d;
  }

  /** Blocks persisted but not yet handed to this incarnation's application (after a restart). */
  reemit(): Delivery[] {
    const out: Delivery[] = [];
    while (this.emittedHeight < this.deliveredHeight) {
      const e = this.retained.get(this.emittedHeight + 1);
      invariant(e, "re-emitted blocks are retained");
      out.push(e.delivery);
      this.emittedHeight++;
    }
    return out;
  }

  applied(height: number): void {
    if (height > this.appliedHeight) this.appliedHeight = Math.min(height, this.emittedHeight);
  }

  /** The lowest delivered height still in memory (older ones are only in the shell's storage). */
  get retainedFrom(): number {
    return Math.max(1, this.deliveredHeight - this.retained.size + 1);
  }

  blockAt(height: number): Block | undefined {
    if (height <= this.deliveredHeight) return this.retained.get(height)?.block;
    return this.undelivered[height - this.deliveredHeight - 1];
  }

  /** Drops the oldest retained blocks past the count or byte bound, keeping the floor. */
  private forgetOldest(): void {
    const floor = Math.min(this.retain, TOB_MIN_RETAINED_BLOCKS);
    for (const [h, e] of this.retained) {
      const over =
        this.retained.size > this.retain ||
        (this.retainedBytes > TOB_RETAINED_BYTES && this.retained.size > floor);
      if (!over) break;
      this.retained.delete(h);
      this.retainedBytes -= e.bytes;
    }
  }

  /** True if the request was delivered within the duplicate window before `height`. */
  isRecent(digest: string): boolean {
    return this.seen.has(digest);
  }

  /** The digests of the requests block `height` delivered (latin1 strings joined as bytes), while in the window. */
  freshBytes(height: number): Uint8Array {
    const list = this.seenAt.get(height);
    invariant(list !== undefined, "a delivered block's digests are in the window");
    const out = new Uint8Array(list.length * DIGEST_BYTES);
    list.forEach((d, i) => out.set(latin1ToBytes(d), i * DIGEST_BYTES));
    return out;
  }

  /** Marks `digests` as delivered at `h` and forgets the height leaving the window. */
  private remember(h: number, digests: readonly string[]): void {
    for (const d of digests) this.seen.set(d, h);
    this.seenAt.set(h, digests);
    const old = this.seenAt.get(h - TOB_DEDUP_WINDOW);
    if (old) {
      for (const d of old) if (this.seen.get(d) === h - TOB_DEDUP_WINDOW) this.seen.delete(d);
      this.seenAt.delete(h - TOB_DEDUP_WINDOW);
    }
  }

  /**
   * Delivers block `b`: its requests not delivered within the window (nor earlier in the block), or
   * exactly those of `known` (the digests it delivered the first time, after a restart).
   */
  private record(b: Block, known?: readonly string[]): Delivery {
    const h = b.height;
    const digests = blockDigests(b);
    const requests: Uint8Array[] = [];
    const fresh: string[] = [];
    const inBlock = new Set<string>();
    const take = known ? new Set(known) : null;
    for (let i = 0; i < digests.length; i++) {
      const d = digests[i]!;
      if (inBlock.has(d) || (take ? !take.has(d) : this.seen.has(d))) continue;
      inBlock.add(d);
      fresh.push(d);
      requests.push(b.requests[i]!);
    }
    this.remember(h, fresh);
    const delivery: Delivery = { height: h, epoch: b.epoch, round: b.round, blockId: b.id, requests };
    let bytes = 0;
    for (const r of b.requests) bytes += r.length;
    this.retained.set(h, { block: b, delivery, bytes });
    this.retainedBytes += bytes;
    this.forgetOldest();
    this.deliveredHeight = h;
    this.deliveredId = b.id;
    return delivery;
  }
}
