// Certified headers: after applying block h a node signs its header and sends the signature to
// its peers; once 2f+1 validators' signatures over the same header hash are in, the header is
// certified and stored. Signatures that arrive before this node reaches h wait in a bounded buffer;
// heights keep collecting signatures for CERT_PENDING_HEIGHTS blocks. Certificates a node missed
// (it was down, or crashed before the quorum formed) come from peers (certificate sync), each
// checked against the node's own header of that height before it is stored. The node tracks the
// lowest height it applied without a certificate, so it knows what to ask for. Heights whose block
// was empty have no header and are skipped (`headerless`).

import { Level } from "level";
import { Reader, Writer } from "./common/codec.js";
import { bytesEqual } from "./common/bytes.js";
import {
  CERT_EARLY_HEIGHTS,
  CERT_PENDING_HEIGHTS,
  MAX_HEADER_WAITERS,
  MAX_HEADERS_PER_REPLY,
} from "./common/limits.js";
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
  verifyCertificate,
} from "./ledger/header.js";
import type { SignatureVerifier } from "./common/signature-verifier.js";

const P_CERT = 0x63; // 'c'

/** A certificate as the node database stores it (a store installed from a snapshot gets its height's). */
export function certRecord(c: CertifiedHeader): { key: Uint8Array; value: Uint8Array } {
  return { key: certKey(c.header.height), value: encodeCertifiedHeader(c) };
}

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
  /**
   * Signers whose signature over this height's header did not verify. Only a signer can send its
   * own signature (its peer key is checked), and a correct one signs a header once, so it is
   * faulty: its later signatures for the height are dropped unverified (each would cost a
   * verification).
   */
  refused: Set<number>;
}

export class HeaderCertifier {
  /** Certificate writes not yet acknowledged by the database. */
  private readonly writes = new Set<Promise<void>>();
  private readonly pending = new Map<bigint, Pending>();
  private ownHeight = -1n;
  latestCertified = -1n;
  /**
   * The lowest height that may lack its certificate here; heights above it that have one. Heights
   * below it are certified, or older than what the node keeps its own headers for (see `floor`).
   */
  private gapFrom = 1n;
  private readonly certifiedAbove = new Set<bigint>();
  onCertified: ((c: CertifiedHeader) => void) | null = null;
  /** Calls waiting for the certificate at a height (GetHeaders with wait_ms), at most MAX_HEADER_WAITERS. */
  private readonly waiters = new Map<bigint, Array<() => void>>();
  private waiting = 0;

  constructor(
    private readonly db: Level<Uint8Array, Uint8Array>,
    /** this node's validator id (its own signatures are the ones sent again) */
    private readonly self: number,
    /** the validator set that certifies headers at a height */
    private readonly validatorsAt: (height: bigint) => readonly Validator[],
    private readonly verifier: SignatureVerifier,
  ) {}

  /** Our own header for a height we applied (just now, or before a restart), with our signature. */
  own(header: Header, signer: number, signature: Uint8Array): void {
    if (this.isCertified(header.height)) return;
    const p = this.slot(header.height);
    p.header = header;
    p.hash = headerHash(header);
    p.sigs.set(signer, { hash: p.hash, signature });
    if (header.height > this.ownHeight) this.ownHeight = header.height;
    this.check(header.height);
    const oldest = this.ownHeight - BigInt(CERT_PENDING_HEIGHTS);
    for (const h of this.pending.keys()) if (h < oldest) this.pending.delete(h);
  }

  /** A peer's signature. Unverifiable or foreign ones are dropped. */
  add(m: HeaderSigMessage): void {
    if (this.isCertified(m.height) && this.pending.get(m.height) === undefined) return;
    if (m.height > this.ownHeight + BigInt(CERT_EARLY_HEIGHTS)) return;
    if (m.height < this.ownHeight - BigInt(CERT_PENDING_HEIGHTS)) return;
    const v = this.validatorsAt(m.height).find((x) => x.id === m.signer);
    if (!v) return;
    const p = this.slot(m.height);
    if (p.refused.has(m.signer)) return;
    p.sigs.set(m.signer, { hash: m.hash, signature: m.signature });
    this.check(m.height);
  }

