// Requests a bench sends without waiting for each: their verdicts counted as they come (the
// receipt's, or the refusal's code), and a bounded wait for the last of them.
import type { TrustedReceipt } from "../client/index.js";
import { reasonOf, sleep } from "./sdk-transfer-load.js";

export class VerdictTally {
  readonly verdicts: Record<string, number> = {};
  private readonly pending = new Set<Promise<void>>();

  /** Counts the verdict `outcome` ends with. */
  track(outcome: Promise<TrustedReceipt>): void {
    const p = outcome
      .then(
        (t) => this.count(t.receipt.status === "accepted" ? "accepted" : t.receipt.reason),
        (e) => this.count(reasonOf(e)),
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Resolves once every request tracked has its verdict, or after `capMs`. */
  async drained(capMs: number): Promise<void> {
    const end = Date.now() + capMs;
    while (this.pending.size > 0 && Date.now() < end)
      await Promise.race([Promise.race(this.pending), sleep(1000)]);
  }

  private count(v: string): void {
    this.verdicts[v] = (this.verdicts[v] ?? 0) + 1;
  }
}
