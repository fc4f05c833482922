// Receipts a node serves, with waiters and subscribers: a cache of recent ones (MAX_RECENT_RECEIPTS,
// oldest forgotten first) in front of the durable receipt store, which answers for the others.
// Each carries its inclusion path under its block's receipt root: with the certified header of its
// height that is all a client needs. A receipt is signed only for an asker who wants the early
// answer (f+1 equal signed receipts before the header is certified), once per cached receipt; an
// Ed25519 signature is deterministic, so the bytes served are the same before a crash and after it.

import { toHex } from "./common/bytes.js";
import {
  MAX_RECENT_RECEIPTS,
  MAX_RECEIPT_SUBSCRIPTIONS,
  MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST,
} from "./common/limits.js";
import { failpoint } from "./failpoints.js";
import type { ProvenReceipt } from "./ledger/receipts-root.js";
import { FairSlots } from "./net/fair-slots.js";

/** A receipt as a node serves it: with its inclusion path, and signed only when asked. */
export interface ServedReceipt {
  readonly receipt: Uint8Array;
  /** the node's signature over the receipt when the asker wanted one; empty otherwise */
  readonly signature: Uint8Array;
  /** receipts in its block, and the sibling hashes placing it under the block's receipt root */
  readonly count: number;
  readonly path: readonly Uint8Array[];
}

type Waiter = (e: Entry) => void;

/** A receipt as kept, and its signature once someone asked for it. */
interface Entry {
  readonly proven: ProvenReceipt;
  signature: Uint8Array | undefined;
  served: boolean;
}

const UNSIGNED = new Uint8Array(0);
const NOTHING = (): void => undefined;

/** An open receipt subscription. */
interface Subscriber {
  readonly ids: Set<string> | null;
  readonly push: Waiter;
}

export class ReceiptBook {
  private readonly byId = new Map<string, Entry>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly subscribers = new Set<Subscriber>();
  /** Subscription slots, shared fairly among addresses: a few hosts may not take every slot. */
  private readonly slots = new FairSlots(MAX_RECEIPT_SUBSCRIPTIONS, MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST);
  /** Pending waits' early answers (no receipt): called on close. */
  private readonly cancels = new Set<() => void>();

  /**
   * `sign` signs a receipt as this node (at most once per cached receipt, when first asked for
   * signed); `load` reads a receipt the cache does not hold from the durable store.
   */
  constructor(
    private readonly sign: (receipt: Uint8Array) => Uint8Array,
    private readonly load: (requestId: Uint8Array) => Promise<ProvenReceipt | undefined> = () =>
      Promise.resolve(undefined),
  ) {}

  /**
   * Records a receipt the node keeps (unsigned) and hands it to its waiters and subscribers. The
   * caller applies the rule for several receipts with one id.
   */
  add(requestId: Uint8Array, proven: ProvenReceipt): void {
    const id = toHex(requestId);
    const e = this.cache(id, proven);
    this.wake(id, e);
    for (const s of this.subscribers) if (s.ids === null || s.ids.has(id)) s.push(e);
  }

  /** The cached receipt bytes of a request, if any. */
  peek(requestId: Uint8Array): Uint8Array | undefined {
    return this.byId.get(toHex(requestId))?.proven.receipt;
  }

  private cache(id: string, proven: ProvenReceipt): Entry {
    const e: Entry = { proven, signature: undefined, served: false };
    this.byId.delete(id);
    this.byId.set(id, e);
    if (this.byId.size > MAX_RECENT_RECEIPTS) this.byId.delete(this.byId.keys().next().value!);
    return e;
  }

  private wake(id: string, e: Entry): void {
    const ws = this.waiters.get(id);
    if (ws) {
      this.waiters.delete(id);
      for (const w of ws) w(e);
    }
  }

  get(requestId: Uint8Array, signed = false): ServedReceipt | undefined {
    const e = this.byId.get(toHex(requestId));
    return e && this.serve(e, signed);
  }

