// When a read may be answered. A block is applied in slices with the event loop running in
// between, and the tree is inside the block meanwhile: reads arriving then wait for its end. A
// read may also ask for a minimum height; it waits for that height, at most MAX_GET_WAIT_MS (then
// it is answered at the height there is, still outside a block). Both queues are bounded.

import { MAX_DEFERRED_GETS, MAX_GET_HEIGHT_WAITERS, MAX_GET_WAIT_MS } from "./common/limits.js";

export class ReadGate {
  /** A block is being applied (in slices): the tree is inside it. */
  private applying = false;
  /** Reads that arrived while a block was being applied, retried when it ends. */
  private readonly deferred: Array<() => void> = [];
  /** Reads among them waiting for a minimum height. */
  private heightWaiters = 0;

  constructor(private readonly height: () => bigint) {}

  blockStarted(): void {
    this.applying = true;
  }

  blockEnded(): void {
    this.applying = false;
    for (const retry of this.deferred.splice(0)) retry();
  }

  /** The node is stopping after a failed block: waiting reads will not be answered. */
  abandon(): void {
    this.applying = false;
    this.deferred.length = 0;
  }

  /**
   * Calls `answer` once no block is being applied and the node is at `minHeight` (or its wait is
   * over); `busy` instead when too many reads already wait.
   */
  admit(minHeight: bigint, answer: () => void, busy: () => void): void {
    const waits = minHeight > this.height() && this.heightWaiters < MAX_GET_HEIGHT_WAITERS;
    let timedOut = !waits;
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (reply: () => void) => {
      answered = true;
      if (timer) {
        clearTimeout(timer);
        this.heightWaiters--;
      }
      reply();
    };
    const attempt = () => {
      if (answered) return;
      if (!this.applying && (timedOut || this.height() >= minHeight)) return finish(answer);
      if (this.deferred.length >= MAX_DEFERRED_GETS) return finish(busy);
      this.deferred.push(attempt);
    };
    if (waits) {
      this.heightWaiters++;
      timer = setTimeout(() => {
        timedOut = true;
        const i = this.deferred.indexOf(attempt);
        if (i >= 0) this.deferred.splice(i, 1);
        attempt();
      }, MAX_GET_WAIT_MS);
    }
    attempt();
  }
}
