// Receipts a node serves, with waiters and subscribers: a cache of recent ones (MAX_RECENT_RECEIPTS,
// oldest forgotten first) in front of the durable receipt store, which answers for the others. A
// receipt is signed when it is first handed out (a wait, a subscriber), not when its block is
// applied: most receipts are never asked of a given node, and an Ed25519 signature is
// deterministic, so the bytes served are the same either way — before a crash and after it.

import { toHex } from "./common/bytes.js";
import { MAX_RECENT_RECEIPTS, MAX_RECEIPT_SUBSCRIPTIONS } from "./common/limits.js";
import { failpoint } from "./failpoints.js";

export interface SignedReceiptBytes {
  readonly receipt: Uint8Array;
  readonly node: number;
  readonly signature: Uint8Array;
}

type Waiter = (r: SignedReceiptBytes) => void;

/** A receipt as produced, and its signature once someone asked for it. */
interface Entry {
  readonly receipt: Uint8Array;
  signed: SignedReceiptBytes | undefined;
}

export class ReceiptBook {
  private readonly byId = new Map<string, Entry>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly subscribers = new Set<{ ids: Set<string> | null; push: Waiter }>();
  /** Pending waits' early answers (no receipt): called on close. */
  private readonly cancels = new Set<() => void>();

  /**
   * `sign` signs a receipt as this node (called at most once per cached receipt, when first
   * served); `load` reads a receipt the cache does not hold from the durable store.
   */
  constructor(
    private readonly sign: (receipt: Uint8Array) => SignedReceiptBytes,
    private readonly load: (requestId: Uint8Array) => Promise<Uint8Array | undefined> = () =>
      Promise.resolve(undefined),
  ) {}

  /**
   * Records a receipt the node keeps (unsigned: it is signed when first served) and hands it to
   * its waiters and subscribers. The caller applies the rule for several receipts with one id.
   */
  add(requestId: Uint8Array, receipt: Uint8Array): void {
    const id = toHex(requestId);
    const e = this.cache(id, receipt);
    this.wake(id, e);
    for (const s of this.subscribers) if (s.ids === null || s.ids.has(id)) s.push(this.signed(e));
  }

  /** The cached receipt bytes of a request, if any (no signature made). */
  peek(requestId: Uint8Array): Uint8Array | undefined {
    return this.byId.get(toHex(requestId))?.receipt;
  }

  private cache(id: string, receipt: Uint8Array): Entry {
    const e: Entry = { receipt, signed: undefined };
    this.byId.delete(id);
    this.byId.set(id, e);
    if (this.byId.size > MAX_RECENT_RECEIPTS) this.byId.delete(this.byId.keys().next().value!);
    return e;
  }

  private wake(id: string, e: Entry): void {
    const ws = this.waiters.get(id);
    if (ws) {
      this.waiters.delete(id);
      const r = this.signed(e);
      for (const w of ws) w(r);
    }
  }

  get(requestId: Uint8Array): SignedReceiptBytes | undefined {
    const e = this.byId.get(toHex(requestId));
    return e && this.signed(e);
  }

  private signed(e: Entry): SignedReceiptBytes {
    if (e.signed === undefined) failpoint("receipt-serving");
    return (e.signed ??= this.sign(e.receipt));
  }

  /**
   * Resolves with the receipt, or undefined after `timeoutMs`: from the cache, else from the
   * durable store, else when its block is applied. The wait is registered before the store is
   * read, so a block applied during the read still wakes it.
   */
  wait(requestId: Uint8Array, timeoutMs: number): Promise<SignedReceiptBytes | undefined> {
    const have = this.get(requestId);
    if (have) return Promise.resolve(have);
    const id = toHex(requestId);
    const waiting = this.enqueue(id, timeoutMs);
    void this.load(requestId).then(
      (stored) => {
        if (stored !== undefined && this.waiters.has(id)) this.wake(id, this.cache(id, stored));
      },
      () => undefined,
    );
    return waiting;
  }

  private enqueue(id: string, timeoutMs: number): Promise<SignedReceiptBytes | undefined> {
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set<Waiter>();
      this.waiters.set(id, set);
      const done: Waiter = (r) => {
        clearTimeout(timer);
        this.cancels.delete(cancel);
        resolve(r);
      };
      const cancel = () => {
        clearTimeout(timer);
        this.cancels.delete(cancel);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
        resolve(undefined);
      };
      const timer = setTimeout(cancel, timeoutMs);
      set.add(done);
      this.cancels.add(cancel);
    });
  }

  /** Returns an unsubscribe function, or null when too many subscriptions are open. */
  subscribe(ids: Uint8Array[] | null, push: Waiter): (() => void) | null {
    if (this.subscribers.size >= MAX_RECEIPT_SUBSCRIPTIONS) return null;
    const s = { ids: ids && ids.length > 0 ? new Set(ids.map(toHex)) : null, push };
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  /** Answers every pending wait now (no receipt) and drops the subscribers: the node is stopping. */
  close(): void {
    for (const c of [...this.cancels]) c();
    this.subscribers.clear();
  }
}
