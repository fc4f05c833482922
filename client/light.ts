// A light client (Dietcoin-style): it keeps only the genesis and the newest validator set it
// trusts. To verify a read at height h it downloads the certified headers that changed the
// validator set since its trusted height (each certified by the set before it), then the one
// certified header at h, and checks the proof against that header's root — no state, and none of
// the headers in between.

import { bytesEqual } from "../node/common/bytes.js";
import { validatorsOf, type Genesis } from "../node/ledger/genesis.js";
import {
  decodeCertifiedHeader,
  verifyCertificate,
  type CertifiedHeader,
  type Validator,
} from "../node/ledger/header.js";
import { chainId } from "../node/ledger/genesis.js";
import { decodeProof } from "../node/store/core/proof-codec.js";
import { provenState } from "../node/store/core/proof.js";
import { keyPath } from "../node/store/core/path.js";
import { clientVerifier } from "./crypto.js";
import { VerificationError } from "./errors.js";
import type { NodeConnection } from "./transport.js";
import { verifyTransition, type Transition } from "./transition.js";

export interface HeaderSource {
  /**
   * Transitions decided after height `after` and at or before `until`, ascending (a source may
   * leave out those whose new set starts after `until`: the light client does not need them yet).
   */
  transitions(after: bigint, until: bigint): Promise<Transition[]>;
  /** The certified header at `height`. */
  header(height: bigint): Promise<Uint8Array>;
}

export class LightClient {
  readonly chain: Uint8Array;
  private trustedHeight = 0n;
  /**
   * The height of the last transition header stepped through (0: none). Transitions are asked
   * for after it, not after the trusted height: a header verified at the height that decided a
   * change, when the change starts later, did not bring the next set with it.
   */
  private transitionHeight = 0n;
  private set: Validator[];
  /** the first height `set` certifies (1: the genesis set) */
  private setFrom = 1n;
  /** sets that take over later: [fromHeight, set] ascending */
  private upcoming: Array<[bigint, Validator[]]> = [];
  /** the newest header verified at or after the trusted height (kept: asked again, it costs nothing) */
  private latest: CertifiedHeader | null = null;
  /** Bytes downloaded so far (headers, certificates, validator lists; proofs given to verifyRead). */
  bytesDownloaded = 0;
  /** Certified headers downloaded, transition headers included. */
  headersDownloaded = 0;
  /** Validator-set transitions stepped through. */
  transitionsDownloaded = 0;

  constructor(
    readonly genesis: Genesis,
    private readonly source: HeaderSource,
  ) {
    this.chain = chainId(genesis);
    this.set = validatorsOf(genesis);
  }

  /** The height of the newest header (or transition) this client trusts; 0 at genesis. */
  get height(): bigint {
    return this.trustedHeight;
  }

  private setAt(height: bigint): Validator[] {
    let s = this.set;
    for (const [from, next] of this.upcoming) if (from <= height) s = next;
    return s;
  }

  private check(c: CertifiedHeader, what: string): void {
    if (!bytesEqual(c.header.chain, this.chain))
      throw new VerificationError("light/wrong-chain", `${what} belongs to another chain`);
    const r = verifyCertificate(c, this.setAt(c.header.height), clientVerifier);
    if (!r.ok) throw new VerificationError("light/bad-certificate", `${what}: ${r.reason}`);
  }

  /** A certified header at `height`, verified by stepping through validator-set changes only. */
  async header(height: bigint): Promise<CertifiedHeader> {
    if (height < 1n)
      throw new VerificationError("light/genesis-height", "height 0 is the genesis: it has no header");
    // Only the newest set is kept: a header older than the height it took over at cannot be checked.
    if (height < this.setFrom)
      throw new VerificationError(
        "light/before-trusted-set",
        `height ${height} is before the validator set trusted since ${this.setFrom}`,
      );
    if (this.latest !== null && this.latest.header.height === height) return this.latest;
    if (height > this.trustedHeight) {
      for (const t of await this.source.transitions(this.transitionHeight, height)) {
        this.bytesDownloaded += t.certificate.length + t.next.length;
        this.headersDownloaded++;
        const { header: c, next } = verifyTransition(t, this.chain, this.transitionHeight, height, (h) =>
          this.setAt(h),
        );
        this.upcoming.push([c.header.nextFromHeight, next]);
        this.transitionHeight = c.header.height;
        if (c.header.height > this.trustedHeight) this.trustedHeight = c.header.height;
        this.transitionsDownloaded++;
      }
    }
    const bytes = await this.source.header(height);
    this.bytesDownloaded += bytes.length;
    this.headersDownloaded++;
    const c = decodeCertifiedHeader(bytes);
    if (c.header.height !== height)
      throw new VerificationError("light/wrong-height", `asked ${height}, got ${c.header.height}`);
    this.check(c, `header ${height}`);
    // Sets that started at or before a verified height are now the trusted one.
    while (this.upcoming.length > 0 && this.upcoming[0]![0] <= height) {
      const [from, next] = this.upcoming.shift()!;
      this.set = next;
      this.setFrom = from;
    }
    if (height >= this.trustedHeight) {
      this.trustedHeight = height;
      this.latest = c;
    }
    return c;
  }

  /** Verifies a proof (encoded) for `key` against the certified root at `height`; returns the value. */
  async verifyRead(key: string, proof: Uint8Array, height: bigint): Promise<Uint8Array | null> {
    this.bytesDownloaded += proof.length;
    const c = await this.header(height);
    const d = decodeProof(proof);
    if (!bytesEqual(d.rootLabel, c.header.root))
      throw new VerificationError("light/root-mismatch", "the proof is not against the certified root");
    const s = provenState(d.root, keyPath(key));
    if (!s.covered) throw new VerificationError("light/not-covered", `the proof does not cover ${key}`);
    return s.present ? s.value : null;
  }
}

/**
 * How long one node may take to serve a light client's header, or its set changes, before the
 * next node is asked (a silent node would otherwise hold the client for the whole connection
 * timeout).
 */
export const LIGHT_HEADER_CALL_MS = 3_000;
export const LIGHT_TRANSITIONS_CALL_MS = 6_000;

/** The headers a node serves, as a light client's source (counts what it downloads through the client). */
export function nodeHeaderSource(conn: NodeConnection): HeaderSource {
  return {
    async transitions(after, until) {
      const r = await conn.transitions(after, until, LIGHT_TRANSITIONS_CALL_MS);
      return r.headers.map((certificate, i) => ({ certificate, next: r.nextValidators[i]! }));
    },
    async header(height) {
      const r = await conn.headers(height, 1, 0, LIGHT_HEADER_CALL_MS);
      const b = r.headers[0];
      if (!b) throw new VerificationError("light/no-header", `no certified header at ${height} yet`);
      return b;
    },
  };
}
