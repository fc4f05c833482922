// A bound on how often one kind of log line is written: at most `perWindow` lines per window of
// `windowMs`, the rest counted and summed up on the next line written. A peer that can cause a
// warning at will (a flood of equivocations) cannot flood the log with it.

export class LogBudget {
  private windowStart = -Infinity;
  private used = 0;
  /** lines held back since the last one written */
  private held = 0;

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  /** Whether a line may be written now (`takeSuppressed` then tells how many were held back before it). */
  allow(now: number): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.perWindow) {
      this.held++;
      return false;
    }
    this.used++;
    return true;
  }

  /** Lines held back since the last call (read when writing an allowed line). */
  takeSuppressed(): number {
    const n = this.held;
    this.held = 0;
    return n;
  }
}
