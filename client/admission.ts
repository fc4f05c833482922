// Handing a signed request to the nodes that will order it: `want` of them must admit it (the SDK
// asks for one and hands the bytes on to more while no receipt comes, submit.ts); the
// write goes on as soon as ONE has admitted it: that node gossips it to the others. A node that has not answered
// within SUBMIT_ANSWER_MS is reported slow (the client avoids it for a while) and the request goes to
// the next node in its place; its call is left to finish or fail in the background.
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
  /** how many nodes should hold the request (f+1) */
  readonly want: number;
  readonly dl: Deadline;
  readonly execute: (node: number, timeoutMs: number) => Promise<AdmissionAck>;
  /** called for a node that did not answer within SUBMIT_ANSWER_MS */
  readonly slow: (node: number) => void;
}

/**
 * The first node that admitted the request (or had applied these very bytes already: "replay").
 * Fails with the first refusal when the nodes asked all refused, or client/unavailable when none
 * could be reached. Keeps handing it to more nodes in the background until `want` hold it.
 */
export function admitRequest(a: Admission): Promise<number> {
  return new Promise((resolve, reject) => {
    const refusals: AdmissionAck[] = [];
    const errors: string[] = [];
    let next = 0;
    let sent = 0;
    let settled = 0;
    let admitted = 0;
    let refused = 0;
    /** calls in flight that are not (yet) slow: nodes that may still admit it soon */
    let holding = 0;
    let done = false;
    const over = () => {
      if (done || settled < sent || admitted > 0) return;
      done = true;
      const r = refusals[0];
      if (r) return reject(new RequestRejected(r.reason, r.message || r.reason, a.id));
      reject(
        new UnavailableError(
          "client/unavailable",
          `no node admitted the request: ${errors.length ? errors.join("; ") : "no node to ask"}`,
        ),
      );
    };
    const topUp = () => {
      while (admitted + refused + holding < a.want && next < a.order.length && !a.dl.expired)
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
              refused++;
              refusals.push(ack);
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
          if (failed) topUp();
          else over();
        });
    };
    topUp();
  });
}
