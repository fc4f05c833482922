// A light client (Dietcoin-style): it keeps only the genesis and the newest validator set it
// trusts. To verify a read at height h it downloads the certified headers that changed the
// validator set since its trusted height (each certified by the set before it), then the one
// certified header at h, and checks the proof against that header's root — no state, and none of
// the headers in between.

import { bytesEqual } from "../node/common/bytes.js";
import { validatorsOf, type Genesis } from "../node/ledger/genesis.js";
import {
  decodeCertifiedHeader,
  validatorsHash,
  verifyCertificate,
  type CertifiedHeader,
  type Validator,
} from "../node/ledger/header.js";
import { chainId } from "../node/ledger/genesis.js";
import { decodeProof } from "../node/store/core/proof-codec.js";
import { provenState } from "../node/store/core/proof.js";
import { keyPath } from "../node/store/core/path.js";
import { clientVerifier } from "./crypto.js";
import { decodeValidators } from "../node/ledger/validators-codec.js";
import { VerificationError } from "./errors.js";
import type { NodeConnection } from "./transport.js";

/** A validator-set transition as a node serves it: the deciding header and the next set. */
export interface Transition {
  readonly certificate: Uint8Array;
  readonly next: Uint8Array;
}

export interface HeaderSource {
  /** Transitions decided after height `after`, ascending, whose new set starts at or before `until`. */
  transitions(after: bigint, until: bigint): Promise<Transition[]>;
  /** The certified header at `height`. */
  header(height: bigint): Promise<Uint8Array>;
}

export class LightClient {
  readonly chain: Uint8Array;
  private trustedHeight = 0n;
  private set: Validator[];
  /** sets that take over later: [fromHeight, set] ascending */
  private upcoming: Array<[bigint, Validator[]]> = [];
  /** Bytes downloaded so far (headers, certificates, validator lists). */
  bytesDownloaded = 0;
  headersDownloaded = 0;

  constructor(
    readonly genesis: Genesis,
    private readonly source: HeaderSource,
  ) {
    this.chain = chainId(genesis);
    this.set = validatorsOf(genesis);
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
    if (height > this.trustedHeight) {
      for (const t of await this.source.transitions(this.trustedHeight, height)) {
        this.bytesDownloaded += t.certificate.length + t.next.length;
        this.headersDownloaded++;
        const c = decodeCertifiedHeader(t.certificate);
        this.check(c, `transition header ${c.header.height}`);
        const next = decodeValidators(t.next);
        if (!bytesEqual(validatorsHash(next), c.header.nextValidatorsHash))
          throw new VerificationError(
            "light/bad-transition",
            `the next validator set does not match header ${c.header.height}`,
          );
        this.upcoming.push([c.header.nextFromHeight, next]);
        this.trustedHeight = c.header.height;
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
    while (this.upcoming.length > 0 && this.upcoming[0]![0] <= height) this.set = this.upcoming.shift()![1];
    if (height > this.trustedHeight) this.trustedHeight = height;
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

/** The headers a node serves, as a light client's source (counts what it downloads through the client). */
export function nodeHeaderSource(conn: NodeConnection): HeaderSource {
  return {
    async transitions(after, until) {
      const r = await conn.transitions(after, until);
      return r.headers.map((certificate, i) => ({ certificate, next: r.nextValidators[i]! }));
    },
    async header(height) {
      const r = await conn.headers(height, 1);
      const b = r.headers[0];
      if (!b) throw new VerificationError("light/no-header", `no certified header at ${height} yet`);
      return b;
    },
  };
}