  /** The answer for one asker; a signature is made once per cached receipt, and only if asked for. */
  private serve(e: Entry, signed: boolean): ServedReceipt {
    if (!e.served) {
      failpoint("receipt-serving");
      e.served = true;
    }
    const signature = signed ? (e.signature ??= this.sign(e.proven.receipt)) : UNSIGNED;
    const p = e.proven;
    return { receipt: p.receipt, signature, count: p.count, path: p.path };
  }

  /**
   * Resolves with the receipt, or undefined after `timeoutMs`: from the cache, else from the
   * durable store, else when its block is applied. `signed`: with this node's signature.
   */
  wait(requestId: Uint8Array, timeoutMs: number, signed = false): Promise<ServedReceipt | undefined> {
    return new Promise((resolve) => this.watch(requestId, timeoutMs, signed, resolve));
  }

  /**
   * As wait, with a callback: `answer` is called once, with the receipt, or undefined after
   * `timeoutMs` (or when the book closes). Returns a function that drops the wait without an
   * answer (its asker went away): nothing of it is kept after that. The wait is registered before
   * the store is read, so a block applied during the read still wakes it.
   */
  watch(
    requestId: Uint8Array,
    timeoutMs: number,
    signed: boolean,
    answer: (r: ServedReceipt | undefined) => void,
  ): () => void {
    const have = this.get(requestId, signed);
    if (have) {
      answer(have);
      return NOTHING;
    }
    const id = toHex(requestId);
    const drop = this.enqueue(id, timeoutMs, signed, answer);
    void this.load(requestId).then(
      (stored) => {
        if (stored !== undefined && this.waiters.has(id)) this.wake(id, this.cache(id, stored));
      },
      () => undefined,
    );
    return drop;
  }

  /** Waits registered now (for tests and diagnostics). */
  get waiting(): number {
    return this.cancels.size;
  }

  private enqueue(
    id: string,
    timeoutMs: number,
    signed: boolean,
    answer: (r: ServedReceipt | undefined) => void,
  ): () => void {
    const set = this.waiters.get(id) ?? new Set<Waiter>();
    this.waiters.set(id, set);
    const forget = () => {
      clearTimeout(timer);
      this.cancels.delete(cancel);
      set.delete(done);
      if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
    };
    const done: Waiter = (e) => {
      forget();
      answer(this.serve(e, signed));
    };
    const cancel = () => {
      forget();
      answer(undefined);
    };
    const timer = setTimeout(cancel, timeoutMs);
    set.add(done);
    this.cancels.add(cancel);
    return forget;
  }

  /**
   * Returns an unsubscribe function, or why none was opened: `too-many-from-host` when `host` (the
   * caller's address) holds MAX_RECEIPT_SUBSCRIPTIONS_PER_HOST of them; `too-many` when the node
   * serves MAX_RECEIPT_SUBSCRIPTIONS already and no address holds more than this one's plus one.
   * At the total bound, a newcomer from a less busy address takes the place of the busiest
   * address's oldest subscription, which is ended (`evict`, then dropped): a few hosts cannot hold
   * every slot. `signed`: each receipt with this node's signature.
   */
  subscribe(
    ids: Uint8Array[] | null,
    signed: boolean,
    push: (r: ServedReceipt) => void,
    host = "",
    evict: () => void = () => undefined,
  ): (() => void) | "too-many" | "too-many-from-host" {
    const s: Subscriber = {
      ids: ids && ids.length > 0 ? new Set(ids.map(toHex)) : null,
      push: (e: Entry) => push(this.serve(e, signed)),
    };
    const release = this.slots.take(host, () => {
      this.subscribers.delete(s);
      evict();
    });
    if (typeof release === "string") return release;
    this.subscribers.add(s);
    return () => {
      this.subscribers.delete(s);
      release();
    };
  }

  /** Subscriptions ended to make room for a newcomer from a less busy address. */
  get evicted(): number {
    return this.slots.evicted;
  }

  /** Answers every pending wait now (no receipt) and drops the subscribers: the node is stopping. */
  close(): void {
    for (const c of [...this.cancels]) c();
    this.subscribers.clear();
    this.slots.clear();
  }
}
