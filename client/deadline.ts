// A call's deadline: how much time is left, and what the call is waiting for, so that when time
// runs out it ends with a typed error naming what was missing rather than a bare timeout. Closing
// the client ends every call's deadline at once (its retry loops and polls stop with it).
import { UnavailableError } from "./errors.js";

/** Per-call options every public SDK call takes. */
export interface CallOptions {
  /** This call's deadline, milliseconds from now (default: the client's `timeoutMs`). */
  readonly timeoutMs?: number;
}

/** A number is the deadline in milliseconds (the older positional form); otherwise the options. */
export function callTimeout(o: number | CallOptions | undefined, fallback: number): number {
  const ms = typeof o === "number" ? o : (o?.timeoutMs ?? fallback);
  return Number.isFinite(ms) && ms > 0 ? ms : fallback;
}

/**
 * What a client's close() ends: the deadlines of its calls. (Not an AbortSignal: hundreds of calls
 * in flight would each add a listener, past the runtime's leak warning.)
 */
export class Closer {
  private readonly listeners = new Set<() => void>();
  closed = false;

  close(): void {
    this.closed = true;
    for (const f of [...this.listeners]) f();
    this.listeners.clear();
  }

  /** Calls `f` on close; returns the function that unregisters it. */
  onClose(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }
}

export class Deadline {
  readonly at: number;
  private missing: () => UnavailableError;

  constructor(
    readonly ms: number,
    private readonly call: string,
    /** closed when the client is */
    private readonly closer?: Closer,
  ) {
    this.at = Date.now() + Math.ceil(ms);
    this.missing = () => new UnavailableError("client/deadline", `${call} did not finish within ${ms} ms`);
  }

  /** Milliseconds left (0 once passed, or once the client is closed). */
  get left(): number {
    return this.closer?.closed ? 0 : Math.max(0, this.at - Date.now());
  }

  get expired(): boolean {
    return this.left === 0;
  }

  /** `ms`, or what is left when that is less (at least 1 ms: a gRPC deadline of 0 is none). */
  cap(ms: number): number {
    return Math.max(1, Math.min(ms, this.left));
  }

  /** Names what the call waits for now: the error it ends with if the deadline passes meanwhile. */
  waitingFor(code: string, what: () => string): void {
    this.missing = () => new UnavailableError(code, `${what()} (deadline ${this.ms} ms)`);
  }

  /** The error for the deadline having passed: what the call was waiting for. */
  error(): UnavailableError {
    if (this.closer?.closed)
      return new UnavailableError("client/closed", `${this.call}: the client was closed`);
    return this.missing();
  }

  /**
   * `work`, or the deadline's error once the deadline passes (or the client is closed) first
   * (`work` is left to settle).
   */
  run<T>(work: Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      const stop = () => reject(this.error());
      const timer = setTimeout(stop, this.left);
      const unregister = this.closer?.onClose(stop);
      const done = () => {
        clearTimeout(timer);
        unregister?.();
      };
      work.then(
        (v) => {
          done();
          resolve(v);
        },
        (e: unknown) => {
          done();
          reject(e);
        },
      );
    });
  }

  /** Waits `ms`, or until the deadline when that comes first. */
  sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, Math.min(ms, this.left)));
  }
}
