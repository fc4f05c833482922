// Writes and their receipts: signed request bytes handed to one node (and to one more every
// SUBMIT_FALLBACK_MS while no receipt has come), a receipt trusted from one node through the
// certified header of its height (or once f+1 nodes signed the same one), and execute/transact on top (transact retries what a fresh read can overcome).

import { toHex } from "../node/common/bytes.js";
import type { CertifiedHeader } from "../node/ledger/header.js";
import { decodeReceipt, receiptSigningMessage } from "../node/ledger/receipt.js";
import { decodeAnyRequest } from "../node/ledger/any-request.js";
import { verify } from "./crypto.js";
import { RequestRejected, UnavailableError } from "./errors.js";
import { checkAgainstHeader, openReceipt, outcomeByPath, type OpenedReceipt } from "./receipt-check.js";
import type { Headers } from "./headers.js";
import { Deadline, type CallOptions } from "./deadline.js";
import { admitRequest, SUBMIT_FALLBACK_MS } from "./admission.js";
import type { EvictionRecords } from "./membership.js";
import type { Session } from "./session.js";
import type { ExecuteOptions, TrustedReceipt } from "./types.js";
import { errorText } from "./verify.js";

/**
 * Rejections a fresh read and a new request (new proof, new lifetime) can overcome; a request cut
 * from a faulty leader's overfull block (`block-gas-full`) fits in a correct leader's.
 */
const RETRYABLE = new Set(["record-changed", "stale-root", "expired", "block-gas-full"]);
/**
 * How long after the first valid receipt the client waits for the other f of the first f+1 nodes
 * before asking every node (correct nodes apply a block within milliseconds of each other).
 */
const RECEIPT_HEDGE_MS = 250;
/**
 * How long a receipt is waited for from the nodes asked so far before one more is asked: what a
 * node that admits a request and never answers for it can delay a write (as SUBMIT_FALLBACK_MS).
 */
const RECEIPT_FALLBACK_MS = SUBMIT_FALLBACK_MS;
/** How long the first write may spend learning evictions before it is handed to the nodes. */
const MEMBERSHIP_REFRESH_MS = 2_000;

export class Submit {
  constructor(
    private readonly s: Session,
    private readonly membership: EvictionRecords,
    private readonly headers: Headers,
    /** The client's public prepare (a caller may wrap it). */
    private readonly prepare: (o: ExecuteOptions) => Promise<Uint8Array>,
  ) {}

  /**
   * Submits signed request bytes to one node (the next in a rotating order; nodes avoided for now
   * last; a node that does not answer within SUBMIT_ANSWER_MS is replaced at once) and waits for a
   * receipt signed alike by f+1 nodes. While no receipt has come, the same bytes go to one more
   * node every SUBMIT_FALLBACK_MS: a faulty node that admits a request and drops it delays it by
   * one interval and cannot censor it (at most f nodes are faulty). The same bytes reaching several
   * nodes are ordered once: the pool and the ledger key them by id. `opts` is the deadline (a
   * number: milliseconds, the older form).
   */
  async submit(request: Uint8Array, opts?: number | CallOptions): Promise<TrustedReceipt> {
    const dl = this.s.deadline(opts, "submit");
    return dl.run(this.submitWithin(request, dl));
  }

