// A bound on the storage reads that peers' requests cause (catch-up blocks, certificate sync): at
// most one read started per peer per interval and a fixed number in flight in total. A request
// past either bound is dropped, not queued: honest askers ask again on their own schedule, and a
// peer flooding requests costs the node one read per interval.

export class PeerReadLimit {
  private inFlight = 0;
  /** when each peer's last read started; one entry per peer that ever asked (members only) */
  private readonly last = new Map<string, number>();

  constructor(
    private readonly maxInFlight: number,
    private readonly intervalMs: number,
    /** the clock, in milliseconds (the shell's; tests pass their own) */
    private readonly now: () => number,
  ) {}

  /** Starts `read` for `peer` if the bounds allow (its failure is swallowed); false when dropped. */
  run(peer: string, read: () => Promise<unknown>): boolean {
    const t = this.now();
    const last = this.last.get(peer);
    if (this.inFlight >= this.maxInFlight || (last !== undefined && t - last < this.intervalMs)) return false;
    this.last.set(peer, t);
    this.inFlight++;
    void read()
      .catch(() => undefined)
      .finally(() => this.inFlight--);
    return true;
  }

  /** Reads under way (for tests and diagnostics). */
  get reading(): number {
    return this.inFlight;
  }
}
