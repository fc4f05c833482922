// Test-only crash points. A node started with the environment variable ARBOR_FAILPOINT set kills
// itself with SIGKILL (no cleanup, no flush: a kill -9 at an exact place) when a named point is
// reached for the n-th time since the process started:
//
//   ARBOR_FAILPOINT=after-commit:5            the 5th block whose store commit is durable
//   ARBOR_FAILPOINT=vote:3,receipt-serving:1  whichever of the two comes first
//
// Points (FAILPOINTS): admission (a request was admitted, before it reaches the consensus),
// proposal and vote (the consensus persisted a proposal or vote and hands it to the network; it is
// not sent yet), apply (in the middle of applying a block: its first requests ran, nothing is
// committed), after-commit (the block and its receipts are committed, its header is not signed),
// after-sign (the header is signed, the signature is not broadcast), receipt-serving (a receipt
// is about to be served for the first time), graft (a chunk of a prefix being taken on is in the
// tree, not yet committed), member-commit (a block that changed the membership is committed, the
// consensus is not told of the new validator set yet), snapshot-install (a joining node's store
// is written from a snapshot, its certificate and the end of the install are not). Unset, every check is one comparison with null.
// Never set in production.

import { ArborError } from "./common/errors.js";

export const FAILPOINTS = [
  "admission",
  "proposal",
  "vote",
  "apply",
  "after-commit",
  "after-sign",
  "receipt-serving",
  "graft",
  "member-commit",
  "snapshot-install",
] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

/** Parses "name:n[,name:n…]" into the count at which each point fires. */
export function parseFailpoints(spec: string): Map<Failpoint, number> {
  const out = new Map<Failpoint, number>();
  for (const part of spec.split(",")) {
    const [name, count] = part.trim().split(":");
    const n = Number(count);
    if (!FAILPOINTS.includes(name as Failpoint) || !Number.isInteger(n) || n < 1)
      throw new ArborError("failpoint/bad-spec", `ARBOR_FAILPOINT: "${part}" is not name:n (n ≥ 1)`);
    out.set(name as Failpoint, n);
  }
  return out;
}

const armed: Map<Failpoint, number> | null = process.env.ARBOR_FAILPOINT
  ? parseFailpoints(process.env.ARBOR_FAILPOINT)
  : null;

/** True when some failpoint is set: callers skip work that only serves a failpoint. */
export const failpointsArmed = armed !== null;

/** Counts one passage through `point`; kills the process on the configured passage. */
export function failpoint(point: Failpoint): void {
  if (armed === null) return;
  const left = armed.get(point);
  if (left === undefined) return;
  if (left > 1) armed.set(point, left - 1);
  else {
    process.stderr.write(`failpoint ${point} reached: SIGKILL\n`);
    process.kill(process.pid, "SIGKILL");
  }
}
