// Certified headers: after applying block h a node signs its header and sends the signature to
// its peers; once 2f+1 validators' signatures over the same header hash are in, the header is
// certified and stored. Signatures that arrive before this node reaches h wait in a bounded buffer.

import { Level } from "level";
import { Reader, Writer } from "./common/codec.js";
import { bytesEqual } from "./common/bytes.js";
import { MAX_HEADER_WAITERS, MAX_HEADERS_PER_REPLY } from "./common/limits.js";
import {
  decodeCertifiedHeader,
  encodeCertifiedHeader,
  headerHash,
  headerSigningMessage,
  quorum,
  type CertifiedHeader,
  type Header,
  type HeaderSignature,
  type Validator,
} from "./ledger/header.js";
import type { SignatureVerifier } from "./ledger/ledger.js";

/** Heights ahead of our own for which peers' signatures are buffered. */
const EARLY_SIGNATURE_HEIGHTS = 256;
const P_CERT = 0x63; // 'c'

function certKey(h: bigint): Uint8Array {
  return new Writer(9).u8(P_CERT).u64(h).finish();
}

export interface HeaderSigMessage {
  readonly height: bigint;
  readonly hash: Uint8Array;
  readonly signer: number;
  readonly signature: Uint8Array;
}

export function encodeHeaderSig(m: HeaderSigMessage): Uint8Array {
  return new Writer(120).u8(1).u64(m.height).raw(m.hash).varint(m.signer).raw(m.signature).finish();
}

export function decodeHeaderSig(b: Uint8Array): HeaderSigMessage {
  const r = new Reader(b);
  if (r.u8() !== 1) throw new RangeError("not a header signature");
  const m = { height: r.u64(), hash: r.copy(32), signer: r.varint(1 << 30), signature: r.copy(64) };
  r.end("header signature");
  return m;
}

interface Pending {
  header: Header | null;
  hash: Uint8Array | null;
  /** `verified`: checked against the header already (each signature is verified once) */
  sigs: Map<number, { hash: Uint8Array; signature: Uint8Array; verified?: boolean }>;
}

export class HeaderCertifier {
  private readonly pending = new Map<bigint, Pending>();
  private ownHeight = -1n;
  latestCertified = -1n;
  onCertified: ((c: CertifiedHeader) => void) | null = null;
  /** Calls waiting for the certificate at a height (GetHeaders with wait_ms), at most MAX_HEADER_WAITERS. */
  private readonly waiters = new Map<bigint, Array<() => void>>();
  private waiting = 0;

  constructor(
    private readonly db: Level<Uint8Array, Uint8Array>,
    /** the validator set that certifies headers at a height */
    private readonly validatorsAt: (height: bigint) => readonly Validator[],
    private readonly verifier: SignatureVerifier,
  ) {}

  /** Our own header for a height we just applied, with our signature. */
  own(header: Header, signer: number, signature: Uint8Array): void {
    const p = this.slot(header.height);
    p.header = header;
    p.hash = headerHash(header);
    p.sigs.set(signer, { hash: p.hash, signature });
    this.ownHeight = header.height;
    this.check(header.height);
    for (const h of this.pending.keys()) if (h < header.height - 64n) this.pending.delete(h);
  }

  /** A peer's signature. Unverifiable or foreign ones are dropped. */
  add(m: HeaderSigMessage): void {
    if (m.height <= this.latestCertified && this.pending.get(m.height) === undefined) return;
    if (m.height > this.ownHeight + BigInt(EARLY_SIGNATURE_HEIGHTS)) return;
    const v = this.validatorsAt(m.height).find((x) => x.id === m.signer);
    if (!v) return;
    const p = this.slot(m.height);
    p.sigs.set(m.signer, { hash: m.hash, signature: m.signature });
    this.check(m.height);
  }

  private slot(h: bigint): Pending {
    let p = this.pending.get(h);
    if (!p) {
      p = { header: null, hash: null, sigs: new Map() };
      this.pending.set(h, p);
    }
    return p;
  }

  private check(h: bigint): void {
    const p = this.pending.get(h);
    if (!p || !p.header || !p.hash) return;
    let msg: Uint8Array | undefined;
    const validators = this.validatorsAt(h);
    const good: HeaderSignature[] = [];
    for (const [signer, s] of p.sigs) {
      if (!bytesEqual(s.hash, p.hash)) continue;
      if (!s.verified) {
        const v = validators.find((x) => x.id === signer);
        msg ??= headerSigningMessage(p.header);
        if (!v || !this.verifier.ed25519Verify(v.publicKey, msg, s.signature)) {
          p.sigs.delete(signer);
          continue;
        }
        s.verified = true;
      }
      good.push({ signer, signature: s.signature });
    }
    if (good.length < quorum(validators.length)) return;
    good.sort((a, b) => a.signer - b.signer);
    const cert: CertifiedHeader = { header: p.header, signatures: good };
    this.pending.delete(h);
    if (h > this.latestCertified) this.latestCertified = h;
    const stored = this.db.put(certKey(h), encodeCertifiedHeader(cert)).catch(() => undefined);
    this.onCertified?.(cert);
    const waiting = this.waiters.get(h);
    if (waiting) {
      this.waiters.delete(h);
      // Wake them once the certificate can be read back.
      void stored.then(() => waiting.forEach((wake) => wake()));
    }
  }

  /**
   * Resolves once the header at `h` is certified here (true), or after `ms` (false). At once when
   * it is already (or a later one is: a height skipped by this node is not waited for), and — so
   * waiting stays bounded — when MAX_HEADER_WAITERS calls wait already or `ms` is 0.
   */
  whenCertified(h: bigint, ms: number): Promise<boolean> {
    if (h <= this.latestCertified) return Promise.resolve(true);
    if (ms <= 0 || this.waiting >= MAX_HEADER_WAITERS) return Promise.resolve(false);
    return new Promise((resolve) => {
      let done = false;
      const finish = (certified: boolean) => {
        if (done) return;
        done = true;
        this.waiting--;
        clearTimeout(timer);
        resolve(certified);
      };
      const timer = setTimeout(() => {
        const list = this.waiters.get(h);
        const i = list?.indexOf(wake) ?? -1;
        if (list && i >= 0) list.splice(i, 1);
        if (list?.length === 0) this.waiters.delete(h);
        finish(false);
      }, ms);
      const wake = () => finish(true);
      this.waiting++;
      const list = this.waiters.get(h) ?? [];
      list.push(wake);
      this.waiters.set(h, list);
    });
  }

  /** Answers every waiting call now (shutdown). */
  releaseWaiters(): void {
    const all = [...this.waiters.values()].flat();
    this.waiters.clear();
    for (const wake of all) wake();
  }

  async get(h: bigint): Promise<CertifiedHeader | undefined> {
    const b = await this.db.get(certKey(h));
    return b === undefined ? undefined : decodeCertifiedHeader(b);
  }

  async range(from: bigint, max: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    const limit = Math.min(max, MAX_HEADERS_PER_REPLY);
    for await (const v of this.db.values({ gte: certKey(from), lt: new Uint8Array([P_CERT + 1]), limit }))
      out.push(v);
    return out;
  }

  async loadLatest(): Promise<void> {
    for await (const k of this.db.keys({
      gte: certKey(0n),
      lt: new Uint8Array([P_CERT + 1]),
      reverse: true,
      limit: 1,
    }))
      this.latestCertified = new Reader(k.subarray(1)).u64();
  }
}
