// Handing a signed request to the nodes that will order it: `want` of them must admit it (the SDK
// asks for one and hands the bytes on to more while no receipt comes, submit.ts); the
// write goes on as soon as ONE has admitted it: that node gossips it to the others. A node that has not answered
// within SUBMIT_ANSWER_MS is reported slow (the client avoids it for a while) and the request goes to
// the next node in its place; its call is left to finish or fail in the background. A refusal is an
// unsigned answer of one node: the next node is asked in its place, and the write is refused only
// when `trust` (f+1) nodes refuse it for the same reason, one of them correct. (A lying node could
// otherwise pass the request on and answer "expired": a caller that re-signs would pay twice.)
import { RequestRejected, UnavailableError } from "./errors.js";
import type { Deadline } from "./deadline.js";

/** How long a node may take to admit a request before the next node is asked in its place. */
export const SUBMIT_ANSWER_MS = 400;
/**
 * How long a write waits for its receipt before the same bytes go to one more node (and again
 * after each further interval): what a node that admits requests and drops them can delay a write.
 */
export const SUBMIT_FALLBACK_MS = 2000;

export interface AdmissionAck {
  readonly accepted: boolean;
  readonly reason: string;
  readonly message: string;
}

export interface Admission {
  readonly id: Uint8Array;
  /** nodes to hand the request to, in this order (nodes avoided for now last) */
  readonly order: readonly number[];
  /** how many nodes should hold the request */
  readonly want: number;
  /** how many nodes must refuse it alike for the refusal to be believed (f+1) */
  readonly trust: number;
  readonly dl: Deadline;
  readonly execute: (node: number, timeoutMs: number) => Promise<AdmissionAck>;
  /** called for a node that did not answer within SUBMIT_ANSWER_MS */
  readonly slow: (node: number) => void;
}

/**
 * The first node that admitted the request (or had applied these very bytes already: "replay").
 * Fails with RequestRejected once `trust` nodes refused it for one reason, or client/unavailable
 * when no node admitted it and no refusal was shared by enough nodes (each refusal is named).
 * Keeps handing it to more nodes in the background until `want` hold it.
 */
export function admitRequest(a: Admission): Promise<number> {
  return new Promise((resolve, reject) => {
    const refusals = new Map<string, { ack: AdmissionAck; nodes: number[] }>();
    const errors: string[] = [];
    let next = 0;
    let sent = 0;
    let settled = 0;
    let admitted = 0;
    /** calls in flight that are not (yet) slow: nodes that may still admit it soon */
    let holding = 0;
    let done = false;
    /** a refusal was believed: nobody else is asked */
    let refused = false;
    const over = () => {
      if (done || settled < sent || admitted > 0) return;
      done = true;
      const named = [...refusals.values()].map(
        (r) =>
          `node${r.nodes.length > 1 ? "s" : ""} ${r.nodes.join(", ")} refused it (${r.ack.reason}${r.ack.message ? `: ${r.ack.message}` : ""})`,
      );
      const why = [...errors, ...named];
      reject(
        new UnavailableError(
          "client/unavailable",
          `no node admitted the request: ${why.length ? why.join("; ") : "no node to ask"}` +
            (named.length ? ` — a refusal counts once ${a.trust} nodes give it alike` : ""),
        ),
      );
    };
    const refuse = (node: number, ack: AdmissionAck) => {
      const r = refusals.get(ack.reason) ?? { ack, nodes: [] };
      r.nodes.push(node);
      refusals.set(ack.reason, r);
      if (r.nodes.length < a.trust || refused) return;
      refused = true;
      if (done) return;
      done = true;
      reject(new RequestRejected(r.ack.reason, r.ack.message || r.ack.reason, a.id));
    };
    const topUp = () => {
      while (admitted + holding < a.want && next < a.order.length && !a.dl.expired && !refused)
        send(a.order[next++]!);
      over();
    };
    const send = (node: number) => {
      sent++;
      holding++;
      let slow = false;
      const timer = setTimeout(() => {
        slow = true;
        holding--;
        a.slow(node);
        topUp();
      }, SUBMIT_ANSWER_MS);
      let failed = false;
      a.execute(node, a.dl.cap(Infinity))
        .then(
          (ack) => {
            if (ack.accepted || ack.reason === "replay") {
              admitted++;
              if (!done) {
                done = true;
                resolve(node);
              }
            } else {
              failed = true;
              refuse(node, ack);
            }
          },
          (e: unknown) => {
            failed = true;
            errors.push(`node ${node}: ${e instanceof Error ? e.message : String(e)}`);
          },
        )
        .finally(() => {
          clearTimeout(timer);
          if (!slow) holding--;
          settled++;
          // A node that refused or failed does not hold the request: the next one is asked.
          if (failed) topUp();
          else over();
        });
    };
    topUp();
  });
}
