// Requests a peer gossips are checked before they enter the broadcast's pool: form, bounds and
// signature (Ledger.signedAlright; lifetime and replay depend on how far this node has applied,
// and are left to the block). Honest nodes gossip only requests they admitted, so their gossip
// passes whole; a faulty member's junk is dropped here instead of filling the pool (crowding out
// clients' requests: `tob/pool-full`) and, through honest leaders' proposals, every node's blocks.
// A request verified once is not verified again, here or when its block is applied. Other
// consensus messages pass untouched.

import { decodeMessage, encodeMessage, KIND_TAGS } from "./tob/core/index.js";

/**
 * The consensus message to hand on: `bytes` itself when it is not a gossip of requests or every
 * request in it is admissible; a re-encoded gossip of the admissible ones; null when none is (or
 * it does not decode: the consensus would refuse it anyway).
 */
export function gateGossip(
  bytes: Uint8Array,
  admissible: (request: Uint8Array) => boolean,
): Uint8Array | null {
  if (bytes[1] !== KIND_TAGS.requests) return bytes;
  let requests: readonly Uint8Array[];
  try {
    const m = decodeMessage(bytes);
    if (m.kind !== "requests") return bytes;
    requests = m.requests;
  } catch {
    return null;
  }
  const kept = requests.filter(admissible);
  if (kept.length === requests.length) return bytes;
  return kept.length === 0 ? null : encodeMessage({ kind: "requests", requests: kept });
}