  async submitWithin(request: Uint8Array, dl: Deadline): Promise<TrustedReceipt> {
    const id = decodeAnyRequest(request).id;
    // Learn evictions once before the first write, so the request is not handed to a node the
    // cluster no longer listens to (best effort, and briefly: f+1 submission covers one such node).
    if (!this.s.membershipKnown) {
      this.s.membershipKnown = true;
      const brief = new Deadline(Math.min(dl.left / 2, MEMBERSHIP_REFRESH_MS), "refreshMembership");
      await brief.run(this.membership.refreshWithin(brief)).catch(() => undefined);
    }
    const order = this.s.penalties.order(this.s.liveOrder());
    dl.waitingFor(
      "client/unavailable",
      () => `no node admitted the request (asked nodes ${order.join(", ")})`,
    );
    const first = await admitRequest({
      id,
      order,
      want: 1,
      trust: this.s.f + 1,
      dl,
      execute: (node, ms) => this.s.node(node).execute(request, ms),
      slow: (node) => this.s.penalties.avoid(node),
    });
    const others = order.filter((n) => n !== first);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const handOn = (): void => {
      const node = others.shift();
      if (node === undefined || dl.expired) return;
      this.s
        .node(node)
        .execute(request, dl.cap(Infinity))
        .catch(() => undefined);
      timer = setTimeout(handOn, SUBMIT_FALLBACK_MS);
      timer.unref?.();
    };
    timer = setTimeout(handOn, SUBMIT_FALLBACK_MS);
    timer.unref?.();
    try {
      return await this.receiptWithin(id, dl, [first]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A trusted receipt for a request id (docs/protocol.md §6). The nodes that admitted the request
   * (`first`) are asked first, then the others (nodes avoided for now last), one more every
   * RECEIPT_FALLBACK_MS while none has given a receipt that verifies: a receipt whose inclusion
   * path leads to the receipt root of the certified header of its height is trusted from that one
   * node (the certificate is checked once per height per process). A node that fails, or sends a
   * receipt for another request or with a wrong path, is avoided for a while and the next is asked
   * at once. f+1 equal signed receipts are the other way: asked for when the client wants the
   * early answer (`earlyReceipts`), and needed for a refusal that does not settle a request by
   * itself (receipt-check.ts `outcomeByPath`). Fails with client/no-receipt by the deadline
   * (`opts`; a number: milliseconds, the older form).
   */
  async receipt(
    id: Uint8Array,
    opts?: number | CallOptions,
    first: readonly number[] = [],
  ): Promise<TrustedReceipt> {
    const dl = this.s.deadline(opts, "receipt");
    return dl.run(this.receiptWithin(id, dl, first));
  }

  private receiptWithin(id: Uint8Array, dl: Deadline, first: readonly number[]): Promise<TrustedReceipt> {
    const need = this.s.f + 1;
    const live = this.s.penalties.order(
      this.s.nodes.filter((n) => !this.s.excluded.has(n.id)).map((n) => n.id),
    );
    const order = [...new Set([...first.filter((x) => live.includes(x)), ...live])];
    let signed = this.s.earlyReceipts;
    const byBytes = new Map<string, { bytes: Uint8Array; signers: number[] }>();
    const failed: string[] = [];
    const asked: number[] = [];
    const waiting = () => {
      const best = Math.max(0, ...[...byBytes.values()].map((e) => e.signers.length));
      return (
        `no receipt for request ${toHex(id).slice(0, 16)} verified: asked nodes ${asked.join(", ")}` +
        (signed ? `, at most ${best} of f+1 = ${need} signed the same receipt` : "") +
        (failed.length ? `; ${failed.join("; ")}` : "")
      );
    };
    dl.waitingFor("client/no-receipt", waiting);
    return new Promise((resolve, reject) => {
      if (order.length === 0)
        return reject(new UnavailableError("client/no-receipt", "no receipt: every node is excluded"));
      let next = 0;
      let pending = 0;
      let done = false;
      let hedge: NodeJS.Timeout | undefined;
      const fallback = setInterval(() => askNext(), RECEIPT_FALLBACK_MS);
      fallback.unref?.();
      const finish = (f: () => void) => {
        done = true;
        clearTimeout(hedge);
        clearInterval(fallback);
        f();
      };
      const settle = (t: TrustedReceipt) => {
        if (t.receipt.height > this.s.seenHeight) this.s.seenHeight = t.receipt.height;
        finish(() => resolve(t));
      };
      const askNext = () => {
        if (done || dl.expired) return;
        const nodeId = order[next++];
        if (nodeId !== undefined) ask(nodeId);
      };
      const widen = () => {
        while (!done && !dl.expired && next < order.length) askNext();
      };
      const bad = (nodeId: number, why: string) => {
        failed.push(why);
        this.s.penalties.avoid(nodeId);
        askNext();
      };
      /** Switches to f+1 signed receipts: the first f+1 nodes are asked again, signed this time. */
      const needSignatures = () => {
        if (signed) return;
        signed = true;
        for (const nodeId of order.slice(0, need)) ask(nodeId);
        next = Math.max(next, need);
      };
      const countSigned = (nodeId: number, bytes: Uint8Array, signature: Uint8Array): boolean => {
        const n = this.s.nodes.find((x) => x.id === nodeId)!;
        if (!verify(n.publicKey, receiptSigningMessage(bytes), signature)) {
          bad(nodeId, `node ${nodeId} sent a receipt signature that does not verify`);
          return false;
        }
        const k = toHex(bytes);
        const e = byBytes.get(k) ?? { bytes, signers: [] };
        if (!e.signers.includes(nodeId)) e.signers.push(nodeId);
        byBytes.set(k, e);
        if (e.signers.length >= need) {
          settle({
            receipt: decodeReceipt(e.bytes),
            bytes: e.bytes,
            backing: "signatures",
            signers: e.signers,
            servedBy: e.signers,
          });
          return false;
        }
        if (byBytes.size > 1) widen();
        else hedge ??= setTimeout(widen, RECEIPT_HEDGE_MS);
        return true;
      };
      const ask = (nodeId: number) => {
        pending++;
        asked.push(nodeId);
        this.s
          .node(nodeId)
          .waitReceipt(id, dl.cap(Infinity), dl.cap(Infinity), signed)
          .then(async (r) => {
            if (done) return;
            if (r.node !== nodeId) return bad(nodeId, `node ${nodeId} sent a receipt that is not its own`);
            let o: OpenedReceipt;
            try {
              o = openReceipt(id, { ...r, node: nodeId });
            } catch (e) {
              return bad(nodeId, errorText(e));
            }
            if (r.signature.length > 0 && !countSigned(nodeId, r.receipt, r.signature)) return;
            // A refusal of one copy of the request is in its block's receipt root, but only the
            // receipt nodes keep (f+1 signed alike) says how the request ended.
            if (!outcomeByPath(o.receipt)) return needSignatures();
            const cert = await this.receiptHeader(o.receipt.height, nodeId, dl);
            dl.waitingFor("client/no-receipt", waiting);
            if (done) return;
            try {
              checkAgainstHeader(o, cert.header, nodeId);
            } catch (e) {
              return bad(nodeId, errorText(e));
            }
            settle({
              receipt: o.receipt,
              bytes: o.bytes,
              backing: "header",
              header: cert,
              signers: cert.signatures.map((x) => x.signer),
              servedBy: [nodeId],
            });
          })
          .catch((e: unknown) => {
            dl.waitingFor("client/no-receipt", waiting);
            failed.push(`node ${nodeId}: ${errorText(e)}`);
            askNext();
          })
          .finally(() => {
            if (--pending > 0 || done) return;
            widen();
            if (pending === 0) finish(() => reject(dl.error()));
          });
      };
      const initial = signed ? need : 1;
      for (let i = 0; i < initial; i++) askNext();
    });
  }

  /**
   * The certified header of a receipt's height, waited for until the deadline: a block's receipts
   * are served as soon as it is applied, its header is certified one signature exchange later.
   */
  private async receiptHeader(height: bigint, from: number, dl: Deadline): Promise<CertifiedHeader> {
    for (;;) {
      try {
        return await this.headers.certifiedWithin(height, from, dl);
      } catch (e) {
        if (!(e instanceof UnavailableError) || dl.expired) throw e;
        await dl.sleep(25);
      }
    }
  }

  /** Prepare + submit. Throws RequestRejected when the receipt says rejected. */
  async execute(o: ExecuteOptions): Promise<TrustedReceipt> {
    const dl = this.s.deadline(o, "execute");
    return dl.run(this.executeWithin(o, dl));
  }

  private async executeWithin(o: ExecuteOptions, dl: Deadline): Promise<TrustedReceipt> {
    // Through the public prepare (with the time left): a caller may wrap it, e.g. to sign with a
    // proof of its own on the first attempt.
    const r = await this.submitWithin(await this.prepare({ ...o, timeoutMs: dl.cap(Infinity) }), dl);
    if (r.receipt.status === "rejected")
      throw new RequestRejected(r.receipt.reason, r.receipt.message || r.receipt.reason, r.receipt.requestId);
    return r;
  }

  /**
   * Like execute, but re-reads and retries (up to `attempts` times, while the deadline allows)
   * when the proof went stale or a record changed.
   */
  async transact(o: Omit<ExecuteOptions, "proof">, attempts = 5): Promise<TrustedReceipt> {
    const dl = this.s.deadline(o, "transact");
    return dl.run(
      (async () => {
        for (let i = 1; ; i++) {
          try {
            return await this.executeWithin(o, dl);
          } catch (e) {
            if (i >= attempts || dl.expired || !(e instanceof RequestRejected) || !RETRYABLE.has(e.code))
              throw e;
          }
        }
      })(),
    );
  }
}
