// Writes and their receipts: signed request bytes handed to one node (and to one more every
// SUBMIT_FALLBACK_MS while no receipt has come), a receipt trusted once f+1 nodes signed the same
// one, and execute/transact on top (transact retries what a fresh read can overcome).

import { bytesEqual, toHex } from "../node/common/bytes.js";
import { decodeReceipt, receiptSigningMessage } from "../node/ledger/receipt.js";
import { decodeAnyRequest } from "../node/ledger/request.js";
import { verify } from "./crypto.js";
import { RequestRejected, UnavailableError, VerificationError } from "./errors.js";
import { Deadline, type CallOptions } from "./deadline.js";
import { admitRequest, SUBMIT_FALLBACK_MS } from "./admission.js";
import type { Membership } from "./membership.js";
import type { Session } from "./session.js";
import type { ExecuteOptions, TrustedReceipt } from "./types.js";
import { errorText } from "./verify.js";

/** Rejections a fresh read and a new request (new proof, new lifetime) can overcome. */
const RETRYABLE = new Set(["record-changed", "stale-root", "expired"]);
/**
 * How long after the first valid receipt the client waits for the other f of the first f+1 nodes
 * before asking every node (correct nodes apply a block within milliseconds of each other).
 */
const RECEIPT_HEDGE_MS = 250;
/** How long the first write may spend learning evictions before it is handed to the nodes. */
const MEMBERSHIP_REFRESH_MS = 2_000;

export class Submit {
  constructor(
    private readonly s: Session,
    private readonly membership: Membership,
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
   * Waits for f+1 equal, validly signed receipts for a request id. f+1 nodes are asked first
   * (`first`, the nodes that admitted the request, then others, nodes avoided for now last); the
   * remaining nodes are asked too once one of those fails, signs something else or answers
   * wrongly, or when the first valid receipt is not matched within RECEIPT_HEDGE_MS (a faulty node
   * among them may stay silent). Fails with client/no-receipt by the deadline (`opts`; a number:
   * milliseconds, the older form).
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
      this.s.genesis.nodes.filter((n) => !this.s.excluded.has(n.id)).map((n) => n.id),
    );
    const order = [...new Set([...first.filter((x) => live.includes(x)), ...live])];
    const initial = order.slice(0, need);
    const rest = order.slice(need);
    const byBytes = new Map<string, { bytes: Uint8Array; signers: number[] }>();
    const failed: string[] = [];
    const asked: number[] = [];
    dl.waitingFor("client/no-receipt", () => {
      const best = Math.max(0, ...[...byBytes.values()].map((e) => e.signers.length));
      return (
        `no receipt from f+1 = ${need} nodes for request ${toHex(id).slice(0, 16)}: ` +
        `asked nodes ${asked.join(", ")}, at most ${best} signed the same receipt` +
        (failed.length ? `; ${failed.join("; ")}` : "")
      );
    });
    return new Promise((resolve, reject) => {
      if (order.length === 0)
        return reject(new UnavailableError("client/no-receipt", "no receipt: every node is excluded"));
      let pending = 0;
      let done = false;
      let widened = false;
      let hedge: NodeJS.Timeout | undefined;
      const finish = (f: () => void) => {
        done = true;
        clearTimeout(hedge);
        f();
      };
      const widen = () => {
        if (widened || done) return;
        widened = true;
        clearTimeout(hedge);
        for (const nodeId of rest) ask(nodeId);
      };
      const ask = (nodeId: number) => {
        const n = this.s.genesis.nodes.find((x) => x.id === nodeId)!;
        pending++;
        asked.push(nodeId);
        this.s
          .node(nodeId)
          .waitReceipt(id, dl.cap(Infinity), dl.cap(Infinity))
          .then((r) => {
            if (done) return;
            if (r.node !== n.id || !verify(n.publicKey, receiptSigningMessage(r.receipt), r.signature)) {
              failed.push(`node ${nodeId} sent a receipt that is not its own`);
              return widen();
            }
            const k = toHex(r.receipt);
            const e = byBytes.get(k) ?? { bytes: r.receipt, signers: [] };
            e.signers.push(n.id);
            byBytes.set(k, e);
            if (e.signers.length < need) {
              if (byBytes.size > 1) widen();
              else hedge ??= setTimeout(widen, RECEIPT_HEDGE_MS);
              return;
            }
            const receipt = decodeReceipt(e.bytes);
            if (!bytesEqual(receipt.requestId, id))
              return finish(() =>
                reject(new VerificationError("client/bad-receipt", "receipt for another request")),
              );
            if (receipt.height > this.s.seenHeight) this.s.seenHeight = receipt.height;
            finish(() => resolve({ receipt, bytes: e.bytes, signers: e.signers }));
          })
          .catch((e: unknown) => {
            failed.push(`node ${nodeId}: ${errorText(e)}`);
            widen();
          })
          .finally(() => {
            if (--pending > 0 || done) return;
            widen();
            if (pending === 0) finish(() => reject(dl.error()));
          });
      };
      for (const nodeId of initial) ask(nodeId);
    });
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
