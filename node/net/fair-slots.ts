// Slots shared fairly among callers' addresses: at most `perHost` held by one address, at most
// `max` in all; when all are taken, a newcomer from an address holding fewer than the busiest
// address minus one takes the place of that address's oldest holder, which is told to go. A few
// hosts cannot hold every slot (receipt subscriptions, health watches, a port's connections).

/** One held slot. */
interface Held {
  readonly evict: () => void;
  readonly release: () => void;
}

export type FairRefusal = "too-many" | "too-many-from-host";

export class FairSlots {
  private readonly byHost = new Map<string, Set<Held>>();
  private total = 0;
  /** holders told to go to make room for a newcomer from a less busy address */
  evicted = 0;

  constructor(
    private readonly max: number,
    private readonly perHost: number,
  ) {
    if (!(max > 0 && perHost > 0)) throw new RangeError("fair slots: bounds must be positive");
  }

  /** Slots held now, in all. */
  get count(): number {
    return this.total;
  }

  /**
   * Takes a slot for `host`, making room if it may (`evict` is how the holder is told to go; its
   * slot is freed at once); returns the function that gives the slot back (idempotent), or why none.
   */
  take(host: string, evict: () => void): (() => void) | FairRefusal {
    const have = this.byHost.get(host)?.size ?? 0;
    if (have >= this.perHost) return "too-many-from-host";
    if (this.total >= this.max) {
      let busiest: Set<Held> | undefined;
      for (const s of this.byHost.values()) if (busiest === undefined || s.size > busiest.size) busiest = s;
      const oldest =
        busiest !== undefined && busiest.size > have + 1 ? busiest.values().next().value : undefined;
      if (oldest === undefined) return "too-many";
      this.evicted++;
      oldest.release();
      oldest.evict();
    }
    let mine = this.byHost.get(host);
    if (mine === undefined) this.byHost.set(host, (mine = new Set()));
    const set = mine;
    let held = true;
    const slot = {
      evict,
      release: () => {
        if (!held) return;
        held = false;
        set.delete(slot);
        this.total--;
        if (set.size === 0 && this.byHost.get(host) === set) this.byHost.delete(host);
      },
    };
    set.add(slot);
    this.total++;
    return slot.release;
  }

  /** Forgets every slot (without telling their holders). */
  clear(): void {
    this.byHost.clear();
    this.total = 0;
  }
}
