// Gathering the certificates of the node's own headers on the ledger channel, across restarts. After
// each sealed block the node broadcasts its header signature; peers' signatures come in and the
// certifier combines them. Every CERT_SYNC_INTERVAL_MS, own signatures of heights still uncertified
// since the last tick are sent again (a peer may have lost them in a crash), and when the lowest
// height without a certificate has not moved since the last tick, one peer (in turn) is asked for
// certified headers (node/cert-sync.ts); each one received is checked against the node's own header
// before it is kept. On restart, heights applied without a certificate are signed again. Peers'
// certificate requests are answered from storage within per-peer and total bounds.

import {
  CERT_PENDING_HEIGHTS,
  CERT_RESEND_HEIGHTS,
  CERT_SYNC_HEADERS,
  CERT_SYNC_IN_FLIGHT,
  CERT_SYNC_INTERVAL_MS,
  CERT_SYNC_PEER_INTERVAL_MS,
  MAX_LEDGER_FRAME_BYTES,
} from "./common/limits.js";
import { PeerReadLimit } from "./common/peer-read-limit.js";
import { decodeCertifiedHeader, headerSigningMessage } from "./ledger/header.js";
import type { GenesisNode } from "./ledger/genesis.js";
import {
  LEDGER_CERT_REPLY,
  LEDGER_CERT_REQUEST,
  LEDGER_HEADER_SIG,
  decodeCertReply,
  decodeCertRequest,
  encodeCertReply,
  encodeCertRequest,
} from "./cert-sync.js";
import { decodeHeaderSig, encodeHeaderSig, type HeaderCertifier } from "./certifier.js";
import { signWith, type KeyPair } from "./keys.js";
import { CHANNEL_LEDGER, type PeerNet } from "./net/peer-net.js";
import type { ReceiptStore } from "./receipt-store.js";
import type { Logger } from "./log.js";

export interface OwnSignature {
  readonly height: bigint;
  readonly hash: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Brings the certifier up to the store after a restart: heights without a certificate and without
 * an own header had empty blocks (nothing to certify there); heights applied with a header but no
 * certificate are signed again (Ed25519 is deterministic: the same signature as before).
 */
export async function resumeCertification(
  certifier: HeaderCertifier,
  receiptStore: ReceiptStore,
  storeHeight: bigint,
  me: { id: number; key: KeyPair },
): Promise<void> {
  const gap = certifier.missingFrom;
  if (gap <= storeHeight) {
    const headed = new Set((await receiptStore.headers(gap, storeHeight)).map((h) => h.height));
    for (let h = gap; h <= storeHeight; h++)
      if (!headed.has(h) && !certifier.isCertified(h)) certifier.headerless(h);
  }
  const resignFrom = storeHeight - BigInt(CERT_PENDING_HEIGHTS) + 1n;
  const resign = await receiptStore.headers(
    certifier.missingFrom > resignFrom ? certifier.missingFrom : resignFrom,
    storeHeight,
  );
  for (const h of resign)
    if (!certifier.isCertified(h.height)) certifier.own(h, me.id, signWith(me.key, headerSigningMessage(h)));
}

export interface CertificationDeps {
  readonly me: GenesisNode;
  /** the member id of a peer's key (hex), evicted or not: a signature counts under its signer's id */
  readonly idOfKey: (hex: string) => number | undefined;
  readonly net: PeerNet;
  readonly certifier: HeaderCertifier;
  readonly receiptStore: ReceiptStore;
  /** the newest height the node applied */
  readonly appliedHeight: () => bigint;
  readonly log: Logger;
}

export class Certification {
  private timer: NodeJS.Timeout | null = null;
  /** Heights whose own signature was pending at the last sync tick, and the gap then. */
  private staleSigs = new Set<bigint>();
  private lastMissing = -1n;
  private turn = 0;
  /** Bounds the storage reads peers' certificate requests cause. */
  private readonly reads = new PeerReadLimit(CERT_SYNC_IN_FLIGHT, CERT_SYNC_PEER_INTERVAL_MS, () =>
    Date.now(),
  );

  constructor(private readonly d: CertificationDeps) {}

  /** Sends the signatures still pending from before a restart and starts the sync ticks. */
  start(): void {
    for (const s of this.d.certifier.uncertified(CERT_PENDING_HEIGHTS)) this.send(s);
    this.timer = setInterval(() => this.tick(), CERT_SYNC_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Broadcasts the node's own signature of its header at a height. */
  send(s: OwnSignature): void {
    this.d.net.broadcast(
      CHANNEL_LEDGER,
      encodeHeaderSig({ height: s.height, hash: s.hash, signer: this.d.me.id, signature: s.signature }),
    );
  }

  /** One ledger-channel frame from a peer; a malformed one is dropped. */
  onFrame(from: string, payload: Uint8Array): void {
    try {
      if (payload.length > MAX_LEDGER_FRAME_BYTES) throw new RangeError("ledger frame too large");
      const kind = payload[0];
      if (kind === LEDGER_HEADER_SIG) {
        const m = decodeHeaderSig(payload);
        if (this.d.idOfKey(from) === m.signer) this.d.certifier.add(m);
      } else if (kind === LEDGER_CERT_REQUEST) {
        const q = decodeCertRequest(payload);
        // Each answer is a storage read: bounded per peer and in total (dropped past the bounds).
        this.reads.run(from, () =>
          this.d.certifier
            .range(q.from, q.count)
            .then((certs) => this.d.net.send(from, CHANNEL_LEDGER, encodeCertReply(certs), true)),
        );
      } else if (kind === LEDGER_CERT_REPLY) void this.adopt(from, decodeCertReply(payload));
      else throw new RangeError("unknown ledger frame kind");
    } catch {
      this.d.log.debug("malformed ledger frame", { from });
    }
  }

  private tick(): void {
    const pending = this.d.certifier.uncertified(CERT_RESEND_HEIGHTS);
    for (const s of pending) if (this.staleSigs.has(s.height)) this.send(s);
    this.staleSigs = new Set(pending.map((s) => s.height));
    const from = this.d.certifier.missingFrom;
    if (from <= this.d.appliedHeight() && from === this.lastMissing) this.ask(from);
    this.lastMissing = from;
  }

  private ask(from: bigint, peer?: string): void {
    const peers = this.d.net.connectedPeers();
    const to = peer ?? peers[this.turn++ % Math.max(1, peers.length)];
    if (to !== undefined)
      this.d.net.send(to, CHANNEL_LEDGER, encodeCertRequest({ from, count: CERT_SYNC_HEADERS }));
  }

  /** A certificate-sync reply: each certificate is checked against our own header before it is kept. */
  private async adopt(from: string, certs: readonly Uint8Array[]): Promise<void> {
    const certifier = this.d.certifier;
    try {
      for (const bytes of certs) {
        const c = decodeCertifiedHeader(bytes);
        const h = c.header.height;
        if (certifier.isCertified(h) || h > certifier.ownHeightNow) continue;
        const refused = certifier.adopt(c, await this.d.receiptStore.header(h));
        if (refused) this.d.log.debug("synced certificate refused", { from, height: h, refused });
      }
    } catch (e) {
      // A hostile or garbled answer: the rest of it is dropped, the node goes on.
      this.d.log.debug("malformed certificate reply", { from, error: String(e) });
      return;
    }
    // A full answer: there may be more to fetch from the same peer right away.
    const next = certifier.missingFrom;
    if (certs.length === CERT_SYNC_HEADERS && next <= this.d.appliedHeight()) this.ask(next, from);
  }
}
