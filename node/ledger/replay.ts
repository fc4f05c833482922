// Exactly once: the ids of requests applied within the last T timestamps. A request can only
// apply while its proof's root is among the roots of the last T timestamps, and its proof's root
// predates its application, so remembering ids for T timestamps rejects every replay.

import { toHex } from "../common/bytes.js";

export class ReplayWindow {
  private readonly ids = new Map<string, number>();
  private readonly order: Array<{ id: string; ts: number }> = [];
  private head = 0;

  has(id: Uint8Array): boolean {
    return this.ids.has(toHex(id));
  }

  add(id: Uint8Array, ts: number): void {
    const k = toHex(id);
    this.ids.set(k, ts);
    this.order.push({ id: k, ts });
  }

  /** Forgets ids applied at or before `oldest`. */
  expire(oldest: number): void {
    while (this.head < this.order.length && this.order[this.head]!.ts <= oldest) {
      const e = this.order[this.head++]!;
      if (this.ids.get(e.id) === e.ts) this.ids.delete(e.id);
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }

  get size(): number {
    return this.ids.size;
  }
}