  private slot(h: bigint): Pending {
    let p = this.pending.get(h);
    if (!p) {
      p = { header: null, hash: null, sigs: new Map(), refused: new Set() };
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
        if (!v || !this.verifier.verify(v.publicKey, msg, s.signature)) {
          p.sigs.delete(signer);
          p.refused.add(signer);
          continue;
        }
        s.verified = true;
      }
      good.push({ signer, signature: s.signature });
    }
    if (good.length < quorum(validators.length)) return;
    good.sort((a, b) => a.signer - b.signer);
    this.certified({ header: p.header, signatures: good });
  }

  /** Stores a certificate, moves the gap past it, and wakes the calls waiting for it. */
  /** Resolves once every certificate stored so far is written (before a reload or a close). */
  async flushed(): Promise<void> {
    await Promise.all([...this.writes]);
  }

  private certified(cert: CertifiedHeader): void {
    const h = cert.header.height;
    this.pending.delete(h);
    if (h > this.latestCertified) this.latestCertified = h;
    this.done(h);
    // Not awaited: a certificate lost to a crash is fetched again by certificate sync.
    const stored = this.db.put(certKey(h), encodeCertifiedHeader(cert)).catch(() => undefined);
    this.writes.add(stored);
    void stored.then(() => this.writes.delete(stored));
    this.onCertified?.(cert);
    // A call waiting at a headerless height below h is answered with this certificate too.
    const woken: Array<() => void> = [];
    for (const [k, list] of this.waiters)
      if (k === h || (k < h && this.isCertified(k))) {
        this.waiters.delete(k);
        woken.push(...list);
      }
    // Wake them once the certificate can be read back.
    if (woken.length > 0) void stored.then(() => woken.forEach((wake) => wake()));
  }

  /** Moves the gap past `h`, which needs nothing more (certified, or headerless). */
  private done(h: bigint): void {
    if (h === this.gapFrom) {
      this.gapFrom++;
      while (this.certifiedAbove.delete(this.gapFrom)) this.gapFrom++;
    } else if (h > this.gapFrom) this.certifiedAbove.add(h);
  }

  /**
   * A height this node applied whose block carried no requests: it has no header (docs/protocol.md
   * §7), so there is nothing to certify and no signature round; the gap passes over it.
   */
  headerless(h: bigint): void {
    if (h > this.ownHeight) this.ownHeight = h;
    this.pending.delete(h);
    this.done(h);
  }

  /** The highest height this node applied and signed. */
  get ownHeightNow(): bigint {
    return this.ownHeight;
  }

  /**
   * Whether the certificate of `h` is stored here, `h` is headerless, or `h` is below what the node
   * looks after.
   */
  isCertified(h: bigint): boolean {
    return h < this.gapFrom || this.certifiedAbove.has(h);
  }

  /** The lowest height that may lack its certificate here (sync asks peers from there). */
  get missingFrom(): bigint {
    return this.gapFrom;
  }

  /**
   * Heights below `floor` are no longer looked after: the node keeps its own headers (to check a
   * synced certificate against) only so long.
   */
  forgetBelow(floor: bigint): void {
    if (floor <= this.gapFrom) return;
    this.gapFrom = floor;
    for (const h of this.certifiedAbove) if (h < floor) this.certifiedAbove.delete(h);
    while (this.certifiedAbove.delete(this.gapFrom)) this.gapFrom++;
  }

  /**
   * A certificate from certificate sync, for a height this node applied. Stored only when its
   * header is the node's own header of that height (`own`, read from the store when not pending)
   * and it carries 2f+1 valid signatures of that height's validator set. Returns a reason when
   * it was refused, null when stored (or when the height is certified here already).
   */
  adopt(c: CertifiedHeader, own: Header | undefined): string | null {
    const h = c.header.height;
    if (this.isCertified(h)) return null;
    if (h > this.ownHeight) return "a height this node has not applied";
    const mine = this.pending.get(h)?.hash ?? (own && headerHash(own));
    if (!mine) return "no own header at that height";
    if (!bytesEqual(mine, headerHash(c.header))) return "not this node's header at that height";
    const check = verifyCertificate(c, this.validatorsAt(h), this.verifier);
    if (!check.ok) return check.reason;
    this.certified(c);
    return null;
  }

  /** Own signatures of heights not certified yet, lowest first (to send again). */
  uncertified(max: number): Array<{ height: bigint; hash: Uint8Array; signature: Uint8Array }> {
    const out: Array<{ height: bigint; hash: Uint8Array; signature: Uint8Array }> = [];
    for (const h of [...this.pending.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (out.length >= max) break;
      const p = this.pending.get(h)!;
      const mine = p.hash && p.sigs.get(this.self);
      if (p.hash && mine) out.push({ height: h, hash: p.hash, signature: mine.signature });
    }
    return out;
  }

  /**
   * Resolves once the header at `h` is certified here — for a headerless `h`, the first header
   * after it — (true), or after `ms` (false). At once when it is already, and — so waiting stays
   * bounded — when MAX_HEADER_WAITERS calls wait already or `ms` is 0.
   */
  whenCertified(h: bigint, ms: number): Promise<boolean> {
    if (this.isCertified(h) && this.latestCertified >= h) return Promise.resolve(true);
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

  /**
   * Reads what is certified here: the newest certificate, and which heights from `floor` (the
   * oldest the node looks after) up to `height` (its store's) lack one.
   */
  async load(floor: bigint, height: bigint): Promise<void> {
    for await (const k of this.db.keys({
      gte: certKey(0n),
      lt: new Uint8Array([P_CERT + 1]),
      reverse: true,
      limit: 1,
    }))
      this.latestCertified = new Reader(k.subarray(1)).u64();
    this.gapFrom = floor;
    this.ownHeight = height;
    for await (const k of this.db.keys({ gte: certKey(floor), lt: certKey(height + 1n) })) {
      const h = new Reader(k.subarray(1)).u64();
      if (h === this.gapFrom) this.gapFrom++;
      else this.certifiedAbove.add(h);
    }
    while (this.certifiedAbove.delete(this.gapFrom)) this.gapFrom++;
  }
}
