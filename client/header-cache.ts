// Certified headers verified in this process, shared by every ArborClient of the same chain: a
// header's certificate is checked once per height per process, whichever client needs it first,
// and clients asking for a height being fetched wait for that fetch. Bounded: the oldest verified
// header goes first. Light clients keep their own (they trust only their newest validator set).

import type { CertifiedHeader } from "../node/ledger/header.js";
import { MAX_VERIFIED_HEADERS } from "./limits.js";

export class VerifiedHeaders {
  private readonly headers = new Map<string, CertifiedHeader>();
  private readonly pending = new Map<string, Promise<CertifiedHeader>>();
  /** Headers verified and kept since the process started. */
  verified = 0;

  constructor(private readonly max: number) {}

  /** The verified header of `chain` (hex) at `height`, if this process has one. */
  get(chain: string, height: bigint): CertifiedHeader | undefined {
    return this.headers.get(`${chain}:${height}`);
  }

  /**
   * The verified header at `height`: kept, being fetched by another client (a fetch that fails
   * there is tried once by this caller), or fetched and verified by `fetch` now.
   */
  once(chain: string, height: bigint, fetch: () => Promise<CertifiedHeader>): Promise<CertifiedHeader> {
    const key = `${chain}:${height}`;
    const have = this.headers.get(key);
    if (have) return Promise.resolve(have);
    const running = this.pending.get(key);
    if (running)
      return running.catch(() => this.headers.get(key) ?? this.pending.get(key) ?? this.start(key, fetch));
    return this.start(key, fetch);
  }

  private start(key: string, fetch: () => Promise<CertifiedHeader>): Promise<CertifiedHeader> {
    const p = fetch().then((c) => {
      this.verified++;
      this.headers.set(key, c);
      if (this.headers.size > this.max) this.headers.delete(this.headers.keys().next().value!);
      return c;
    });
    this.pending.set(key, p);
    const forget = () => {
      if (this.pending.get(key) === p) this.pending.delete(key);
    };
    p.then(forget, forget);
    return p;
  }
}

/** The process's verified headers. */
export const verifiedHeaders = new VerifiedHeaders(MAX_VERIFIED_HEADERS);
